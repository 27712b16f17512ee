"""RSquared, a TFMA metric: the coefficient of determination R² = 1 - SSE/SST of a regression on the eval split.

TFMA has none (its SquaredPearsonCorrelation is a correlation, blind to bias), and Keras' R2Score cannot be merged
by TFMA's Keras-metric wrapper (its weights are built lazily). Written on TFMA's public custom-metric API
(tfma.metrics.Metric, MetricComputation, to_label_prediction_example_weight); the Evaluator loads it by
MetricConfig(class_name="RSquared", module=<this module>). R² > 0 means better than predicting the mean label.
"""

from __future__ import annotations

from typing import Any, Iterable

import apache_beam as beam
import tensorflow_model_analysis as tfma

NAME = "r_squared"


class RSquared(tfma.metrics.Metric):
    """1 - Σw(y-ŷ)² / Σw(y-ȳ)², example-weighted when the EvalConfig has example weights."""

    def __init__(self, name: str = NAME):
        super().__init__(tfma.metrics.merge_per_key_computations(_computations), name=name)


def _computations(name: str = NAME, eval_config: Any = None, model_name: str = "", output_name: str = "",
                  sub_key: Any = None, aggregation_type: Any = None, class_weights: Any = None,
                  example_weighted: bool = False) -> Any:
    key = tfma.metrics.MetricKey(name=name, model_name=model_name, output_name=output_name, sub_key=sub_key,
                                 example_weighted=example_weighted)
    return [tfma.metrics.MetricComputation(
        keys=[key], preprocessors=None,
        combiner=_Combiner(key, eval_config, aggregation_type, class_weights, example_weighted))]


class _Combiner(beam.CombineFn):
    """Accumulates [Σw, Σwy, Σwy², Σw(y-ŷ)²]."""

    def __init__(self, key: Any, eval_config: Any, aggregation_type: Any, class_weights: Any, example_weighted: bool):
        self._key = key
        self._eval_config = eval_config
        self._aggregation_type = aggregation_type
        self._class_weights = class_weights
        self._example_weighted = example_weighted

    def create_accumulator(self) -> list[float]:
        return [0.0, 0.0, 0.0, 0.0]

    def add_input(self, acc: list[float], element: Any) -> list[float]:
        for label, prediction, weight in tfma.metrics.to_label_prediction_example_weight(
            element, eval_config=self._eval_config, model_name=self._key.model_name,
            output_name=self._key.output_name, aggregation_type=self._aggregation_type,
            class_weights=self._class_weights, example_weighted=self._example_weighted,
        ):
            w, y, p = float(weight), float(label), float(prediction)
            acc[0] += w
            acc[1] += w * y
            acc[2] += w * y * y
            acc[3] += w * (y - p) ** 2
        return acc

    def merge_accumulators(self, accumulators: Iterable[list[float]]) -> list[float]:
        total = [0.0, 0.0, 0.0, 0.0]
        for acc in accumulators:
            total = [a + b for a, b in zip(total, acc)]
        return total

    def extract_output(self, acc: list[float]) -> dict:
        weight, sum_y, sum_y2, sse = acc
        sst = sum_y2 - sum_y * sum_y / weight if weight > 0 else 0.0
        return {self._key: 1.0 - sse / sst if sst > 0 else float("nan")}
