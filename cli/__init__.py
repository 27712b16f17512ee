"""`tfx-e2e` (also `python -m cli`): the command line, above every other package (pipeline/, kubeflow/, components/
never import it)."""

import trainer_module  # noqa: F401  (sets TF_USE_LEGACY_KERAS before anything imports TensorFlow)
