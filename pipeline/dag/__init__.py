"""create_pipeline(cfg): the one TFX DAG and everything it is built from (TFMA config, node ids, TFX names)."""
