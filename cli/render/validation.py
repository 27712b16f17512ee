"""The offline validation report of a compiled pipeline (kubeflow.validate.Report) as the user sees it."""

from __future__ import annotations

from typing import Any, TextIO


def print_validation(report: Any, out: TextIO) -> None:
    if report.ok:
        print(f"valid: {report.path} ({report.target}; schema {report.schema_version}, sdk {report.sdk_version}; "
              f"{len(report.nodes)} nodes)", file=out)
        return
    print(f"INVALID: {report.path} ({report.target}): {len(report.errors)} problem(s)", file=out)
    for error in report.errors:
        print(f"  - {error}", file=out)
