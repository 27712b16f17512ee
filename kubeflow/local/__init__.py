"""Run a compiled Kubeflow/Vertex PipelineJob on this machine (`tfx-e2e submit FILE --target local`).

spec.py reads and checks the file with KFP's protos; preflight.py checks executors before anything runs;
executor_input.py builds each task's ExecutorInput and substitutes placeholders; task_process.py runs a container
task's command; resolver.py evaluates resolver queries (filters.py) and importers; store.py is the workdir's ML
Metadata record and cache; mirror.py maps `gs://` to the workdir; runner.py walks the DAG; summary.py prints it.
"""

from kubeflow.local.errors import LocalRunError
from kubeflow.local.runner import LocalOptions, LocalResult, run_local

__all__ = ["LocalOptions", "LocalResult", "LocalRunError", "run_local"]
