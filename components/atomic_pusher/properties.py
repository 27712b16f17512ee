"""The PushedModel artifact's custom properties: what the Pusher records and the metadata readers look up.

The first three are the ones TFX's own Pusher sets (tfx/components/pusher/executor.py). No TFX import here, so
readers of ML Metadata can use these names without loading TFX.
"""

PUSHED_MODEL_KEY = "pushed_model"  # the Pusher's output channel
PUSHED_KEY = "pushed"  # 1 when a model was published, 0 when it was not blessed
PUSHED_DESTINATION_KEY = "pushed_destination"  # the version directory
PUSHED_VERSION_KEY = "pushed_version"
# Ours: 1 when this execution found the same model already published as the latest version and reused it.
PUSH_REUSED_KEY = "push_reused"
