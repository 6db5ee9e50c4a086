"""Gumbel-softmax: a differentiable sample from a categorical distribution.

Composed from existing ops as PyTorch composes it: Gumbel(0, 1) noise is -log of Exp(1)
draws from Ember's generator; the hard variant is the straight-through estimator
(a one-hot forward with the soft sample's gradient).
"""

from __future__ import annotations

import warnings

from ember.ops.creation import empty_like, zeros_like
from ember.ops.floatmath import log
from ember.ops.random_inplace import exponential_
from ember.ops.scatter import scatter
from ember.ops.selection import max
from ember.ops.softmax import softmax
from ember.tensor import Tensor

__all__ = ["gumbel_softmax"]


def _gumbels(logits: Tensor) -> Tensor:
    """Gumbel(0, 1) noise shaped like logits, drawn from Ember's default generator."""
    return -log(exponential_(empty_like(logits)))


def gumbel_softmax(
    logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """Draw a Gumbel-softmax sample along dim. Mirrors ``torch.nn.functional.gumbel_softmax``.

    The sample is softmax((logits + g) / tau) with g ~ Gumbel(0, 1) from Ember's generator.
    ``hard=True`` returns the one-hot of the sample's argmax along dim, whose gradient is the
    soft sample's (straight-through). ``eps`` is deprecated and ignored, with PyTorch's warning.
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    y_soft = softmax((logits + _gumbels(logits)) / tau, dim)
    if not hard:
        return y_soft
    index = max(y_soft, dim, keepdim=True).indices
    y_hard = scatter(zeros_like(logits), dim, index, value=1.0)
    return y_hard - y_soft.detach() + y_soft
