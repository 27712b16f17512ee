"""`tfx-e2e predict`: raw CSV / JSON-lines rows → tf.Examples typed by the model's own parse spec → serving_default."""
