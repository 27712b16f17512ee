"""Kubeflow Pipelines v2 / Vertex AI: compile create_pipeline(cfg) to a PipelineJob, validate it offline, submit."""
