"""A process that imports the libraries every TFX task needs (TensorFlow, Beam, TFX's v2 container entry points)
before it knows its task, then runs one `python -m MODULE ARGS...` exactly as `python -m` would (runpy, as
`__main__`, with that argv, working directory and output file) and exits with its exit code.

Started by kubeflow/local/warm.py while an earlier task runs, so that a task's process does not spend its first
~6 s importing TensorFlow. Protocol: one JSON line on stdin {"module", "args", "cwd", "log"}; nothing else."""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback

# What TFX's v2 container entry points (kubeflow_v2_run_executor, file_based_example_gen.driver) import, not the
# entry points themselves: runpy runs the task's module fresh as __main__, as `python -m` does.
PRELOAD = (
    "tensorflow",
    "apache_beam",
    "kfp.pipeline_spec.pipeline_spec_pb2",
    "tfx.components.evaluator.executor",
    "tfx.components.example_gen.driver",
    "tfx.components.example_gen.input_processor",
    "tfx.dsl.components.base.base_beam_executor",
    "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_entrypoint_utils",
    "tfx.orchestration.portable.outputs_utils",
)


def main() -> int:
    for module in PRELOAD:
        __import__(module)
    line = sys.stdin.readline()
    if not line.strip():
        return 0  # told to stop before it got a task
    task = json.loads(line)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(task["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(task["cwd"])
    sys.path[0] = task["cwd"]  # `python -m` puts the working directory first on sys.path
    sys.argv = [task["module"], *task["args"]]
    try:
        runpy.run_module(task["module"], run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as stop:
        code = stop.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException:  # noqa: BLE001 - as `python -m` would: the traceback on stderr, exit 1
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown (TensorFlow's takes seconds); every file is flushed or closed
