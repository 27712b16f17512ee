"""`tfx-e2e explain`: integrated-gradients attributions per raw feature (explain.py, integrated.py) and saliency
pictures for image models (saliency.py), through a pushed model's explanation functions."""
