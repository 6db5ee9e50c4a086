"""Loss functions. Mirrors the losses of ``torch.nn.functional``.

cross_entropy is fused with log_softmax (one op forward and one op backward over the (M, C)
logits, max-shifted, so logits of 1e4 are fine); binary cross entropy (with or without
logits) has fused elementwise kernels as PyTorch's. The other losses compose Ember ops, so
every gradient is differentiable again. This module holds the regression and probabilistic
losses and re-exports the rest: cross_entropy and nll_loss (``classification.py``), binary
cross entropy and its relatives (``binary.py``), the margin losses (``margin.py``) and CTC
(``ctc.py``). Reductions: ``loss_common.py``.
"""

from __future__ import annotations

import builtins
import math
import warnings

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.binary import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    multilabel_soft_margin_loss,
    sigmoid_focal_loss,
)
from ember.ops.classification import cross_entropy, nll_loss
from ember.ops.combine import where
from ember.ops.common import promote
from ember.ops.comparison import eq, gt, lt, type_name
from ember.ops.ctc import ctc_loss
from ember.ops.floatmath import exp, log
from ember.ops.loss_common import apply_reduction, legacy_reduction, reduction_mode
from ember.ops.magnitude import abs, sign
from ember.ops.margin import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from ember.ops.reduction import sum
from ember.ops.shape import broadcast_tensors
from ember.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "binary_cross_entropy_with_logits",
    "gaussian_nll_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "mse_loss",
    "poisson_nll_loss",
    "sigmoid_focal_loss",
    "smooth_l1_loss",
]


def _warn_size(input: Tensor, target: Tensor) -> None:
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _float_pair(input: Tensor, target: Tensor, kernel: str) -> tuple[Tensor, Tensor]:
    input, target = promote(input, target)
    if input.data.dtype.kind not in "fV":
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(input)}'")
    return broadcast_tensors(input, target)


def _weighted(loss: Tensor, input: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """PyTorch's per-element weighting of mse/l1: 'mean' divides by the sum of the weights."""
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    return sum(loss) / sum(weight) if reduction == "mean" else apply_reduction(loss, reduction)


# -- regression ----------------------------------------------------------------------------
def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Return the (weighted) squared error. Mirrors ``torch.nn.functional.mse_loss``."""
    _warn_size(input, target)
    reduction = reduction_mode(size_average, reduce, reduction)
    diff = _float_pair(input, target, "mse_cpu")
    loss = (diff[0] - diff[1]) ** 2
    if weight is not None:
        return _weighted(loss, input, weight, reduction)
    return apply_reduction(loss, reduction)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """Return the (weighted) absolute error. Mirrors ``torch.nn.functional.l1_loss``.

    The gradient at input == target is 0 (sign(0)), as PyTorch's.
    """
    _warn_size(input, target)
    reduction = reduction_mode(size_average, reduce, reduction)
    x, y = _float_pair(input, target, "abs_cpu")
    loss = abs(x - y)
    if weight is not None:
        return _weighted(loss, input, weight, reduction)
    return apply_reduction(loss, reduction)


class SmoothL1(Function):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = x - y); beta > 0.

    With ``huber=True`` it is Huber's loss with delta = beta: beta times that.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array, beta: float, huber: bool) -> Array:
        xp = array_module(x)
        d = x - y
        ad = xp.abs(d)
        if huber:
            out = xp.where(ad < beta, 0.5 * d * d, beta * (ad - 0.5 * beta))
        else:
            out = xp.where(ad < beta, 0.5 * d * d / beta, ad - 0.5 * beta)
        ctx.save_for_backward(x, y)
        ctx.beta, ctx.huber = beta, huber
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        beta = ctx.beta
        d = x - y
        inside = lt(abs(d), beta)
        slope = where(inside, d, sign(d) * beta) if ctx.huber else where(inside, d / beta, sign(d))
        g = grad * slope
        return (
            g if ctx.needs_input_grad[0] else None,
            -g if ctx.needs_input_grad[1] else None,
            None,
            None,
        )


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Return the smooth L1 loss. Mirrors ``torch.nn.functional.smooth_l1_loss``.

    ``beta=0`` is the L1 loss, as PyTorch.
    """
    _warn_size(input, target)
    reduction = reduction_mode(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    x, y = _float_pair(input, target, "smooth_l1_cpu")
    return apply_reduction(SmoothL1.apply(x, y, float(beta), False), reduction)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """Return Huber's loss. Mirrors ``torch.nn.functional.huber_loss``.

    With ``weight``, 'mean' is the plain mean of the weighted losses, as PyTorch's.
    """
    _warn_size(input, target)
    reduction = reduction_mode(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    x, y = _float_pair(input, target, "huber_cpu")
    loss = SmoothL1.apply(x, y, float(delta), True)
    if weight is not None:
        if weight.shape != input.shape:
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return apply_reduction(loss, reduction)


# -- probabilistic -------------------------------------------------------------------------
def kl_div(
    input: Tensor,
    target: Tensor,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Return KL(target || exp(input)) pointwise. Mirrors ``torch.nn.functional.kl_div``.

    ``input`` holds log-probabilities; ``target`` probabilities (log-probabilities with
    ``log_target``). 'batchmean' divides the sum by the batch size; 'mean' warns as PyTorch.
    Terms with target == 0 are 0. Differences from PyTorch: the target gradient there is 0 (the
    limit of t log t), where PyTorch's xlogy gives NaN.
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    else:
        reduction = reduction_mode(None, None, reduction, ("batchmean",))
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the "
                "support size.'batchmean' divides only by the batch size, and aligns with the "
                "KL div math definition.'mean' will be changed to behave the same as "
                "'batchmean' in the next major release.",
                UserWarning,
                stacklevel=2,
            )
    if log_target:
        loss = exp(target) * (target - input)
    else:
        zero = eq(target, 0)
        safe = where(zero, 1.0, target)  # keeps log(0) out of the graph
        loss = where(zero, 0.0, target * (log(safe) - input))
    if reduction == "batchmean":
        total = sum(loss)
        return total / input.shape[0] if input.ndim else total
    return apply_reduction(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the Poisson NLL. Mirrors ``torch.nn.functional.poisson_nll_loss``.

    ``exp(input) - target * input`` (``log_input``) or ``input - target * log(input + eps)``;
    ``full`` adds Stirling's term ``t log t - t + 0.5 log(2 pi t)`` where target > 1.
    Differences from PyTorch: with ``full``, the target gradient at target == 0 is 0, where
    PyTorch's masked Stirling term gives NaN.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        big = gt(target, 1)
        t = where(big, target, 1.0)  # keeps log(0) out of the graph
        stirling = t * log(t) - t + 0.5 * log(2 * math.pi * t)
        loss = loss + where(big, stirling, 0.0)
    return apply_reduction(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var: Tensor | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """Return the Gaussian NLL. Mirrors ``torch.nn.functional.gaussian_nll_loss``.

    ``0.5 (log var + (input - target)^2 / var)`` (+ 0.5 log(2 pi) with ``full``). ``var`` is
    clamped at eps in the value only (the gradient passes straight through), as PyTorch. var
    may be one dim short of input, or differ from it in one dim (homoscedastic).
    """
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = Tensor(array_module(input.data).full(input.shape, var, dtype=input.data.dtype))
    elif bool((var.data < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (
            input.ndim == var.ndim
            and builtins.sum(b for a, b in zip(input.shape, var.shape) if a != b) == 1
        ):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    # PyTorch clamps a clone in place under no_grad: the value of clamp, the gradient of identity
    var = where(lt(var, eps), var - var.detach() + eps, var)
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)
