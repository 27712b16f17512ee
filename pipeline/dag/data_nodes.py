"""Builders of the DAG's data half: ExampleGen, StatisticsGen, the schema, ExampleValidator, the gate, Transform."""

from __future__ import annotations

from typing import Any, Optional

from components.anomalies_gate import AnomaliesGate
from pipeline.config.schema import PipelineConfig
from pipeline.dag import node_ids
from pipeline.dag import tfx_api as tfx
from pipeline.dag.targets import Locations
from trainer_module import features as F

PREPROCESSING_FN = "trainer_module.preprocessing.preprocessing_fn"


def example_gen(cfg: PipelineConfig, where: Locations):
    """CsvExampleGen over `where.data`, split by hash buckets, or the bundled digits."""
    if cfg.example_gen == "digits":
        from components.digits_example_gen import DigitsExampleGen

        return DigitsExampleGen(eval_percent=cfg.eval_split_percent).with_id(node_ids.DIGITS_EXAMPLE_GEN)
    buckets = cfg.split_buckets or {"train": 100 - cfg.eval_split_percent, "eval": cfg.eval_split_percent}
    return tfx.components.CsvExampleGen(
        input_base=where.data,
        output_config=tfx.proto.Output(
            split_config=tfx.proto.SplitConfig(
                splits=[
                    tfx.proto.SplitConfig.Split(name="train", hash_buckets=buckets["train"]),
                    tfx.proto.SplitConfig.Split(name="eval", hash_buckets=buckets["eval"]),
                ]
            )
        ),
    ).with_id(node_ids.EXAMPLE_GEN)


def statistics_gen(examples: Any):
    return tfx.components.StatisticsGen(examples=examples).with_id(node_ids.STATISTICS_GEN)


def schema_gen(cfg: PipelineConfig, statistics: Any, schema_file: Optional[str] = None):
    """The config's curated schema (ImportSchemaGen; `schema_file` overrides its path, e.g. inside a container
    image), or one SchemaGen infers from the statistics. The inferred schema gives no column a fixed shape, so every
    column is optional at serving time: a request without a value gets Transform's imputation, as in training."""
    if cfg.schema_path:
        return tfx.components.ImportSchemaGen(schema_file=schema_file or str(cfg.schema_path)).with_id(
            node_ids.IMPORT_SCHEMA_GEN
        )
    return tfx.components.SchemaGen(statistics=statistics, infer_feature_shape=False).with_id(node_ids.SCHEMA_GEN)


def example_validator(statistics: Any, schema: Any):
    return tfx.components.ExampleValidator(statistics=statistics, schema=schema).with_id(node_ids.EXAMPLE_VALIDATOR)


def anomalies_gate(anomalies: Any, allow_anomalies: bool):
    """ExampleValidator only records anomalies; the gate fails the run on them (or only logs them when allowed)."""
    return AnomaliesGate(anomalies=anomalies, allow_anomalies=allow_anomalies).with_id(node_ids.ANOMALIES_GATE)


def transform(cfg: PipelineConfig, examples: Any, schema: Any, after: Any):
    """Transform (normalization, vocabularies, buckets), run after `after` (the AnomaliesGate): the gate has no
    output to consume, so the order is a task dependency."""
    node = tfx.components.Transform(
        examples=examples,
        schema=schema,
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=F.transform_config(cfg),
        disable_statistics=True,  # StatisticsGen already describes the data; this saves two full passes
        # The Trainer applies the transform graph to raw examples as it reads them (trainer_module.datasets.input_fn):
        # no transformed copy of every split is written, and a Trainer reading fewer rows than the data holds
        # (the usual case at scale) transforms only those.
        materialize=False,
        # No analyzer cache: it only pays off for incremental analysis over growing spans, and writing it is an
        # extra branch per analyzer in every run.
        disable_analyzer_cache=True,
    ).with_id(node_ids.TRANSFORM)
    node.add_upstream_node(after)
    return node
