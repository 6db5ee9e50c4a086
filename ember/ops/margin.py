"""Margin and embedding losses, composed of Ember ops (so every gradient is differentiable).

Mirrors PyTorch's composite ATen definitions term by term (same epsilons, same masks), so
values and gradients match, kinks included.
"""

from __future__ import annotations

from collections.abc import Callable

from ember.backend import array_module
from ember.ops.combine import clamp_min, minimum, where
from ember.ops.comparison import eq, ne, type_name
from ember.ops.dims import unsqueeze
from ember.ops.floatmath import exp, log1p, sqrt
from ember.ops.loss_common import apply_reduction, reduction_mode
from ember.ops.norms import vector_norm
from ember.ops.reduction import sum
from ember.ops.scatter import gather
from ember.tensor import Tensor

__all__ = [
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
]

_EPSILON = 1e-12  # PyTorch's cosine_embedding_loss


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the cosine embedding loss. Mirrors ``torch.nn.functional.cosine_embedding_loss``.

    1 - cos for target 1, max(0, cos - margin) for target -1.
    Shapes: inputs (N, D) with target (N), or inputs (D) with target (). cos divides by
    sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)), as PyTorch.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    tdim = target.ndim
    if tdim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != tdim + 1 or input2.ndim != tdim + 1:
        raise RuntimeError(
            f"{tdim}D target tensor expects {tdim + 1}D input tensors, but found inputs with "
            f"sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    prod_sum = sum(input1 * input2, tdim)
    mag_square1 = sum(input1 * input1, tdim) + _EPSILON
    mag_square2 = sum(input2 * input2, tdim) + _EPSILON
    cos = prod_sum / sqrt(mag_square1 * mag_square2)
    pos = where(eq(target, 1), 1 - cos, 0.0)
    neg = where(eq(target, -1), clamp_min(cos - margin, 0), 0.0)
    return apply_reduction(pos + neg, reduction)


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the margin ranking loss. Mirrors ``torch.nn.functional.margin_ranking_loss``.

    max(0, -target * (input1 - input2) + margin).
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape!r}, input2: {input2.shape!r}, target: {target.shape!r} "
        )
    return apply_reduction(clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the hinge embedding loss. Mirrors ``torch.nn.functional.hinge_embedding_loss``.

    input where target is 1, max(0, margin - input) where it is -1.
    As PyTorch, a target other than 1 and -1 gets both terms.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    margin_term = where(ne(target, 1), clamp_min(margin - input, 0), 0.0)
    self_term = where(ne(target, -1), input, 0.0)
    return apply_reduction(margin_term + self_term, reduction)


def soft_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return log(1 + exp(-target * input)). Mirrors ``torch.nn.functional.soft_margin_loss``."""
    reduction = reduction_mode(size_average, reduce, reduction)
    return apply_reduction(log1p(exp(-input * target)), reduction)


def _pairwise_distance(x1: Tensor, x2: Tensor, p: float, eps: float) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim, as ``torch.pairwise_distance``."""
    return vector_norm(x1 - x2 + eps, p, -1)


def _check_triplet_dims(anchor: Tensor, positive: Tensor, negative: Tensor) -> None:
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative "
            f"{n_dim}D inputs"
        )


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the triplet margin loss. Mirrors ``torch.nn.functional.triplet_margin_loss``.

    max(0, margin + d(a, p) - d(a, n)) with d(x, y) = ||x - y + eps||_p over the last dim;
    ``swap`` uses min(d(a, n), d(p, n)).
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist_pos = _pairwise_distance(anchor, positive, p, eps)
    dist_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = minimum(dist_neg, _pairwise_distance(positive, negative, p, eps))
    return apply_reduction(clamp_min(margin + dist_pos - dist_neg, 0), reduction)


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """Return the triplet loss. Mirrors ``torch.nn.functional.triplet_margin_with_distance_loss``.

    ``distance_function`` (any callable of two tensors) defaults to the pairwise Euclidean distance.
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    if distance_function is None:
        distance_function = lambda x1, x2: _pairwise_distance(x1, x2, 2.0, 1e-6)  # noqa: E731
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_neg = minimum(dist_neg, distance_function(positive, negative))
    return apply_reduction(clamp_min(margin + dist_pos - dist_neg, 0), reduction)


def _check_long(target: Tensor) -> None:
    if target.data.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {type_name(target)}")


def multi_margin_loss(
    input: Tensor,
    target: Tensor,
    p: int = 1,
    margin: float = 1.0,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the multi-class hinge loss. Mirrors ``torch.nn.functional.multi_margin_loss``.

    sum over j != y of max(0, margin - x[y] + x[j])^p * w[y] / C.
    Shapes: input (N, C) with target (N), or input (C) with target ().
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_long(target)
    rows = input.reshape(1, -1) if input.ndim < 2 else input
    N, C = rows.shape
    if target.ndim > 1 or target.numel() != N:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{N}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}."
        )
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"inconsistent weight size, expected {C} but got {list(weight.shape)}")
    t = target.data.reshape(-1, 1)
    if t.size and (t.min() < 0 or t.max() >= C):
        raise RuntimeError("target out of range")
    index = Tensor(t)
    margins = clamp_min(margin - gather(rows, 1, index) + rows, 0)  # (N, C)
    if p == 2:
        margins = margins * margins
    if weight is not None:
        margins = margins * gather(unsqueeze(weight, 0).expand(N, C), 1, index)
    xp = array_module(t)
    others = Tensor(xp.arange(C) != t)  # the target class itself does not count
    loss = sum(where(others, margins, 0.0), 1) / C
    return apply_reduction(loss if input.ndim == 2 else loss.reshape(()), reduction)


def multilabel_margin_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the multi-label hinge loss. Mirrors ``torch.nn.functional.multilabel_margin_loss``.

    Sum over target classes j and other classes k of max(0, 1 - x[j] + x[k]) / C.
    Shapes: input and target (N, C) or (C); a row's targets are the class indices before the
    first -1.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    _check_long(target)
    if target.shape != input.shape or input.ndim > 2:
        raise RuntimeError(
            f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}"
        )
    rows = input.reshape(1, -1) if input.ndim < 2 else input
    N, C = rows.shape
    t = target.data.reshape(N, C)
    xp = array_module(t)
    if t.size and (t.min() < -1 or t.max() >= C):
        raise RuntimeError("argument #2 'target' is out of range")
    listed = xp.cumprod(t != -1, axis=1).astype(bool)  # slots before the first -1
    safe = xp.where(listed, t, 0)
    is_target = xp.zeros((N, C + 1), bool)  # column C collects the unlisted slots
    is_target[xp.arange(N)[:, None], xp.where(listed, t, C)] = True
    is_target = is_target[:, :C]
    x_target = gather(rows, 1, Tensor(safe))  # (N, C): x at each listed target
    pairs = clamp_min(1 - unsqueeze(x_target, 2) + unsqueeze(rows, 1), 0)  # (N, slot, k)
    mask = Tensor(listed[:, :, None] & ~is_target[:, None, :])
    loss = sum(where(mask, pairs, 0.0), (1, 2)) / C
    return apply_reduction(loss if input.ndim == 2 else loss.reshape(()), reduction)
