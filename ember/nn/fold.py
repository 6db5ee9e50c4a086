"""Fold and Unfold layers."""

__all__: list[str] = []
