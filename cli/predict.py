"""`tfx-e2e predict`: resolve the model, predict, print one line per row or one JSON array."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np

from pipeline.predict.serve import Predictions, as_records, predict

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


def text_lines(result: Predictions) -> Iterator[str]:
    """`row N  <output> <value> ...`; class probabilities also name the most likely class."""
    shown = {n: v for n, v in result.outputs.items() if np.size(v[0]) <= TEXT_MAX_VALUES} if result.rows else {}
    shown = shown or result.outputs
    for i in range(result.rows):
        parts = []
        for name, values in shown.items():
            parts.append(f"{name} {_fmt(values[i])}")
            if name == "probabilities" and np.size(values[i]) > 1:
                parts.append(f"class {int(np.argmax(values[i]))}")
        yield f"row {i + 1:<5} " + "  ".join(parts)


def write(result: Predictions, as_json: bool, out: Any, input_path: Path) -> None:
    if as_json:
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


def run(model: str, input_path: Path, home: Path, config: Optional[str], as_json: bool, out: Any) -> None:
    result = predict(model, input_path, home, config)
    write(result, as_json, out, Path(input_path))
