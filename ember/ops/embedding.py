"""Embedding lookups: F.embedding and F.embedding_bag."""

__all__: list[str] = []
