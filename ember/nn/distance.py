"""Distance layers: CosineSimilarity and PairwiseDistance."""

from __future__ import annotations

from ember.nn import functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """Return the cosine similarity of x1 and x2 along dim. Mirrors ``torch.nn.CosineSimilarity``.

    Shapes: (*, D, *) and a broadcastable other -> the shape without dim.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """Return the p-norm of x1 - x2 + eps over the last dim. Mirrors ``torch.nn.PairwiseDistance``.

    Shapes: (*, D) and (*, D) -> (*), or (*, 1) with keepdim.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
