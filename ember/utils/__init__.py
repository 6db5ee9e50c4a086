"""Utilities beside the core library. Mirrors ``torch.utils``: ``data`` and ``checkpoint``."""

from ember.utils import checkpoint, data

__all__ = ["checkpoint", "data"]
