"""Where the rest of the project takes the generator from (the code now lives beside it)."""

from sandbox.generation.generators import DataFaker, stable_rng

__all__ = ["DataFaker", "stable_rng"]
