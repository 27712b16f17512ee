"""pipeline/dag/targets.py: what each run target fixes, and the Vertex AI worker pools."""

from __future__ import annotations

from pipeline.dag.targets import CloudTarget, LocalTarget, VertexOptions


def test_each_target_fixes_what_it_does_not_let_a_caller_choose():
    local, cloud = LocalTarget(), CloudTarget()
    assert (local.portable_resolvers, local.schema_file, local.vertex) == (False, None, None)
    assert (cloud.portable_resolvers, cloud.enable_cache, cloud.allow_anomalies) == (True, True, False)
    assert cloud.metadata_connection_config is None  # the cloud orchestrator brings its own ML Metadata
    assert (local.enable_cache, local.allow_anomalies, tuple(local.beam_pipeline_args)) == (True, False, ())


def test_one_pool_per_role_with_the_accelerators_on_each():
    one = VertexOptions(project="p", region="r", image="img")
    assert one.worker_pool_specs() == [
        {"machine_spec": {"machine_type": "n1-standard-4"}, "replica_count": 1, "container_spec": {"image_uri": "img"}}
    ]
    many = VertexOptions(project="p", region="r", image="img", accelerator_type="NVIDIA_TESLA_T4", replica_count=3)
    chief, workers = many.worker_pool_specs()
    assert chief["replica_count"] == 1 and workers["replica_count"] == 2  # the chief, then the other workers
    # An accelerator with no count means one per machine.
    assert chief["machine_spec"] == workers["machine_spec"] == {
        "machine_type": "n1-standard-4", "accelerator_type": "NVIDIA_TESLA_T4", "accelerator_count": 1}
