"""Activation layers."""

__all__: list[str] = []
