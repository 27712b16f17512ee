"""The FeatureImportance artifact: its type name, file and custom properties, and the component's parameter names.

No TFX import here, so readers of ML Metadata (pipeline.metadata.importance) can use these names without loading TFX.
"""

# The MLMD type name of the component's output. KFP v2 needs a custom type's name to read `<module>.<Class>`
# (tfx.orchestration.kubeflow.v2.compiler_utils), and its container imports the class by that path.
ARTIFACT_TYPE = "components.FeatureImportance"
IMPORTANCE_KEY = "importance"  # the output channel
IMPORTANCE_FILE = "importance.json"  # in the artifact's URI: every feature, sorted (permutation.Result.to_json)

# Custom properties of the artifact (so `tfx-e2e inspect`, the summary and compare need not open the file).
METRIC_PROPERTY = "metric"  # auc | accuracy | r2 | reconstruction_error
BASELINE_PROPERTY = "baseline_score"  # the metric on the unshuffled rows
ROWS_PROPERTY = "eval_rows"  # rows scored
REPEATS_PROPERTY = "repeats"
TOP_FEATURES_PROPERTY = "top_features"  # JSON list of [name, importance] of the top 5

# Inputs and execution parameters.
MODEL_KEY = "model"
EXAMPLES_KEY = "examples"
EVALUATION_KEY = "evaluation"
TASK_KEY = "task"  # binary | multiclass | regression | reconstruction (the Evaluator's objective)
LABEL_KEY = "label_key"  # the transformed label transform_features returns (LabelSpec.transformed_key)
WEIGHT_KEY = "weight_key"  # its 1/0 "has a label" weight (LabelSpec.weight_key); rows weighing 0 are left out
MAX_ROWS_KEY = "max_rows"
REPEATS_KEY = "repeats"
SEED_KEY = "seed"

TOP = 5  # features kept in TOP_FEATURES_PROPERTY
