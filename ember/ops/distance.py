"""Distances and encodings: cosine_similarity, pairwise_distance, normalize, one_hot."""

__all__: list[str] = []
