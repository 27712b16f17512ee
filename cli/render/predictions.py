"""`tfx-e2e predict` output: one line per row, or one JSON array with every output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from trainer_module.serving_contract import CLASSES, PREDICTED_CLASS, PROBABILITIES

TEXT_MAX_VALUES = 16  # outputs with more values per row (e.g. an autoencoder's reconstruction) only go to --json


def _fmt(value: Any) -> str:
    array = np.asarray(value)
    if array.dtype.kind in "SUO":
        items = [v.decode() if isinstance(v, bytes) else str(v) for v in array.ravel().tolist()]
        return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"
    flat = array.ravel()
    if flat.size == 1:
        return f"{flat[0]:.6g}"
    return "[" + ", ".join(f"{v:.4g}" for v in flat) + "]"


def _names(value: Any) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in np.asarray(value).ravel().tolist()]


def text_lines(result: Any) -> Iterator[str]:
    """`row N  <output> <value> ...`; a model with class names shows the predicted class's name first and each
    class's probability by name (--json has the outputs as served); one without shows the most likely class id."""
    shown = {n: v for n, v in result.outputs.items() if np.size(v[0]) <= TEXT_MAX_VALUES} if result.rows else {}
    shown = shown or result.outputs
    named = PREDICTED_CLASS in result.outputs and CLASSES in result.outputs
    for i in range(result.rows):
        parts = [f"class {_names(result.outputs[PREDICTED_CLASS][i])[0]}"] if named else []
        for name, values in shown.items():
            if named and name in (CLASSES, PREDICTED_CLASS):
                continue
            if named and name == PROBABILITIES and np.size(values[i]) > 1:
                pairs = zip(_names(result.outputs[CLASSES][i]), np.ravel(values[i]))
                parts.append("probabilities " + ", ".join(f"{c} {p:.4g}" for c, p in pairs))
                continue
            parts.append(f"{name} {_fmt(values[i])}")
            if name == PROBABILITIES and np.size(values[i]) > 1 and not named:
                parts.append(f"class {int(np.argmax(values[i]))}")
        yield f"row {i + 1:<5} " + "  ".join(parts)


def write(result: Any, as_json: bool, out: Any, input_path: Path) -> None:
    """`result` is a pipeline.predict.serve.Predictions."""
    if as_json:
        from pipeline.predict.serve import as_records

        print(json.dumps(as_records(result)), file=out)
        return
    print(f"model    {result.model_dir}", file=out)
    print(f"input    {input_path} ({result.rows} row{'s' if result.rows != 1 else ''})", file=out)
    if result.ignored_columns:
        print(f"ignored  {', '.join(result.ignored_columns)} (not read by the model)", file=out)
    hidden = [n for n in result.outputs if result.rows and np.size(result.outputs[n][0]) > TEXT_MAX_VALUES]
    if hidden and len(hidden) < len(result.outputs):
        print(f"outputs  {', '.join(hidden)} not shown (--json has them)", file=out)
    for line in text_lines(result):
        print(line, file=out)
