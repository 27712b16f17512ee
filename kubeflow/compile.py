"""`tfx-e2e compile`: KubeflowV2DagRunner over the same create_pipeline(cfg) the local runner uses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from pipeline.paths import PROJECT_ROOT
from pipeline.config.schema import ConfigError, PipelineConfig
from kubeflow.targets import TARGETS

BUILD_DIR = PROJECT_ROOT / "kubeflow" / "build"
DATA_ROOT_PARAMETER = "data-root"


@dataclass(frozen=True)
class CompileOptions:
    target: str
    image: str
    pipeline_root: str
    data: Optional[str] = None
    serving_dir: Optional[str] = None
    beam_runner: str = "direct"
    project: Optional[str] = None
    region: Optional[str] = None
    temp_location: Optional[str] = None
    dataflow_machine_type: str = "n1-standard-4"
    dataflow_max_workers: int = 4
    vertex_training: bool = False
    machine_type: str = "n1-standard-4"
    accelerator_type: Optional[str] = None
    accelerator_count: int = 0
    tpu_type: Optional[str] = None
    replica_count: int = 1
    vertex_endpoint: Optional[str] = None
    out: Optional[Path] = None


def default_output(cfg: PipelineConfig, target: str) -> Path:
    return BUILD_DIR / f"{cfg.name}-{target}.json"


def beam_args(options: CompileOptions) -> list[str]:
    """In-container DirectRunner (all cores), or Dataflow with this project's image for its workers. The direct
    runner's workers are the container's own processes, installed from requirements.lock (the image's working
    directory has it): naming it spares each Beam component TFX's sdist build of the tfx package (~2 s each; see
    pipeline.local.beam.DEPENDENCIES_ARG)."""
    if options.beam_runner == "direct":
        from pipeline.local.beam import DEPENDENCIES_ARG

        return ["--direct_running_mode=multi_processing", "--direct_num_workers=0", DEPENDENCIES_ARG]
    return [
        "--runner=DataflowRunner",
        f"--project={options.project}",
        f"--region={options.region}",
        f"--temp_location={options.temp_location}",
        f"--machine_type={options.dataflow_machine_type}",
        f"--max_num_workers={options.dataflow_max_workers}",
        "--experiments=use_runner_v2",
        f"--sdk_container_image={options.image}",
    ]


def check_options(cfg: PipelineConfig, options: CompileOptions) -> None:
    """Mistakes a user should hear about now, not an hour into a cloud run."""
    if options.target not in TARGETS:
        raise ConfigError(f"--target must be one of {', '.join(TARGETS)}, got {options.target!r}.")
    if cfg.example_gen == "csv" and not options.data:
        raise ConfigError(
            f"--data is required to compile {cfg.name} for {options.target}: the cloud pipeline reads its CSV "
            "from a bucket (e.g. gsutil cp -r <local data dir> gs://BUCKET/data/taxi, then --data gs://BUCKET/data/taxi)."
        )
    if not options.serving_dir and not options.vertex_endpoint:
        raise ConfigError("--serving-dir URI (e.g. gs://BUCKET/serving) or --vertex-endpoint NAME is required.")
    needs_gcp = options.beam_runner == "dataflow" or options.vertex_training or options.vertex_endpoint
    if needs_gcp and not (options.project and options.region):
        raise ConfigError("--project and --region are required for Dataflow, --vertex-training and --vertex-endpoint.")
    if options.beam_runner == "dataflow" and not options.temp_location:
        raise ConfigError("--beam-runner dataflow needs --temp-location gs://BUCKET/tmp.")
    if (options.vertex_training or options.vertex_endpoint) and options.target != "vertex":
        raise ConfigError("--vertex-training and --vertex-endpoint need --target vertex.")
    if options.replica_count > 1 and cfg.training.strategy not in ("auto", "multi_worker"):
        raise ConfigError(  # compile has no --strategy flag: the config key is what the user can set
            "--replica-count > 1 trains multi-worker: use --set training.strategy=multi_worker (or auto).")


def _schema_file(cfg: PipelineConfig) -> Optional[str]:
    """The curated schema as a path relative to the project root: the image's working directory (see Dockerfile)."""
    if not cfg.schema_path:
        return None
    try:
        return str(cfg.schema_path.relative_to(PROJECT_ROOT))
    except ValueError:
        raise ConfigError(
            f"schema {cfg.schema_path} is outside the project, so the container image cannot contain it; "
            "put it under schemas/ (the Dockerfile copies that folder)."
        ) from None


def compile_pipeline(cfg: PipelineConfig, options: CompileOptions) -> Path:
    """Writes the PipelineJob JSON and returns its path. Nothing is uploaded: code is referenced by dotted path."""
    check_options(cfg, options)
    import dataclasses

    from tfx import v1 as tfx

    from pipeline.dag.factory import create_pipeline
    from pipeline.dag.targets import CloudTarget, Locations, VertexOptions

    data = None
    if cfg.example_gen == "csv":
        data = tfx.dsl.experimental.RuntimeParameter(name=DATA_ROOT_PARAMETER, ptype=str, default=options.data)
    vertex = None
    if options.target == "vertex" and (options.vertex_training or options.vertex_endpoint):
        machine_type, accelerator, count = options.machine_type, options.accelerator_type, options.accelerator_count
        if options.tpu_type:
            machine_type, accelerator, count = "cloud-tpu", options.tpu_type, count or 8
        vertex = VertexOptions(
            project=options.project,
            region=options.region,
            image=options.image,
            training=options.vertex_training,
            machine_type=machine_type,
            accelerator_type=accelerator,
            accelerator_count=count,
            replica_count=options.replica_count,
            endpoint=options.vertex_endpoint,
        )
    if options.replica_count > 1:
        cfg = dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, strategy="multi_worker"))
    tfx_pipeline = create_pipeline(
        cfg,
        Locations(data=data, pipeline_root=options.pipeline_root, serving_dir=options.serving_dir or ""),
        CloudTarget(beam_pipeline_args=beam_args(options), schema_file=_schema_file(cfg), vertex=vertex),
    )
    out = Path(options.out or default_output(cfg, options.target)).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=options.image),
        output_dir=str(out.parent),
        output_filename=out.name,
    )
    if out.exists():
        out.unlink()  # the runner refuses to overwrite
    # The runner keeps a RuntimeParameter's type but not its default: the value goes into runtimeConfig here.
    parameter_values = {DATA_ROOT_PARAMETER: options.data} if data is not None else None
    runner.run(tfx_pipeline, parameter_values=parameter_values, write_out=True)
    return out


def load_job(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read a compiled pipeline: {err}") from None


def parameter_names(job: dict) -> Sequence[str]:
    params = job.get("pipelineSpec", {}).get("root", {}).get("inputDefinitions", {}).get("parameters", {})
    return sorted(params)
