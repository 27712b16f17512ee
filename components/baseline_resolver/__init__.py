"""Resolver strategy for the Evaluator's baseline: the latest blessed model other than the candidate itself."""
