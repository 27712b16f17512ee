"""Integrated gradients (Sundararajan et al. 2017) from an all-zero baseline, and the completeness check.

IG_i(x) = x_i · ∫₀¹ ∂F(αx)/∂x_i dα, approximated by the trapezoid rule on STEPS + 1 evenly spaced α, all of them
evaluated in one batched call. Completeness: Σ_i IG_i(x) = F(x) − F(0) up to the quadrature error, which the
TOLERANCE bounds (checked per row).

Why an interpolation in transformed space explains raw numbers too: our numeric transform is z = (x − m) / s
(trainer_module.preprocessing, affine in the raw value x) and the baseline is the mean m, i.e. z = 0. Along the
straight raw path x' = m + α(x − m) the transformed value is exactly αz, and ∂F/∂x = (∂F/∂z) / s while
(x − m) = s·z, so the raw-space and the transformed-space attributions are identical, step for step
(tests/unit/test_explain_integrated.py checks it numerically).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import numpy as np

STEPS = 128
# |Σ attributions − (F(x) − F(0))| must stay within this share of |F(x) − F(0)| plus an absolute floor.
RELATIVE_TOLERANCE = 0.01
ABSOLUTE_TOLERANCE = 1e-3
MAX_BATCH = 8192  # interpolated points per call (rows × (STEPS + 1))


def tolerance(delta: float) -> float:
    return RELATIVE_TOLERANCE * abs(delta) + ABSOLUTE_TOLERANCE


def tolerance_text() -> str:
    return f"|sum of attributions - (prediction - baseline prediction)| <= {RELATIVE_TOLERANCE:g} * |prediction - " \
           f"baseline prediction| + {ABSOLUTE_TOLERANCE:g}"


def trapezoid(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(alphas, weights): steps + 1 points on [0, 1] and their trapezoid weights (summing to 1)."""
    alphas = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2.0
    return alphas, weights


@dataclass
class Attribution:
    points: dict[str, np.ndarray]  # per point key: attributions, same shape as the points ([rows, ...])
    prediction: np.ndarray  # F(x), [rows]
    baseline: np.ndarray  # F(0), [rows]
    target: Optional[np.ndarray]  # the class explained per row (multi-output models), else None

    def total(self) -> np.ndarray:
        return sum(a.reshape(len(a), -1).sum(axis=1) for a in self.points.values())

    def gap(self) -> np.ndarray:
        return np.abs(self.total() - (self.prediction - self.baseline))


def _select(output: Any, target: Optional[np.ndarray], repeat: int) -> Any:
    """[batch] values of F: the output itself, its single column, or each row's target class."""
    import tensorflow as tf

    if output.shape.rank == 1:
        return output
    if output.shape[-1] == 1 or target is None:
        return output[:, 0]
    classes = tf.constant(np.tile(target, repeat), dtype=tf.int32)
    return tf.gather(output, classes, axis=1, batch_dims=1)


def integrated_gradients(
    f: Callable[[Mapping[str, Any]], Any], points: Mapping[str, np.ndarray], steps: int = STEPS
) -> Attribution:
    """Attributions of F = f(points) (one value per row; a multi-column output is explained for each row's most
    likely column) to every element of every point, from the all-zero baseline."""
    import tensorflow as tf

    rows = len(next(iter(points.values())))
    chunk = max(1, MAX_BATCH // (steps + 1))
    alphas, weights = trapezoid(steps)
    parts: list[Attribution] = []
    for start in range(0, rows, chunk):
        x = {k: np.asarray(v[start : start + chunk], dtype=np.float32) for k, v in points.items()}
        n = len(next(iter(x.values())))
        full = f({k: tf.constant(v) for k, v in x.items()})
        target = np.argmax(full.numpy(), axis=-1) if full.shape.rank == 2 and full.shape[-1] > 1 else None
        # [steps + 1, n, ...] → [(steps + 1) · n, ...]: every α of every row in one call
        path = {
            k: tf.constant((alphas.reshape(-1, *[1] * v.ndim) * v[None]).reshape(-1, *v.shape[1:]), tf.float32)
            for k, v in x.items()
        }
        with tf.GradientTape() as tape:
            tape.watch(list(path.values()))
            values = _select(f(path), target, steps + 1)
        grads = tape.gradient(values, path)
        values = values.numpy().reshape(steps + 1, n)
        attributions = {}
        for k, v in x.items():
            g = grads[k]
            g = np.zeros_like(v) if g is None else g.numpy().reshape(steps + 1, *v.shape)
            attributions[k] = v * np.tensordot(weights, g, axes=1)
        parts.append(Attribution(attributions, values[-1], values[0], target))
    return Attribution(
        points={k: np.concatenate([p.points[k] for p in parts]) for k in points},
        prediction=np.concatenate([p.prediction for p in parts]),
        baseline=np.concatenate([p.baseline for p in parts]),
        target=None if parts[0].target is None else np.concatenate([p.target for p in parts]),
    )


MAX_STEPS = 1024


def refined(
    f: Callable[[Mapping[str, Any]], Any], points: Mapping[str, np.ndarray], steps: int = STEPS,
    max_steps: int = MAX_STEPS,
) -> tuple[Attribution, np.ndarray]:
    """integrated_gradients, then again with twice the steps for the rows whose gap exceeds the tolerance (a ReLU
    network's kinks make the trapezoid rule converge slowly on some paths), up to max_steps. Returns the attribution
    and the steps each row used."""
    result = integrated_gradients(f, points, steps)
    used = np.full(len(result.prediction), steps)
    while steps * 2 <= max_steps:
        limits = np.array([tolerance(d) for d in result.prediction - result.baseline])
        bad = np.flatnonzero(result.gap() > limits)
        if not len(bad):
            break
        steps *= 2
        again = integrated_gradients(f, {k: np.asarray(v)[bad] for k, v in points.items()}, steps)
        for k in result.points:
            result.points[k][bad] = again.points[k]
        result.prediction[bad], result.baseline[bad] = again.prediction, again.baseline
        used[bad] = steps
    return result, used
