"""Custom TFX components, one sub-package each: component.py (the spec) and executor.py (all the I/O)."""
