"""pipeline/dag/tfx_api.py: TFX's own public objects, without importing tfx.v1's cloud extensions for local runs."""

from __future__ import annotations


def test_tfx_api_names_are_tfx_v1s_own_objects():
    from tfx import v1

    from pipeline.dag import tfx_api

    assert tfx_api.dsl.Pipeline is v1.dsl.Pipeline and tfx_api.dsl.Resolver is v1.dsl.Resolver
    assert tfx_api.dsl.Channel is v1.dsl.Channel
    assert tfx_api.dsl.experimental.LatestBlessedModelStrategy is v1.dsl.experimental.LatestBlessedModelStrategy
    for name in ("Output", "SplitConfig", "TrainArgs", "EvalArgs"):
        assert getattr(tfx_api.proto, name) is getattr(v1.proto, name)
    for name in ("CsvExampleGen", "StatisticsGen", "SchemaGen", "ImportSchemaGen", "ExampleValidator", "Transform",
                 "Trainer", "Tuner", "Evaluator", "Pusher"):
        assert getattr(tfx_api.components, name) is getattr(v1.components, name)
    assert tfx_api.types.standard_artifacts.Model is v1.types.standard_artifacts.Model
    assert tfx_api.extensions.google_cloud_ai_platform is v1.extensions.google_cloud_ai_platform


def test_a_local_pipeline_does_not_import_the_cloud_extensions():
    import subprocess
    import sys

    code = ("import trainer_module, sys; from pipeline.config.loader import load_config; "
            "from pipeline.dag.factory import create_pipeline; "
            "from pipeline.dag.targets import LocalTarget, Locations; "
            "create_pipeline(load_config('taxi'), Locations(data='/d', pipeline_root='/r', serving_dir='/s'), "
            "LocalTarget()); "
            "print(sorted(m for m in sys.modules if m.startswith(('tfx.v1', 'google.cloud.aiplatform'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
