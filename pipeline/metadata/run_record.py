"""What `tfx-e2e run` knew about a run that TFX does not record: the effective config (after --set and the flags),
the flags, package versions, the code fingerprint, wall time, each node's seconds, the pipeline's shape (its nodes
and edges, also those a failed run never started), the error line and the log file.

Stored as custom properties (prefix `tfx_e2e_`) of the run's MLMD context (type `pipeline_run`, named by the run id),
so every reader of the store — `tfx-e2e report`, the UI, on this machine or another sharing a MySQL store — sees the
same record. `write_record` is the only writer outside TFX's own orchestration and only adds these properties; runs
recorded before this module existed simply have none (`read_record` returns what there is).
"""

from __future__ import annotations

import json
from importlib import metadata as importlib_metadata
from typing import Any, Mapping, Optional

import ml_metadata as mlmd

from pipeline.metadata.runs import RUN_CONTEXT

PREFIX = "tfx_e2e_"
VERSIONED = ("tfx", "tensorflow", "apache-beam", "tensorflow-model-analysis", "tensorflow-transform", "ml-metadata")
_TEXT = ("config_yaml", "config_source", "code_fingerprint", "error", "log_file")
_JSON = ("flags", "versions", "node_seconds", "dag")
_NUMBERS = ("wall_seconds",)


def versions(names: tuple[str, ...] = VERSIONED) -> dict[str, Optional[str]]:
    """The installed versions of `names` (by default the packages a run depends on most); None when not installed."""
    out: dict[str, Optional[str]] = {}
    for name in names:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = None
    return out


def write_record(store: mlmd.MetadataStore, run_id: str, record: Mapping[str, Any]) -> bool:
    """Adds `record` (keys of read_record) to the run's context; False when the run has no context (it stopped
    before TFX registered it)."""
    context = store.get_context_by_type_and_name(RUN_CONTEXT, run_id)
    if context is None:
        return False
    for key, value in record.items():
        if value is None:
            continue
        prop = context.custom_properties[PREFIX + key]
        if key in _JSON:
            prop.string_value = json.dumps(value, sort_keys=True, default=str)
        elif key in _NUMBERS:
            prop.double_value = float(value)
        elif key in _TEXT:
            prop.string_value = str(value)
        else:
            raise KeyError(f"run record: unknown key {key!r}")
    store.put_contexts([context])
    return True


def read_record(store: mlmd.MetadataStore, run_id: str) -> dict[str, Any]:
    """{config_yaml, config_source, flags, versions, code_fingerprint, wall_seconds, node_seconds, dag, error,
    log_file},
    each only when recorded."""
    context = store.get_context_by_type_and_name(RUN_CONTEXT, run_id)
    if context is None:
        return {}
    out: dict[str, Any] = {}
    for key in (*_TEXT, *_JSON, *_NUMBERS):
        prop = context.custom_properties.get(PREFIX + key)
        if prop is None:
            continue
        if key in _JSON:
            try:
                out[key] = json.loads(prop.string_value)
            except ValueError:
                continue
        elif key in _NUMBERS:
            out[key] = prop.double_value
        else:
            out[key] = prop.string_value
    return out
