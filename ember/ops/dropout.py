"""Dropout and its variants."""

__all__: list[str] = []
