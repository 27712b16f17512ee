"""Where a DAG reads and writes (Locations) and what runs it (LocalTarget or CloudTarget, with VertexOptions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union


@dataclass(frozen=True)
class Locations:
    """Where a run reads and writes: URIs may be local paths or remote (gs://...). `data` may also be a
    RuntimeParameter, so a compiled Kubeflow/Vertex pipeline takes its data root when submitted."""

    data: Any
    pipeline_root: str
    serving_dir: str  # the model base path TF Serving watches; versions go below <serving_dir>/<model_name>/


@dataclass(frozen=True)
class VertexOptions:
    """Run the Trainer as a Vertex AI custom job and/or push to a Vertex endpoint (cloud targets only)."""

    project: str
    region: str
    image: str
    training: bool = False
    machine_type: str = "n1-standard-4"
    accelerator_type: Optional[str] = None  # e.g. NVIDIA_TESLA_T4, or a TPU type with machine_type cloud-tpu
    accelerator_count: int = 0
    replica_count: int = 1  # > 1: multi-worker (one chief pool + a worker pool)
    endpoint: Optional[str] = None  # push to this Vertex endpoint instead of a filesystem serving dir
    serving_image: str = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"

    def worker_pool_specs(self) -> list[dict]:
        machine_spec: dict[str, Any] = {"machine_type": self.machine_type}
        if self.accelerator_type:
            machine_spec["accelerator_type"] = self.accelerator_type
            machine_spec["accelerator_count"] = self.accelerator_count or 1
        pool = {"machine_spec": machine_spec, "replica_count": 1, "container_spec": {"image_uri": self.image}}
        pools = [pool]
        if self.replica_count > 1:
            pools.append({**pool, "replica_count": self.replica_count - 1})
        return pools


@dataclass(frozen=True)
class LocalTarget:
    """A run on this machine (LocalDagRunner): its ML Metadata store, whether cached results are reused, the Beam
    DirectRunner arguments, and whether ExampleValidator anomalies only get logged (`allow_anomalies`)."""

    metadata_connection_config: Optional[Any] = None  # an ml_metadata ConnectionConfig
    enable_cache: bool = True
    beam_pipeline_args: Sequence[str] = ()
    allow_anomalies: bool = False
    # model.family auto: an earlier run's choice for this same Trainer config (pipeline.metadata.auto_choice)
    auto_choice: Optional[Mapping[str, Any]] = None

    # Fixed for every local run. The baseline resolver excludes the candidate and other model families.
    portable_resolvers: ClassVar[bool] = False
    schema_file: ClassVar[None] = None  # ImportSchemaGen reads the config's own schema path
    vertex: ClassVar[None] = None


@dataclass(frozen=True)
class CloudTarget:
    """A pipeline compiled for Kubeflow Pipelines v2 or Vertex AI (KubeflowV2DagRunner): the Beam arguments of
    its components, the curated schema as a path inside the container image (its working directory is the project
    root, see kubeflow/Dockerfile), and the Vertex AI Trainer/Pusher options, if any."""

    beam_pipeline_args: Sequence[str] = ()
    schema_file: Optional[str] = None
    vertex: Optional[VertexOptions] = None

    auto_choice: ClassVar[None] = None  # the orchestrator's store is not read at compile time: auto scores each run
    # Fixed for every cloud run: the orchestrator brings its own ML Metadata and cache, anomalies stop the run,
    # and the resolvers use TFX's LatestBlessedModelStrategy: TFX 1.16's KFP v2 step builder compiles a Resolver
    # only with it or LatestArtifactStrategy (tfx/orchestration/kubeflow/v2/step_builder.py, TypeError otherwise).
    metadata_connection_config: ClassVar[None] = None
    enable_cache: ClassVar[bool] = True
    allow_anomalies: ClassVar[bool] = False
    portable_resolvers: ClassVar[bool] = True


Target = Union[LocalTarget, CloudTarget]
