"""Which raw label values mean what (one source for the pre-flight checks, Transform and the Trainer; no TensorFlow).

A binary label written as strings needs one value to be the positive class (1). It is `label.positive` when the
config sets it; otherwise the column's two values must be one of KNOWN_PAIRS (compared case-insensitively, after
stripping spaces), whose first member is positive. A multiclass label may have at most MAX_CLASSES classes.
"""

from __future__ import annotations

from typing import Iterable, Optional

# (positive, negative), lower case.
KNOWN_PAIRS: tuple[tuple[str, str], ...] = (
    ("yes", "no"),
    ("true", "false"),
    ("y", "n"),
    ("1", "0"),
    ("positive", "negative"),
)
POSITIVES = tuple(p for p, _ in KNOWN_PAIRS)
NEGATIVES = tuple(n for _, n in KNOWN_PAIRS)

# More classes than this is more likely an id or a number than a class label (and a softmax over them is slow).
MAX_CLASSES = 100
# A class with fewer rows than this may land in the eval split only (ExampleGen splits rows by a hash), where the
# model, which never saw it, cannot predict it.
MIN_ROWS_PER_CLASS = 5


def normalized(value: str) -> str:
    return value.strip().lower()


def known_pair(values: Iterable[str]) -> Optional[tuple[str, str]]:
    """The KNOWN_PAIRS entry the distinct non-empty `values` spell (case-insensitively), or None."""
    seen = {normalized(v) for v in values if v.strip()}
    for positive, negative in KNOWN_PAIRS:
        if seen == {positive, negative}:
            return positive, negative
    return None


def is_positive(value: str, positive: Optional[str]) -> Optional[bool]:
    """True/False for a raw binary label value; None when it is no label (empty, or outside the known pairs when
    the config names no positive value)."""
    if not value.strip():
        return None
    if positive is not None:
        return value.strip() == positive.strip()
    key = normalized(value)
    if key in POSITIVES:
        return True
    if key in NEGATIVES:
        return False
    return None
