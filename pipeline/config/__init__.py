"""The one typed pipeline configuration: schema.py (the dataclasses), evaluation.py (metrics and gates per task),
loader.py (YAML + overrides → PipelineConfig), checks.py (the rules beyond each key's type)."""
