"""DLPack exchange. Mirrors ``torch.utils.dlpack``: ``from_dlpack`` and ``to_dlpack``.

Both share memory with their source: a tensor from another library (PyTorch, NumPy, JAX, ...)
or a DLPack capsule becomes an Ember tensor without a copy, and back.
"""

from ember.ops.interop import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]
