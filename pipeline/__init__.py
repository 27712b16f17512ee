"""The library under the command line: config/, dag/ (create_pipeline), local/ (the local runner), data/ (pre-flight
checks), predict/, metadata/ (ML Metadata queries). It never imports cli/ or kubeflow/."""

import trainer_module  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)
