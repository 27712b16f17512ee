"""Config loading, overrides and every error a user can make (one clear line, exit 2 from the CLI)."""

from __future__ import annotations

import pytest

from pipeline.config.loader import load_config
from pipeline.config.schema import ConfigError
from tests import support


def test_bundled_taxi_config_loads_with_its_schema_and_package_data():
    cfg = load_config("taxi")
    assert cfg.name == "taxi" and cfg.task == "binary"
    assert cfg.label.key == "big_tipper" and cfg.label.fn == "trainer_module.labels.taxi_big_tipper"
    assert cfg.schema_path.name == "schema.pbtxt" and cfg.schema_path.is_file()
    assert (cfg.data_dir / "data.csv").is_file()  # found inside the installed tfx package
    assert cfg.evaluation.thresholds["auc"].lower == 0.9
    assert cfg.features.bucketize["pickup_latitude"] == 10


def test_taxi_uses_tfx_default_split_and_a_fixed_seed():
    cfg = load_config("taxi")
    # The official TFX taxi example's split (CsvExampleGen's default): the benchmarks compare on the same rows.
    assert cfg.split_buckets == {"train": 2, "eval": 1}
    assert cfg.training.seed == 42
    assert load_config("taxi", {"training.seed": None}).training.seed is None


def test_split_buckets_reach_csv_example_gen(tmp_path):
    from pipeline.dag.factory import _example_gen, Locations

    where = Locations(data=str(tmp_path), pipeline_root=str(tmp_path / "root"), serving_dir=str(tmp_path / "s"))
    for cfg, expected in (
        (load_config("taxi"), [("train", 2), ("eval", 1)]),
        (load_config("taxi", {"split_buckets": None, "eval_split_percent": 25}), [("train", 75), ("eval", 25)]),
    ):
        gen = _example_gen(cfg, where)
        splits = gen.exec_properties["output_config"]
        import json

        parsed = json.loads(splits) if isinstance(splits, str) else None
        got = [(s["name"], s["hash_buckets"]) for s in parsed["split_config"]["splits"]] if parsed else [
            (s.name, s.hash_buckets) for s in splits.split_config.splits
        ]
        assert got == expected


def test_dotted_overrides_replace_values():
    cfg = load_config("taxi", {"training.train_steps": 7, "evaluation.thresholds.auc.lower": 0.5})
    assert cfg.training.train_steps == 7
    assert cfg.evaluation.thresholds["auc"].lower == 0.5


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


BASE = "name: t\ntask: binary\nlabel: {column: y}\n"


@pytest.mark.parametrize(
    "extra, message",
    [
        ("colour: red\n", "unknown key 'colour'"),
        ("training: {train_stepz: 3}\n", "unknown key 'train_stepz'"),
        ("training: {train_steps: -1}\n", "training.train_steps: expected an integer ≥ 1"),
        ("evaluation: {thresholds: {mse: {lower: 1}}}\n", "metric 'mse' is not computed for binary"),
        ("model: {family: transformer}\n", "model family 'transformer' is unknown"),
        ("features: {categorical: [a], bucketize: {a: 3}}\n", "both categorical and bucketized"),
        ("schema: nowhere/schema.pbtxt\n", "schema: nowhere/schema.pbtxt does not exist"),
        ("split_buckets: {train: 2}\n", "split_buckets: expected {train: N, eval: M}"),
        ("split_buckets: {train: 2, eval: 0}\n", "split_buckets.eval: expected an integer ≥ 1"),
        ("example_gen: digits\nsplit_buckets: {train: 2, eval: 1}\n", "split_buckets applies to example_gen: csv"),
        ("training: {seed: -3}\n", "training.seed: expected an integer ≥ 0"),
    ],
)
def test_config_errors_name_the_key(tmp_path, extra, message):
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, BASE + extra))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_label_needs_exactly_one_source(tmp_path):
    with pytest.raises(ConfigError, match="exactly one of 'column' or 'fn'"):
        load_config(_write(tmp_path, "name: t\ntask: binary\nlabel: {column: y, fn: a.b, inputs: [y], name: z}\n"))
    with pytest.raises(ConfigError, match="label.fn needs label.inputs"):
        load_config(_write(tmp_path, "name: t\ntask: binary\nlabel: {fn: a.b, name: z}\n"))


def test_unknown_task_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="task must be one of binary, multiclass, regression"):
        load_config(_write(tmp_path, "name: t\ntask: ranking\nlabel: {column: y}\n"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "name: [t\n"))
    with pytest.raises(ConfigError, match="unknown config 'nope'"):
        load_config("nope")


def _one_line_exit_2(result):
    assert result.code == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("tfx-e2e: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_cli_rejects_unknown_key(tmp_path):
    line = _one_line_exit_2(support.cli(["run", "--set", "trainingg.epochs=2", "--home", tmp_path]))
    assert "unknown key 'trainingg'" in line


def test_cli_rejects_missing_data_dir(tmp_path):
    line = _one_line_exit_2(support.cli(["run", "--data", tmp_path / "absent", "--home", tmp_path]))
    assert "absent does not exist" in line


def test_cli_rejects_label_not_in_data(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "x.csv").write_text("fare,company\n1.0,a\n")
    line = _one_line_exit_2(support.cli(["run", "--data", data, "--home", tmp_path]))
    assert "label column 'tips' is not in" in line and "fare, company" in line
