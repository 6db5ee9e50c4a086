"""Distance layers: CosineSimilarity, PairwiseDistance."""

__all__: list[str] = []
