"""Utilities beside the core library. Mirrors ``torch.utils``: data, checkpoint, dlpack."""

from ember.utils import checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
