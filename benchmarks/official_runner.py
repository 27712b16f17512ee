"""Runs the official TFX Chicago taxi example (`taxi_pipeline_native_keras.py` of the installed tfx) as it ships.

    python -m benchmarks.official_runner --root DIR

Its model code is unchanged: `_create_pipeline` of the installed example with the installed
`taxi_utils_native_keras.py` as module file, the installed `data/simple` CSV, and the example's own Beam arguments
(`_beam_pipeline_args`: multi-processing DirectRunner, one worker per CPU), run by `BeamDagRunner` exactly as the
example's `__main__` does. Only the output locations move under DIR:

    DIR/pipeline_root   artifacts
    DIR/metadata.db     MLMD (SQLite)
    DIR/serving_model   Pusher destination (<DIR>/serving_model/<version>)

Nothing from this project is imported: the official example runs on TFX alone.
"""

import os

# TFX 1.16's Keras code paths need Keras 2 (tf-keras); must be set before TensorFlow is first imported. The caller
# sets it too, so Beam worker processes inherit it either way.
os.environ["TF_USE_LEGACY_KERAS"] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def locations(root: Path) -> dict:
    return {
        "pipeline_root": root / "pipeline_root",
        "metadata_path": root / "metadata.db",
        "serving_model_dir": root / "serving_model",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True, help="directory for pipeline_root, metadata.db, serving_model")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)

    import absl
    from tfx.examples.chicago_taxi_pipeline import taxi_pipeline_native_keras as official
    from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

    example_dir = Path(official.__file__).resolve().parent
    data_root = example_dir / "data" / "simple"
    module_file = example_dir / "taxi_utils_native_keras.py"
    where = locations(root)
    print(f"official example: {official.__file__}", flush=True)
    print(f"data_root={data_root} module_file={module_file} beam_pipeline_args={official._beam_pipeline_args}",
          flush=True)

    # As the example's __main__, with the paths under DIR.
    absl.logging.set_verbosity(absl.logging.INFO)
    BeamDagRunner().run(
        official._create_pipeline(  # pylint: disable=protected-access
            pipeline_name=official._pipeline_name,  # pylint: disable=protected-access
            pipeline_root=str(where["pipeline_root"]),
            data_root=str(data_root),
            module_file=str(module_file),
            metadata_path=str(where["metadata_path"]),
            serving_model_dir=str(where["serving_model_dir"]),
            beam_pipeline_args=official._beam_pipeline_args,  # pylint: disable=protected-access
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
