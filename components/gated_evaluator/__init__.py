"""The Evaluator with default blessing gates: TFX's Evaluator, plus "better than the naive model" value gates when
the config sets none and "not worse than the baseline" when it sets no change gate (gates.py, executor.py)."""
