"""Binary cross entropy, of probabilities and of logits, and the losses built on it.

Both have fused elementwise kernels, as PyTorch's: the log of a probability is clamped at
-100, and the logit form uses a softplus that never overflows. The backward formulas are
PyTorch's and compose Ember ops, so they are differentiable again.
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.combine import clamp_min
from ember.ops.common import quiet
from ember.ops.comparison import type_name
from ember.ops.floatmath import exp, log, sigmoid
from ember.ops.loss_common import apply_reduction, reduction_mode
from ember.ops.magnitude import abs, relu
from ember.ops.reduction import sum
from ember.ops.shape import broadcast_tensors, sum_to
from ember.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multilabel_soft_margin_loss",
    "sigmoid_focal_loss",
]


class BinaryCrossEntropy(Function):
    """-(y log x + (1 - y) log(1 - x)), each log clamped at -100, as PyTorch's kernel."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):  # log(0) = -inf, then clamped
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        ctx.save_for_backward(x, y)
        return (-(y * log_x + (1 - y) * log_1mx)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        # PyTorch's formulas: d/dx = (x - y) / max(x (1 - x), 1e-12); d/dy = -logit(x).
        grad_x = grad * (x - y) / clamp_min(x * (1 - x), 1e-12) if ctx.needs_input_grad[0] else None
        grad_y = grad * (log(1 - x) - log(x)) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the binary cross entropy. Mirrors ``torch.nn.functional.binary_cross_entropy``.

    Each log is clamped at -100, so the loss stays finite at 0 and 1, as PyTorch's.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}) is deprecated. Please ensure they have the same size."
        )
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {type_name(target)} but expected {type_name(input)}")
    x = input.data
    if x.size and not bool(((x >= 0) & (x <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return apply_reduction(loss, reduction)


class BCEWithLogits(Function):
    """(1 - y) x + (1 + (pw - 1) y) softplus(-x): -[pw y log s(x) + (1 - y) log s(-x)], stably."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array, pos_weight: Array | None) -> Array:
        xp = array_module(x)
        softplus = xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)  # -log(sigmoid(x))
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        ctx.save_for_backward(x, y, pos_weight)
        return ((1 - y) * x + scale * softplus).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y, pos_weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_x = grad_y = grad_pw = None
        if pos_weight is None:  # d/dx = sigmoid(x) - y; d/dy = -x
            grad_x = grad * (sigmoid(x) - y) if needs[0] else None
            grad_y = -grad * x if needs[1] else None
            return grad_x, grad_y, None
        if needs[0]:
            grad_x = grad * ((1 + (pos_weight - 1) * y) * sigmoid(x) - pos_weight * y)
        if needs[1] or needs[2]:
            softplus = log(1 + exp(-abs(x))) + relu(-x)
            grad_y = grad * ((pos_weight - 1) * softplus - x) if needs[1] else None
            grad_pw = sum_to(grad * y * softplus, pos_weight.shape) if needs[2] else None
        return grad_x, grad_y, grad_pw


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Return the binary cross entropy of logits.

    Mirrors ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Computed as ``(1 - y) x + (1 + (pos_weight - 1) y) * softplus(-x)`` with a softplus that
    never overflows; ``pos_weight`` broadcasts against the last dim (the classes).
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Target size ({target.shape!r}) must be the same as input size ({input.shape!r})"
        )
    if input.data.dtype.kind not in "fV":
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{type_name(input)}'")
    if pos_weight is not None:
        broadcast_tensors(input, pos_weight)  # PyTorch's broadcast error for a bad shape
    loss = BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return apply_reduction(loss, reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the multi-label loss. Mirrors ``torch.nn.functional.multilabel_soft_margin_loss``.

    ``-(y log s(x) + (1 - y) log s(-x))``, weighted, averaged over the last (class) dim.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    loss = BCEWithLogits.apply(*broadcast_tensors(input, target), None)
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    return apply_reduction(sum(loss, class_dim) / input.shape[class_dim], reduction)


def sigmoid_focal_loss(
    inputs: Tensor,
    targets: Tensor,
    alpha: float = 0.25,
    gamma: float = 2,
    reduction: str = "none",
) -> Tensor:
    """Return the focal loss of logits. Mirrors ``torchvision.ops.sigmoid_focal_loss``.

    Ember's own (not in ``torch.nn.functional``): ``alpha_t * (1 - p_t)**gamma * BCE`` with
    ``p_t = p y + (1 - p)(1 - y)``; ``alpha < 0`` turns the class weighting off.
    """
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"Invalid Value for arg 'reduction': '{reduction} \n Supported reduction modes: "
            "'none', 'mean', 'sum'"
        )
    p = sigmoid(inputs)
    ce_loss = binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    return apply_reduction(loss, reduction)
