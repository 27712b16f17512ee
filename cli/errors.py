"""Exit codes, the usage error, which library errors are the user's to fix, and the one line that reports them."""

from __future__ import annotations

from typing import TextIO

EXIT_OK = 0
EXIT_FAILED = 1  # a component (or the pipeline) failed
EXIT_USAGE = 2  # bad flags, config, data, paths or store: the user can fix it

PREFIX = "tfx-e2e: error: "
# The usage hint some messages carry: a placeholder, not a password, so it survives redaction.
URI_PLACEHOLDER = "mysql://USER:PASSWORD@HOST:PORT/DB"


class UsageError(ValueError):
    """Bad flags, paths or inputs found by the command line itself: printed as one line, exit 2."""


def user_errors() -> tuple[type[BaseException], ...]:
    """The library's errors that mean "the user can fix this". A function, imported only when something went wrong
    (an `except` clause evaluates it only then), so that `--help` does not load ML Metadata."""
    from kubeflow.submit import SubmitError
    from pipeline.config.schema import ConfigError
    from pipeline.data.csv_format import DataError
    from pipeline.local.lock import LockBusy
    from pipeline.metadata.store import MetadataError

    return (UsageError, ConfigError, DataError, MetadataError, SubmitError, LockBusy)


def one_line(err: BaseException) -> str:
    """The error as `tfx-e2e: error: <message>` on one line, passwords removed."""
    from pipeline.logs import redact

    text = " ".join(part.strip() for part in str(err).splitlines() if part.strip()) or type(err).__name__
    hidden = "\0"
    return PREFIX + redact(text.replace(URI_PLACEHOLDER, hidden)).replace(hidden, URI_PLACEHOLDER)


def report(err: BaseException, stream: TextIO) -> int:
    print(one_line(err), file=stream, flush=True)
    return EXIT_USAGE
