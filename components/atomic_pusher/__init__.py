"""AtomicPusher: smoke-tests a blessed model, writes TF Serving warmup requests and publishes it atomically."""

from components.atomic_pusher.component import AtomicPusher

__all__ = ["AtomicPusher"]
