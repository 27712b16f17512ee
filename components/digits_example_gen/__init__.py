"""DigitsExampleGen: scikit-learn's bundled 8x8 handwritten digits as train/eval TFX Examples."""

from components.digits_example_gen.component import DigitsExampleGen

__all__ = ["DigitsExampleGen"]
