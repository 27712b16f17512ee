"""The official TFX Chicago taxi example against `tfx-e2e run` on the same machine, alternating A B A B.

    python -m benchmarks.side_by_side [--pairs N] [--work DIR] [--keep]

A = the official `taxi_pipeline_native_keras.py` of the installed tfx, model code unchanged
    (benchmarks/official_runner.py), in a fresh directory, with TF_USE_LEGACY_KERAS=1.
B = `tfx-e2e run --home <fresh dir>`: our default config, nothing else.

For every run: wall seconds, CPU utilisation and peak RSS of the whole process tree (common.run_monitored),
per-component seconds from its MLMD store, and the quality of the model it produced: AUC and accuracy at 0.5 of its
`serving_default` on THE SAME rows for every model, the eval split of the first official run's CsvExampleGen output,
labelled tips > 0.2 * fare (benchmarks/quality.py). Whether our ExampleGen's eval split holds exactly the same
tf.Examples as the official one is checked and reported (`same_eval_rows`), never assumed. The check compares
content (parsed and re-serialized deterministically): the raw records of two CsvExampleGen runs over the same CSV
differ in feature-map order, so raw bytes are reported separately (`same_eval_bytes`).

Writes benchmarks/results/side_by_side.json. Each run's directory is deleted once its numbers are read (the logs
stay under the work directory) unless --keep.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import Optional

from benchmarks import quality  # first: sets TF_USE_LEGACY_KERAS=1 before anything imports TensorFlow
from benchmarks.common import (
    PYTHON,
    REPO,
    component_seconds,
    env_with,
    fresh_dir,
    machine,
    median,
    run_monitored,
    tfx_e2e,
    write_json,
)
from components.atomic_pusher import layout

OFFICIAL = "official"
OURS = "ours"
OFFICIAL_PIPELINE = "chicago_taxi_native_keras"
OUR_MODEL_NAME = "taxi"  # serving_model_name of our default (taxi) config: <home>/serving/taxi/<version>


# ------------------------------------------------------------------------------------------------ one run's outputs


def _newest_run_nodes(metadata_path: Path) -> dict:
    """node_id -> NodeExecution of the newest run in an MLMD SQLite file (one pipeline)."""
    from pipeline.metadata import runs
    from pipeline.metadata.store import open_store, sqlite_config

    store = open_store(sqlite_config(metadata_path, create=False))
    names = runs.pipeline_names(store)
    if len(names) != 1:
        raise ValueError(f"{metadata_path}: expected one pipeline, found {names}")
    run_ids = runs.run_ids(store, names[0])
    if not run_ids:
        raise ValueError(f"{metadata_path}: pipeline {names[0]} has no runs")
    return runs.node_executions(store, names[0], run_ids[-1])


def _example_gen_uri(nodes: dict) -> str:
    gens = [n for node_id, n in nodes.items() if node_id.endswith("ExampleGen") and "examples" in n.outputs]
    if len(gens) != 1:
        raise ValueError(f"expected one ExampleGen with an `examples` output, found {sorted(nodes)}")
    return gens[0].outputs["examples"][0].uri


def _trainer_model_dir(nodes: dict) -> Optional[Path]:
    trainer = nodes.get("Trainer")
    if trainer is None or "model" not in trainer.outputs:
        return None
    path = Path(trainer.outputs["model"][0].uri) / "Format-Serving"
    return path if (path / "saved_model.pb").is_file() else None


def _newest_version(base: Path) -> Optional[Path]:
    """The highest numeric subdirectory holding a SavedModel (`.tmp-*` and other names are skipped)."""
    if not base.is_dir():
        return None
    versions = layout.numeric_versions(base, complete=True)
    return Path(versions[-1].path) if versions else None


def _canonical(serialized: list[bytes]) -> Counter:
    """Multiset of examples in a byte form that depends on content only: the feature map's order in the files
    CsvExampleGen writes differs from process to process, so equal examples need not be equal bytes."""
    import tensorflow as tf

    return Counter(tf.train.Example.FromString(b).SerializeToString(deterministic=True) for b in serialized)


def compare_rows(reference: dict[str, list[bytes]], other: dict[str, list[bytes]]) -> dict:
    """Eval split (and all splits together) of two ExampleGen outputs compared as multisets of tf.Examples
    (content, via deterministic serialization); the raw-bytes comparison is reported alongside."""
    ref_eval, oth_eval = _canonical(reference["eval"]), _canonical(other["eval"])
    ref_all = ref_eval + _canonical(reference["train"])
    oth_all = oth_eval + _canonical(other["train"])
    return {
        "same_eval_rows": ref_eval == oth_eval,
        "reference_eval_rows": sum(ref_eval.values()),
        "eval_rows": sum(oth_eval.values()),
        "common_eval_rows": sum((ref_eval & oth_eval).values()),
        "same_all_rows": ref_all == oth_all,  # the same examples, however they were split
        "reference_all_rows": sum(ref_all.values()),
        "all_rows": sum(oth_all.values()),
        "common_all_rows": sum((ref_all & oth_all).values()),
        "same_eval_bytes": Counter(reference["eval"]) == Counter(other["eval"]),
        "common_eval_bytes": sum((Counter(reference["eval"]) & Counter(other["eval"])).values()),
    }


# ------------------------------------------------------------------------------------------------ one run


def _command(side: str, run_dir: Path) -> tuple[list[str], dict]:
    if side == OFFICIAL:
        argv = [PYTHON, "-m", "benchmarks.official_runner", "--root", str(run_dir)]
    else:
        argv = tfx_e2e("run", "--home", str(run_dir))
    # PYTHONPATH: `benchmarks` is not an installed package and the commands run inside their own directory.
    # TMPDIR inside the run dir: TFX copies its whole package to a temp dir before each Beam component of the
    # official example (an ephemeral sdist; ours skips it) and never removes it; the run dir is deleted afterwards.
    tmp = run_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return argv, env_with(TF_USE_LEGACY_KERAS="1", PYTHONPATH=str(REPO), TMPDIR=str(tmp))


def run_one(side: str, index: int, work: Path, reference: Optional[dict], keep: bool) -> tuple[dict, Optional[dict]]:
    """Runs one side once; returns (its record, its ExampleGen rows {"train", "eval"} or None)."""
    run_dir = fresh_dir(side, work)
    argv, env = _command(side, run_dir)
    print(f"[{side} #{index}] {' '.join(argv)}", flush=True)
    result = run_monitored(argv, work / "logs" / f"{index:02d}-{side}.log", env=env, cwd=run_dir)
    record: dict = {"side": side, "pair": index, "dir": str(run_dir), "argv": argv, **result.summary()}
    print(f"[{side} #{index}] rc={result.returncode} wall={result.wall_seconds:.1f}s "
          f"cpu={result.cpu_utilisation:.2f} rss={result.peak_rss_bytes / 2**20:.0f}MB", flush=True)
    rows = None
    metadata = run_dir / ("metadata.db" if side == OFFICIAL else "metadata.sqlite")
    try:
        components = component_seconds(metadata)
        record["components"] = {
            node: {"seconds": c["seconds"], "state": c["state"], **result.window(c["start"], c["end"])}
            for node, c in sorted(components.items(), key=lambda kv: kv[1]["start"])
        }
        nodes = _newest_run_nodes(metadata)
        examples_uri = _example_gen_uri(nodes)
        rows = {split: quality.eval_split_examples(examples_uri, split) for split in ("train", "eval")}
        record["eval_rows"] = len(rows["eval"])
        record["train_rows"] = len(rows["train"])
        if reference is not None:
            record["rows_vs_official"] = compare_rows(reference, rows)

        pushed = _newest_version(run_dir / "serving_model" if side == OFFICIAL else run_dir / "serving" / OUR_MODEL_NAME)
        model_dir = pushed or _trainer_model_dir(nodes)
        record["pushed"] = pushed is not None
        record["model_dir"] = str(model_dir) if model_dir else None
        # Every model on the official eval split; the first official run is its own reference.
        evaluate_on = reference if reference is not None else (rows if side == OFFICIAL else None)
        if model_dir is None:
            record["quality_error"] = "no pushed model and no Trainer model"
        elif evaluate_on is None:
            record["quality_error"] = "no official run's eval split to evaluate on (the official run failed)"
        else:
            try:
                labels = quality.big_tipper_labels(evaluate_on["eval"])
                record["quality"] = quality.evaluate(model_dir, evaluate_on["eval"], labels)
            except Exception as err:  # pylint: disable=broad-except  (reported, the other runs go on)
                record["quality_error"] = f"{type(err).__name__}: {err}"
    except Exception as err:  # pylint: disable=broad-except
        record["read_error"] = f"{type(err).__name__}: {err}"
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
        record["dir_deleted"] = True
    q = record.get("quality")
    print(f"[{side} #{index}] " + (f"auc={q['auc']} accuracy={q['accuracy']} rows={q['rows']} "
                                   f"output={q['signature']['output']}" if q else
                                   record.get("quality_error") or record.get("read_error", "")), flush=True)
    return record, rows


# ------------------------------------------------------------------------------------------------ summary


def _spread(values: list[float]) -> dict:
    if not values:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": round(median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2),
            "n": len(values)}


def _side_summary(records: list[dict]) -> dict:
    ok = [r for r in records if r["returncode"] == 0]
    nodes: dict[str, list[float]] = {}
    for r in ok:
        for node, c in r.get("components", {}).items():
            nodes.setdefault(node, []).append(c["seconds"])
    aucs = [r["quality"]["auc"] for r in ok if "quality" in r]
    accs = [r["quality"]["accuracy"] for r in ok if "quality" in r]
    return {
        "runs": len(records),
        "failed_runs": len(records) - len(ok),
        "wall_seconds": _spread([r["wall_seconds"] for r in ok]),
        "cpu_utilisation_median": round(median([r["cpu_utilisation"] for r in ok]), 3) if ok else None,
        "cpu_seconds_median": round(median([r["cpu_seconds"] for r in ok]), 2) if ok else None,
        "peak_rss_mb_median": round(median([r["peak_rss_mb"] for r in ok]), 1) if ok else None,
        "component_seconds_median": {n: round(median(v), 2) for n, v in nodes.items()},
        "auc": aucs,
        "accuracy": accs,
        "auc_median": round(median(aucs), 5) if aucs else None,
        "accuracy_median": round(median(accs), 5) if accs else None,
        "pushed": [r.get("pushed") for r in ok],
        "signature": next((r["quality"]["signature"] for r in ok if "quality" in r), None),
    }


def summarise(records: list[dict]) -> dict:
    official = _side_summary([r for r in records if r["side"] == OFFICIAL])
    ours = _side_summary([r for r in records if r["side"] == OURS])
    a, b = official["wall_seconds"]["median"], ours["wall_seconds"]["median"]
    comparisons = [r["rows_vs_official"] for r in records if r["side"] == OURS and "rows_vs_official" in r]
    repeats = [r["rows_vs_official"] for r in records if r["side"] == OFFICIAL and "rows_vs_official" in r]
    return {
        OFFICIAL: official,
        OURS: ours,
        "wall_ratio_ours_over_official": round(b / a, 3) if a and b else None,
        "eval_rows": {
            # Our eval split against the official one (every model is evaluated on the official eval split).
            "same_eval_rows": all(c["same_eval_rows"] for c in comparisons) if comparisons else None,
            "official_eval_rows": comparisons[0]["reference_eval_rows"] if comparisons else None,
            "ours_eval_rows": [c["eval_rows"] for c in comparisons],
            "common_eval_rows": [c["common_eval_rows"] for c in comparisons],
            "same_all_rows": all(c["same_all_rows"] for c in comparisons) if comparisons else None,
            "same_eval_bytes": all(c["same_eval_bytes"] for c in comparisons) if comparisons else None,
            "compared_as": "tf.Example content (deterministic serialization); *_bytes: the files' raw records",
            "official_runs_same_eval_rows": all(c["same_eval_rows"] for c in repeats) if repeats else None,
            "evaluated_on": "eval split of the first official run's CsvExampleGen output",
        },
    }


# ------------------------------------------------------------------------------------------------ entry points


def run(pairs: int = 3, work: Optional[Path] = None, keep: bool = False) -> dict:
    work = Path(work) if work is not None else fresh_dir("side-by-side")
    work.mkdir(parents=True, exist_ok=True)
    records: list[dict] = []
    reference: Optional[dict] = None  # ExampleGen rows of the first official run
    for index in range(pairs):
        for side in (OFFICIAL, OURS):
            record, rows = run_one(side, index, work, reference, keep)
            records.append(record)
            if side == OFFICIAL and reference is None and rows is not None:
                reference = rows
                record["eval_reference"] = True
    data = {
        "pairs": pairs,
        "work": str(work),
        "commands": {OFFICIAL: _command(OFFICIAL, Path("DIR"))[0], OURS: _command(OURS, Path("DIR"))[0]},
        "runs": records,
        "summary": summarise(records),
        "machine": machine(),
    }
    data["path"] = str(write_json("side_by_side", data))
    return data


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="official/ours pairs, run alternately (default 3)")
    parser.add_argument("--work", type=Path, default=None, help="where run directories and logs go (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep each run's directory")
    args = parser.parse_args(argv)
    data = run(args.pairs, args.work, args.keep)
    print(json.dumps({"summary": data["summary"], "machine": data["machine"]}, indent=2, default=str))
    print(f"wrote {data['path']}")
    return 0 if all(r["returncode"] == 0 for r in data["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
