"""Trainer executor that records the model family on the Model artifact it produces (so resolvers can filter on it)."""
