"""The user's CSV data: reading it as CsvExampleGen does, pre-flight checks against config and schema, schema
inference. Plain Python (csv, schema protos): it runs before TensorFlow is imported."""
