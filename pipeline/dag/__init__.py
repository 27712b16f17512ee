"""The one TFX DAG: create_pipeline (factory.py) from the node builders (data_nodes.py, model_nodes.py), for a run
target (targets.py), with the TFMA config (tfma_config.py), node ids (node_ids.py) and TFX's names (tfx_api.py)."""
