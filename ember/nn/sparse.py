"""Embedding layers: Embedding, EmbeddingBag."""

__all__: list[str] = []
