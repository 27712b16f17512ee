"""Pipeline wiring, configuration, runners and the `tfx-e2e` command line."""

import trainer_module  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)
