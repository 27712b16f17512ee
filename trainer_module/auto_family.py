"""`model.family: auto`: the Trainer trains each candidate family (dnn, gbt) on the same train split, scores each on
the same eval batches with the task's main metric (binary AUC, multiclass accuracy, regression R²), keeps the better
one (ties go to the first) and records every score and the reason in training_summary.json (`auto`)."""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import numpy as np

AUTO = "auto"
CANDIDATES = ("dnn", "gbt")
# custom_config["model"][REUSE_KEY]: an earlier run's choice for the same config (pipeline.metadata.auto_choice):
# {family, run, metric, scores}; the Trainer then trains that family alone.
REUSE_KEY = "auto_reuse"
METRIC = {"binary": "auc", "multiclass": "accuracy", "regression": "r_squared"}


def for_family(custom: Mapping[str, Any], family: str) -> dict[str, Any]:
    """The Trainer's custom config as if the config had named `family` (its hparams from `hparams_by_family`)."""
    model = dict(custom.get("model", {}))
    if model.get("family") == family:
        return dict(custom)
    by_family = model.get("hparams_by_family") or {}
    return {**custom, "model": {**model, "family": family, "hparams": dict(by_family.get(family, {}))}}


def candidates(spec: Any) -> tuple[tuple[str, ...], str]:
    """The families to try for these inputs, and why any is left out."""
    if any(tuple(f.shape) != (1,) for f in spec.inputs):
        return ("dnn",), "gbt reads tabular inputs (one value per feature); these inputs hold vectors or images"
    return CANDIDATES, ""


def score(model: Any, eval_ds: Any, task: str, raw_prediction: Callable = np.asarray,
          raw_target: Callable = np.asarray) -> float:
    """The task's main metric of `model` on the eval batches (weighted: rows without a label weigh 0). A regression
    is scored in the label's own units: `raw_prediction`/`raw_target` undo a target scaling where one applies."""
    from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

    ys, ps, ws = [], [], []
    for batch in eval_ds:
        x, y, w = batch if len(batch) == 3 else (*batch, None)
        p = np.asarray(raw_prediction(model(x, training=False)))
        ys.append(np.asarray(raw_target(y)).reshape(len(p), -1)[:, 0])
        ps.append(p)
        ws.append(np.ones(len(p)) if w is None else np.asarray(w).reshape(-1))
    y, p, w = np.concatenate(ys), np.concatenate(ps), np.concatenate(ws)
    if task == "binary":
        return float(roc_auc_score(y, p[:, 0], sample_weight=w))
    if task == "multiclass":
        return float(accuracy_score(y, p.argmax(axis=1), sample_weight=w))
    return float(r2_score(y, p[:, 0], sample_weight=w))


def family_score(model: Any, eval_ds: Any, spec: Any, scaling: Any, family: str) -> float:
    """`score` of a model of `family`. `scaling`: the regression target's (trainer_module.label_stats.TargetScaling)
    on the eval batches; networks predict on that scale, trees on the label's own."""
    if spec.task == "regression" and scaling is not None:
        raw_target = lambda y: np.asarray(scaling.inverse(y))  # noqa: E731
        raw_prediction = np.asarray if family == "gbt" else raw_target
        return score(model, eval_ds, spec.task, raw_prediction, raw_target)
    return score(model, eval_ds, spec.task)


def deadline_callback(deadline: float) -> Any:
    """A Keras callback that ends fit() once time.time() passes `deadline` (the model is kept as it stands)."""
    import tensorflow as tf

    class StopAtDeadline(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if time.time() > deadline:
                self.model.stop_training = True

    return StopAtDeadline()


def _budgeted(custom: Mapping[str, Any], family: str, seconds: float) -> tuple[dict, tuple]:
    """(custom config, extra callbacks) that keep `family`'s training within `seconds` (0: no limit)."""
    custom = for_family(custom, family)
    if not seconds:
        return custom, ()
    if family == "gbt":
        hparams = dict(custom["model"].get("hparams", {}))
        hparams["max_seconds"] = hparams.get("max_seconds") or max(1, int(seconds))  # TF-DF's own duration limit
        return {**custom, "model": {**custom["model"], "hparams": hparams}}, ()
    return custom, (deadline_callback(time.time() + seconds),)


def choose(fit: Callable[..., tuple], eval_ds: Any, spec: Any, scaling: Any = None,
           custom: Mapping[str, Any] | None = None) -> tuple[tuple, str, dict]:
    """(the chosen family's fit result, the family, the record for training_summary.json). `fit(family, custom,
    callbacks)` trains one family; `custom["model"]["auto_max_seconds"]` is the candidates' time together (an
    equal share each). `scaling`: the regression target's on the eval batches."""
    custom = dict(custom or {})
    families, left_out = candidates(spec)
    budget = float(custom.get("model", {}).get("auto_max_seconds") or 0)
    results, scores, seconds = {}, {}, {}
    for family in families:
        started = time.time()
        family_custom, callbacks = _budgeted(custom, family, budget / len(families))
        results[family] = fit(family, family_custom, callbacks)
        seconds[family] = round(time.time() - started, 2)
        scores[family] = family_score(results[family][0].model, eval_ds, spec, scaling, family)
    chosen = max(families, key=lambda f: scores[f])  # max keeps the first of equals: dnn
    metric = METRIC[spec.task]
    others = ", ".join(f"{f} {scores[f]:.4f}" for f in families if f != chosen)
    why = f"{chosen} scored {metric} {scores[chosen]:.4f} on the eval split" + (f" (vs {others})" if others else "")
    if left_out:
        why += f"; {left_out}"
    record = {"metric": metric, "scores": scores, "train_seconds": seconds, "chosen": chosen, "why": why,
              "budget_seconds": budget or None}
    return results[chosen], chosen, record


def reuse_record(choice: Mapping[str, Any]) -> dict:
    """training_summary.json's `auto` when an earlier run's choice is reused: its scores, and the run that scored."""
    scores = dict(choice.get("scores") or {})
    others = ", ".join(f"{f} {v:.4f}" for f, v in scores.items() if f != choice["family"])
    scored = f"{choice.get('metric')} {scores[choice['family']]:.4f}" if choice["family"] in scores else "best"
    why = (f"reused the choice of run {choice.get('run')} (same config): {choice['family']} scored {scored}"
           + (f" there (vs {others})" if others else "") + f"; only {choice['family']} trained")
    return {"metric": choice.get("metric"), "scores": scores, "chosen": choice["family"], "why": why,
            "reused_from": choice.get("run")}
