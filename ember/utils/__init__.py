"""Mirrors ``torch.utils`` (data, checkpoint, dlpack, benchmark)."""

from ember.utils import benchmark, checkpoint, data, dlpack

__all__ = ["benchmark", "checkpoint", "data", "dlpack"]
