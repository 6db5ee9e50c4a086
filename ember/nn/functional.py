"""Functional forms of the layers. Mirrors ``torch.nn.functional``.

The math lives in ``ember.ops``; this namespace re-exports it under PyTorch's names.
"""

from ember.ops.padding import pad

__all__ = ["pad"]
