"""The run report: one self-contained HTML page per run, and the renderers the UI shares (html, svg, render)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional


def write_report(store, pipeline: str, run_id: str, out: Path, *, home: Optional[Path] = None) -> Path:
    """Build the run's report from the store and the artifacts on disk, write it to `out`, return the path."""
    # Imported here: `pipeline.report.html`/`svg` stay importable without TensorFlow (the UI's first page is fast).
    from pipeline.report import model, render

    report = model.build(store, pipeline, run_id, home=home)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render.document(report), encoding="utf-8")
    tmp.replace(out)
    return out
