"""The part of TFX's public `tfx.v1` API that the DAG builders use, imported without `tfx.v1` itself.

`from tfx import v1` also imports `tfx.v1.extensions` (Vertex AI, BigQuery, Pub/Sub clients): about 1 s of every
run, measured, for code only a Vertex AI pipeline calls. The names below are the very objects tfx.v1 exports
(tests/unit/test_dag_tfx_api.py checks it); `extensions` is imported on first use.
"""

from __future__ import annotations

from types import SimpleNamespace

from tfx.components.evaluator.component import Evaluator
from tfx.components.example_gen.csv_example_gen.component import CsvExampleGen
from tfx.components.example_validator.component import ExampleValidator
from tfx.components.pusher.component import Pusher
from tfx.components.schema_gen.component import SchemaGen
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.components.statistics_gen.component import StatisticsGen
from tfx.components.trainer.component import Trainer
from tfx.components.transform.component import Transform
from tfx.components.tuner.component import Tuner
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import LatestBlessedModelStrategy
from tfx.orchestration.pipeline import Pipeline
from tfx.proto import example_gen_pb2, trainer_pb2
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

components = SimpleNamespace(
    CsvExampleGen=CsvExampleGen,
    StatisticsGen=StatisticsGen,
    SchemaGen=SchemaGen,
    ImportSchemaGen=ImportSchemaGen,
    ExampleValidator=ExampleValidator,
    Transform=Transform,
    Trainer=Trainer,
    Tuner=Tuner,
    Evaluator=Evaluator,
    Pusher=Pusher,
)
dsl = SimpleNamespace(
    Pipeline=Pipeline,
    Resolver=Resolver,
    Channel=Channel,
    experimental=SimpleNamespace(LatestBlessedModelStrategy=LatestBlessedModelStrategy),
)
proto = SimpleNamespace(
    Output=example_gen_pb2.Output,
    SplitConfig=example_gen_pb2.SplitConfig,
    TrainArgs=trainer_pb2.TrainArgs,
    EvalArgs=trainer_pb2.EvalArgs,
)
types = SimpleNamespace(standard_artifacts=standard_artifacts)

__all__ = ["components", "dsl", "proto", "types", "extensions"]


def __getattr__(name: str):
    if name == "extensions":
        from tfx.v1 import extensions

        return extensions
    raise AttributeError(name)
