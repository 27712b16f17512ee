"""AtomicPusher: smoke-tests a blessed model, writes TF Serving warmup requests and publishes it atomically.

`AtomicPusher` is imported on first use, so that `components.atomic_pusher.properties` (the PushedModel's property
names, read by the metadata queries) can be imported without loading TFX.
"""

__all__ = ["AtomicPusher"]


def __getattr__(name: str):
    if name == "AtomicPusher":
        from components.atomic_pusher.component import AtomicPusher

        return AtomicPusher
    raise AttributeError(name)
