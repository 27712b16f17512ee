"""Node ids of the DAG (create_pipeline sets them; ML Metadata records them; readers look runs up by them)."""

EXAMPLE_GEN = "CsvExampleGen"
DIGITS_EXAMPLE_GEN = "DigitsExampleGen"
STATISTICS_GEN = "StatisticsGen"
SCHEMA_GEN = "SchemaGen"
IMPORT_SCHEMA_GEN = "ImportSchemaGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
ANOMALIES_GATE = "AnomaliesGate"
TRANSFORM = "Transform"
TUNER = "Tuner"
WARM_START_RESOLVER = "warm_start_model_resolver"
TRAINER = "Trainer"
BASELINE_RESOLVER = "latest_blessed_model_resolver"
EVALUATOR = "Evaluator"
PUSHER = "Pusher"

# Resolver nodes record no execution of their own in a local run.
SYSTEM_NODE_SUFFIX = "_resolver"
