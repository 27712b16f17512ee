"""The orchestrators a compiled pipeline is for: the one list compile, validate, submit and the CLI's --target use;
`submit` also takes `local` (run the compiled file on this machine)."""

VERTEX, KUBEFLOW = "vertex", "kubeflow"
TARGETS = (VERTEX, KUBEFLOW)
LOCAL = "local"
SUBMIT_TARGETS = TARGETS + (LOCAL,)
