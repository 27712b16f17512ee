"""`tfx-e2e run` output: a line per component as it starts and finishes, the run summary, the failure report."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Optional, TextIO

from cli.render.progress import number
from pipeline.metadata.gates import bound_text


class Progress:
    """One line per component as it starts and as it finishes: name, state (ran | cached | failed), seconds.

    live (a terminal): no `started` line; instead the running component's line, rewritten in place with its elapsed
    time and, in the Trainer, the epoch, step and loss read from `training_file` (cli.render.progress); the
    finished line replaces it. Use it as a context manager (or call close()) so the live line is erased at the end.
    """

    def __init__(self, out: TextIO, *, live: bool = False, training_file: Optional[Path] = None):
        self.out = out
        self._live = None
        if live:
            from cli.render.progress import LiveLine

            self._live = LiveLine(out, training_file)

    def __call__(self, event: Any) -> None:
        if event.phase == "start":
            if self._live is not None:
                self._live.started(event.node_id)
            else:
                print(f"  {event.node_id:<32} started", file=self.out, flush=True)
            return
        line = f"  {event.node_id:<32} {event.state:<7} {event.seconds:7.1f} s"
        if self._live is not None:
            self._live.stopped(event.node_id, line)
        else:
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        if self._live is not None:
            self._live.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def report_text(report: Any) -> str:
    """Where the run's HTML report went (a path), or why it was not written (text); nothing when the run left no
    record in ML Metadata (it stopped before TFX registered it)."""
    return "" if report is None else f"report       {report}\n"


_fmt = number  # a price's MSE keeps its column: 6 significant digits from 1e5 on


def label_line(label: dict, train_rows: Optional[int]) -> Optional[str]:
    """The label as the Trainer saw it: the positive class, the classes, or a regression target's scaling."""
    key = label.get("key")
    naive = label.get("naive_model") or {}
    counts = naive.get("class_counts") or {}
    shown = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    unlabelled = ""
    if train_rows and naive.get("rows") and train_rows > naive["rows"]:
        unlabelled = f"; {train_rows - naive['rows']:,} train rows without a label left out"
    if label.get("task") == "binary" and label.get("positive") not in (None, "1"):
        classes = label.get("classes") or []
        return (f"{key}: positive {label['positive']!r}, negative {classes[0]!r}"
                + (f" (train split: {shown}{unlabelled})" if shown else ""))
    if label.get("task") == "multiclass":
        classes = label.get("classes") or []
        return f"{key}: {len(classes)} classes" + (f" (train split: {shown}{unlabelled})" if shown else "")
    scaling = label.get("target_scaling")
    if scaling:
        return f"{key}: {scaling.get('why')}{unlabelled}"
    return None


def _bounds(metric: Any) -> str:
    return bound_text(metric.lower, metric.upper, sep=" ")


def _gates(metric: Any) -> str:
    """A metric's gates: its bounds and its change gate, each marked `(default)` when it is not the config's."""
    parts = []
    if _bounds(metric):
        parts.append(_bounds(metric) + (" (default)" if metric.default else ""))
    if metric.change is not None:
        change = "not worse" if abs(metric.change) < 1e-9 else f"change >= {metric.change:g}"
        parts.append(change + (" (default)" if metric.change_default else ""))
    return ", ".join(parts) or "-"


def print_summary(result: Any, summary: Any, out: TextIO) -> None:
    """A finished run (pipeline.local.runner.RunResult) and what it produced (pipeline.metadata.summary.RunSummary)."""
    print("", file=out)
    print(f"run id       {result.run_id}", file=out)
    print(f"pipeline     {result.pipeline_name}  ({result.wall_seconds:.1f} s)", file=out)
    if summary.rows:
        print("rows         " + ", ".join(f"{k} {v}" for k, v in sorted(summary.rows.items())), file=out)
    if summary.anomalies_uri is not None:
        if summary.anomalies:
            print(f"anomalies    {len(summary.anomalies)} (see {summary.anomalies_uri})", file=out)
            for a in summary.anomalies:
                print(f"  {a.split:<6} {a.feature:<28} {a.kind}: {a.description}", file=out)
        else:
            print("anomalies    none", file=out)
    line = label_line(summary.label, summary.rows.get("train")) if summary.label else None
    if line:
        print(f"label        {line}", file=out)
    auto = getattr(summary, "auto", None)
    if auto:
        print(f"model        {auto['chosen']}  (model.family auto: {auto['why']})", file=out)
    if getattr(summary, "tuning", None):
        print(f"tuned        {summary.tuning}", file=out)
    if getattr(summary, "pruned", None):
        print(f"pruned       {summary.pruned}", file=out)
    if summary.metrics:
        print("metrics      (eval split, overall slice)", file=out)
        width = max(18, *(len(_gates(m)) for m in summary.metrics))
        print(f"  {'metric':<28} {'value':>10}  {'threshold':<{width}} {'baseline':>10}  check", file=out)
        for m in summary.metrics:
            check = {True: "pass", False: "FAIL", None: ""}[m.passed]
            print(f"  {m.name:<28} {_fmt(m.value):>10}  {_gates(m):<{width}} {_fmt(m.baseline):>10}  {check}", file=out)
        if not summary.has_baseline:
            print("  (no blessed baseline yet: change thresholds were not applied)", file=out)
    if getattr(summary, "compressed", None):
        print(f"compressed   {summary.compressed}", file=out)
    if getattr(summary, "importance", None):
        print(f"importance   {summary.importance}", file=out)
    if summary.blessed is not None:
        print(f"blessed      {'yes' if summary.blessed else 'no'}", file=out)
    if summary.pushed:
        note = "" if summary.pushed_now else "  (cached: nothing new pushed)"
        print(f"pushed       {summary.pushed}{note}", file=out)
    elif summary.blessed is not None:
        print("pushed       nothing (the model was not blessed)", file=out)


def summary_text(result: Any, summary: Any) -> str:
    """print_summary as a string: shown now, and kept to be shown again by an unchanged rerun."""
    text = io.StringIO()
    print_summary(result, summary, text)
    return text.getvalue()


def print_failure(result: Any, log_file: Optional[Path], bad_data: bool, out: TextIO) -> None:
    """`FAILED: component X: ErrorType: last line`; bad data (the AnomaliesGate) shows its whole report above."""
    reason = str(result.error).strip().splitlines()
    reason_text = reason[-1] if reason else type(result.error).__name__
    where = f"component {result.failed_node}" if result.failed_node else "the pipeline"
    if bad_data:
        print("", file=out)
        for line in reason[:-1]:
            print(f"  {line}", file=out)
    print(f"\nFAILED: {where}: {type(result.error).__name__}: {reason_text}", file=out)
    if log_file:
        print(f"  full traceback in {log_file}", file=out)


def print_header(cfg: Any, home: Any, metadata: Optional[str], out: TextIO) -> None:
    """What is about to run, and where: before the lock is taken."""
    from pipeline.logs import redact

    print(f"tfx-e2e run: pipeline {cfg.name} ({cfg.source})", file=out)
    print(f"  data  {cfg.data_dir if cfg.example_gen == 'csv' else cfg.example_gen + ' (built in)'}", file=out)
    print(f"  home  {home.root}", file=out)
    if metadata:
        print(f"  metadata  {redact(metadata)}", file=out)


def print_unchanged(unchanged: Any, out: TextIO) -> None:
    print(f"  unchanged  config, code, data and metadata are as at run {unchanged.run_id} "
          f"(finished {unchanged.finished}): nothing to re-execute; --always-run runs it through TFX", file=out)
    out.write(unchanged.summary)
