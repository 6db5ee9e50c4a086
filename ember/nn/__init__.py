"""Neural-network building blocks. Mirrors ``torch.nn``.

For now only ``ember.nn.functional`` (with ``pad``); the modules, parameters and layers come
with the nn issue.
"""

from ember.nn import functional

__all__ = ["functional"]
