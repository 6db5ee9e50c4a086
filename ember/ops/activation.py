"""Activation functions (F.relu, F.gelu, ...)."""

__all__: list[str] = []
