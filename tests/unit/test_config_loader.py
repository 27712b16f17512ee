"""pipeline/config/loader.py: bundled names and paths, overrides, each key converted to its type, and every error a
user can make while loading (one line naming the key; exit 2 from the CLI)."""

from __future__ import annotations

import pytest

from pipeline.config.evaluation import Gates, Threshold
from pipeline.config.loader import CONFIG_DIR, bundled, config_path, from_dict, load_config
from pipeline.config.schema import ConfigError
from tests import support

BASE = "name: t\ntask: binary\nlabel: {column: y}\n"


def _write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def config_error(tmp_path, text: str) -> str:
    """The message of the ConfigError that loading `text` as a config file raises; it is one line."""
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, text))
    assert "\n" not in str(err.value)
    return str(err.value)


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


def test_dotted_overrides_replace_values():
    cfg = load_config("taxi", {"training.train_steps": 7, "evaluation.thresholds.auc.lower": 0.5})
    assert cfg.training.train_steps == 7
    assert cfg.evaluation.thresholds["auc"].lower == 0.5


def test_an_override_cannot_descend_into_a_value(tmp_path):
    with pytest.raises(ConfigError, match=r"override name.x: 'name' is not a section"):
        load_config("taxi", {"name.x": 1})


def test_names_and_paths_find_the_file(tmp_path):
    assert config_path(None) == CONFIG_DIR / "taxi.yaml"  # the default
    assert config_path("digits") == CONFIG_DIR / "digits.yaml"
    assert bundled() == "digits, taxi"
    with pytest.raises(ConfigError, match=r"config file .*absent.yaml does not exist; give a bundled name"):
        config_path(tmp_path / "absent.yaml")


def test_sections_convert_to_their_types(tmp_path):
    cfg = load_config(
        _write(
            tmp_path,
            BASE
            + "features: {include: x, categorical: [c], bucketize: {b: 4}}\n"
            + "evaluation: {thresholds: {auc: 0.7}, change_thresholds: {auc: 0}, slices: s,\n"
            + "  by_family: {dnn: {thresholds: {auc: {upper: 0.99}}}}}\n",
        )
    )
    assert cfg.features.include == ("x",) and cfg.features.categorical == ("c",) and cfg.features.bucketize == {"b": 4}
    assert cfg.evaluation.thresholds == {"auc": Threshold(lower=0.7)}  # a bare number is a lower bound
    assert cfg.evaluation.change_thresholds == {"auc": 0.0} and cfg.evaluation.slices == ("s",)
    assert cfg.evaluation.by_family == {"dnn": Gates(thresholds={"auc": Threshold(upper=0.99)})}
    assert cfg.source == str(tmp_path / "c.yaml")


def test_relative_data_and_schema_paths_are_relative_to_the_config(tmp_path):
    (tmp_path / "s.pbtxt").write_text("")
    cfg = load_config(_write(tmp_path, BASE + "data: d\nschema: s.pbtxt\n"))
    assert cfg.data == str(tmp_path / "d") and cfg.schema == str(tmp_path / "s.pbtxt")
    # A schema not beside the config is looked up in the project (the bundled configs name schemas/...).
    assert from_dict({"name": "t", "task": "binary", "label": {"column": "y"}, "schema": "schemas/taxi/schema.pbtxt"},
                     base_dir=tmp_path).schema_path.is_file()




@pytest.mark.parametrize(
    "extra, message",
    [
        ("colour: red\n", "unknown key 'colour'"),
        ("training: {train_stepz: 3}\n", "unknown key 'train_stepz'"),
        ("training: {train_steps: -1}\n", "training.train_steps: expected an integer ≥ 1"),
        ("schema: nowhere/schema.pbtxt\n", "schema: nowhere/schema.pbtxt does not exist"),
        ("split_buckets: {train: 2}\n", "split_buckets: expected {train: N, eval: M}"),
        ("split_buckets: {train: 2, eval: 0}\n", "split_buckets.eval: expected an integer ≥ 1"),
        ("training: {seed: -3}\n", "training.seed: expected an integer ≥ 0"),
        ("training: {warm_start: yes please}\n", "training.warm_start: expected true or false"),
        ("training: [1, 2]\n", "training: expected a mapping, got list"),
        ("features: {exclude: [1]}\n", "features.exclude: expected a list of column names"),
        ("features: {bucketize: {b: 1}}\n", "features.bucketize.b: expected an integer ≥ 2"),
        ("evaluation: {thresholds: {auc: {}}}\n", "evaluation.thresholds.auc: give a lower and/or an upper bound"),
        ("evaluation: {thresholds: {auc: {lower: high}}}\n", "evaluation.thresholds.auc.lower: expected a number"),
        ("evaluation: {change_thresholds: {auc: worse}}\n", "evaluation.change_thresholds: expected a mapping"),
        ("evaluation: {by_family: [cnn]}\n", "evaluation.by_family: expected a mapping of model family"),
    ],
)
def test_config_errors_name_the_key(tmp_path, extra, message):
    assert message in config_error(tmp_path, BASE + extra)


def test_missing_required_key_and_a_top_level_that_is_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="missing required key 'label'"):
        load_config(_write(tmp_path, "name: t\ntask: binary\n"))
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))


def test_unknown_config_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "name: [t\n"))
    with pytest.raises(ConfigError, match="unknown config 'nope'"):
        load_config("nope")


def test_cli_rejects_unknown_key(tmp_path):
    line = support.one_line_error(support.cli(["run", "--set", "trainingg.epochs=2", "--home", tmp_path]))
    assert "unknown key 'trainingg'" in line


def test_cli_rejects_missing_data_dir(tmp_path):
    line = support.one_line_error(support.cli(["run", "--data", tmp_path / "absent", "--home", tmp_path]))
    assert "absent does not exist" in line


def test_cli_rejects_label_not_in_data(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "x.csv").write_text("fare,company\n1.0,a\n")
    line = support.one_line_error(support.cli(["run", "--data", data, "--home", tmp_path]))
    assert "label column 'tips' is not in" in line and "fare, company" in line
