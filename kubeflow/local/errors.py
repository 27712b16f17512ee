"""The one error `tfx-e2e submit --target local` raises for what the user can fix (exit 2, one line)."""

from __future__ import annotations

from kubeflow.submit.job import SubmitError


class LocalRunError(SubmitError):
    """A compiled file, flag or spec construct the local runner cannot take: one line naming what and where."""
