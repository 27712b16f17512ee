"""The orchestrators a compiled pipeline is for: the one list compile, validate, submit and the CLI's --target use."""

VERTEX, KUBEFLOW = "vertex", "kubeflow"
TARGETS = (VERTEX, KUBEFLOW)
