"""Utilities beside the core library. Mirrors ``torch.utils``: for now, ``ember.utils.data``."""

from ember.utils import data

__all__ = ["data"]
