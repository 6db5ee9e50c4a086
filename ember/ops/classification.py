"""cross_entropy (fused with log_softmax) and nll_loss, over class indices or probabilities.

Both work on (M, C) rows: a K-dimensional input (N, C, d1, ..., dK) has its class dim moved
last and is flattened, and an unbatched (C,) input is one row. Every variant is written as
``loss[i] = -sum_c q[i, c] * logp[i, c]`` with coefficients q built from the targets (index
targets: weight, ignore_index and label smoothing; probability targets: the smoothed target
times the weight), so one fused forward and one fused backward serve them all:
d loss[i] / d x[i, c] = softmax(x)[i, c] * sum_c q[i, c] - q[i, c].
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import promote, quiet
from ember.ops.comparison import type_name
from ember.ops.dims import movedim, unsqueeze
from ember.ops.loss_common import reduction_mode
from ember.ops.reduction import sum
from ember.ops.shape import expand
from ember.ops.softmax import SoftmaxBackward, log_softmax, row_sum, softmax
from ember.tensor import Tensor

__all__ = ["cross_entropy", "nll_loss"]


class IndexTargets:
    """q[i, c] = pick[i] * (c == t[i]) + spread[i] * w[c], for class-index targets."""

    __slots__ = ("C", "pick", "qsum", "spread", "t", "w")

    def __init__(self, t: Array, pick: Array, spread: Array | None, w: Array | None, C: int):
        self.t, self.pick, self.spread, self.w, self.C = t, pick, spread, w, C
        if spread is None:
            self.qsum = pick
        else:
            self.qsum = pick + spread * (C if w is None else w.sum())

    def dot(self, z: Array) -> Array:
        """sum_c q[i, c] * z[i, c] for each row."""
        xp = array_module(z)
        out = self.pick * z[xp.arange(len(self.t)), self.t]
        if self.spread is not None:
            out += self.spread * (z.sum(axis=1) if self.w is None else z @ self.w)
        return out

    def subtract(self, out: Array, scale: Array) -> None:
        """out[i, c] -= scale[i] * q[i, c], in place."""
        xp = array_module(out)
        out[xp.arange(len(self.t)), self.t] -= scale * self.pick
        if self.spread is not None:
            spread = (scale * self.spread)[:, None]
            out -= spread if self.w is None else spread * self.w

    def dense(self, dtype: Any) -> Array:
        """The coefficients as an (M, C) array."""
        xp = array_module(self.pick)
        out = xp.zeros((len(self.t), self.C), dtype)
        self.subtract(out, xp.asarray(-1, dtype))
        return out


class DenseTargets:
    """q given as an (M, C) array (probability targets)."""

    __slots__ = ("q", "qsum")

    def __init__(self, q: Array) -> None:
        self.q, self.qsum = q, q.sum(axis=1)

    def dot(self, z: Array) -> Array:
        return (self.q * z).sum(axis=1)

    def subtract(self, out: Array, scale: Array) -> None:
        out -= scale[:, None] * self.q

    def dense(self, dtype: Any) -> Array:
        return self.q


def _scale(reduction: str, denom: Any) -> Any:
    """What the upstream gradient is multiplied by per row: None for 'none' (no reduction)."""
    if reduction == "none":
        return None
    if reduction == "sum":
        return 1
    # NOTE: a zero divisor means every coefficient is 0 (all targets ignored): the loss is NaN
    # but, as in PyTorch, the gradient is 0.
    return 1 / denom if denom else 0.0


def _forward(ctx: Context, x: Array, q: Any, reduction: str, denom: Any) -> Array:
    """The rows' losses sum_c q (lse - z) with z = x - max, reduced; keeps exp(z) for backward."""
    xp = array_module(x)
    dtype = x.dtype
    if dtype.itemsize < 4:  # float16/bfloat16 accumulate in float32, as PyTorch's CPU kernels
        x = x.astype("float32")
    z = x - x.max(axis=1, keepdims=True)
    loss = -q.dot(z)
    e = xp.exp(z, out=z)  # z is ours: exponentiate in place
    total = row_sum(e)
    loss += q.qsum * xp.log(total)
    if ctx.needs_input_grad:  # softmax = e / total, normalised only in backward
        ctx.probs, ctx.q = (e, 1 / total), q
        ctx.scale = _scale(reduction, denom)
    return _reduce(loss, reduction, denom, dtype)


def _reduce(loss: Array, reduction: str, denom: Any, dtype: Any) -> Array:
    """The rows' losses reduced, in the input's dtype."""
    if reduction == "none":
        return loss.astype(dtype, copy=False)
    xp = array_module(loss)
    with quiet(xp):  # 'mean' over no targets (all ignored, or empty) is NaN, as PyTorch
        return xp.asarray(loss.sum() / denom if reduction == "mean" else loss.sum(), dtype)


class CrossEntropy(Function):
    """sum_c q[i, c] * -log_softmax(x)[i, c] per row of x (M, C), q from index targets."""

    @staticmethod
    def forward(ctx: Context, x: Array, q: IndexTargets, reduction: str, denom: Any) -> Array:
        ctx.save_for_backward(x)
        return _forward(ctx, x, q, reduction, denom)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        grad_x = CrossEntropyBackward.apply(grad, x, ctx.probs, ctx.q, ctx.scale)
        return grad_x, None, None, None


class CrossEntropyProb(Function):
    """sum_c q[i, c] * -log_softmax(x)[i, c], q = (y (1 - eps) + eps / C) * w; y may need grad."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array, w: Array | None, eps: float, reduction: str):
        C = x.shape[1]
        q = y if eps == 0 else y * (1 - eps) + eps / C
        if w is not None:
            q = q * w
        ctx.save_for_backward(x, y)
        ctx.w, ctx.eps = w, eps
        return _forward(ctx, x, DenseTargets(q), reduction, x.shape[0])

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not needs[1]:
            grad_x = CrossEntropyBackward.apply(grad, x, ctx.probs, ctx.q, ctx.scale)
            return grad_x, None, None, None, None
        # The target needs a gradient: compose Ember ops, so that grad_x is differentiable in y
        # too. d/dx = rows * (softmax * sum(q) - q); d/dy = -rows * logp * w * (1 - eps).
        C, eps, w = x.shape[1], ctx.eps, ctx.w
        rows = unsqueeze(grad if ctx.scale is None else expand(grad * ctx.scale, x.shape[0]), 1)
        weight = 1 - eps if w is None else Tensor(w * (1 - eps))
        q = y * weight + (eps / C if w is None else Tensor(w * (eps / C)))
        grad_x = rows * (softmax(x, 1) * sum(q, 1, keepdim=True) - q) if needs[0] else None
        return grad_x, -rows * log_softmax(x, 1) * weight, None, None, None


class CrossEntropyBackward(Function):
    """scale[i] * (softmax(x)[i, c] * qsum[i] - q[i, c]); twice differentiable.

    ``probs`` is (exp(x - max), 1 / its row sums) from the forward, a constant here.
    """

    @staticmethod
    def forward(ctx: Context, grad: Array, x: Array, probs: tuple, q: Any, scale: Any) -> Array:
        xp = array_module(x)
        rows = grad if scale is None else xp.broadcast_to(grad * scale, (x.shape[0],))
        exps, inv_total = probs  # softmax = exps * inv_total, row by row
        out = exps * (rows * q.qsum * inv_total)[:, None]
        q.subtract(out, rows)
        ctx.save_for_backward(grad, x)
        ctx.q, ctx.scale = q, scale
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple:
        grad, x = ctx.saved_tensors
        q, scale = ctx.q, ctx.scale
        probs = softmax(x, 1)
        qsum = unsqueeze(Tensor(q.qsum), 1)
        grad_grad = grad_x = None
        if ctx.needs_input_grad[0]:
            per_row = sum(gg * (probs * qsum - Tensor(q.dense(x.data.dtype))), 1)
            grad_grad = per_row if scale is None else sum(per_row) * scale
        if ctx.needs_input_grad[1]:
            rows = grad if scale is None else expand(grad * scale, x.shape[0])
            grad_x = SoftmaxBackward.apply(gg * (unsqueeze(rows, 1) * qsum), probs, 1)
        return grad_grad, grad_x, None, None, None


# -- argument checks -----------------------------------------------------------------------
def _rows(input: Tensor) -> Tensor:
    """The input as (M, C) rows: class dim last, the others flattened."""
    ndim = input.data.ndim
    if ndim == 2:
        return input
    if ndim == 1:
        return input.reshape(1, -1)
    return movedim(input, 1, -1).reshape(-1, input.shape[1])


def _check_index_target(input: Tensor, target: Tensor) -> None:
    """PyTorch's checks of class-index targets against the input (nll_loss_nd)."""
    shape, tshape = input.shape, target.shape
    ndim = len(shape)
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if target.data.dtype.kind not in "iu" or target.data.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {type_name(target)}")
    if ndim == 1:
        if len(tshape) == 1 and tshape[0] != 1:
            raise ValueError(
                f"For 1D input, 1D target must have size 1, but got target size: {tshape[0]}"
            )
        if len(tshape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return
    if len(tshape) == 0 or shape[0] != tshape[0]:
        got = tshape[0] if tshape else 0
        raise ValueError(
            f"Expected input batch_size ({shape[0]}) to match target batch_size ({got})."
        )
    if ndim == 2 and len(tshape) != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if ndim == 4 and len(tshape) != 3:
        raise RuntimeError(
            "only batches of spatial targets supported (3D tensors) but got targets of "
            f"dimension: {len(tshape)}"
        )
    if ndim == 4 and tshape[1:] != shape[2:]:
        raise RuntimeError(f"size mismatch (got input: {list(shape)} , target: {list(tshape)}")
    if ndim > 2 and tshape[1:] != shape[2:]:
        raise RuntimeError(f"Expected target size {[shape[0], *shape[2:]]}, got {list(tshape)}")


def _check_weight(weight: Tensor | None, input: Tensor, C: int) -> Array | None:
    if weight is None:
        return None
    if weight.data.ndim != 1 or weight.data.shape[0] != C:
        raise RuntimeError(
            f"weight tensor should be defined either for all {C} classes or no classes but got "
            f"weight tensor of shape: {list(weight.shape)}"
        )
    if weight.data.dtype != input.data.dtype:
        raise RuntimeError(f"expected scalar type {type_name(input)} but found {type_name(weight)}")
    return weight.data


def index_targets(
    input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, eps: float
) -> tuple[IndexTargets, Any]:
    """The coefficients of class-index targets, and the 'mean' divisor: the weights' sum."""
    C = input.shape[1] if input.data.ndim > 1 else input.shape[0]
    w = _check_weight(weight, input, C)
    t = target.data.reshape(-1)
    xp = array_module(t)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(f"Target {int(t[bad.argmax()])} is out of bounds.")
    dtype = input.data.dtype
    all_valid = bool(valid.all())
    if not all_valid:
        t = xp.where(valid, t, 0)
    if w is None:
        picked = valid.astype(dtype) if not all_valid else xp.ones(t.shape, dtype)
    else:
        picked = w[t] if all_valid else w[t] * valid
    denom = picked.sum() if w is not None or not all_valid else t.shape[0]
    spread = None
    if eps:
        spread = (valid * (eps / C)).astype(dtype)
        picked = picked * (1 - eps)
    return IndexTargets(t, picked, spread, w, C), denom


def _float_input(input: Tensor) -> None:
    if input.data.dtype.kind not in "fV":
        raise NotImplementedError(
            f"\"log_softmax_lastdim_kernel_impl\" not implemented for '{type_name(input)}'"
        )


# -- public functions ----------------------------------------------------------------------
def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Return the cross entropy of logits. Mirrors ``torch.nn.functional.cross_entropy``.

    Shapes: input (C,), (N, C) or (N, C, d1, ..., dK); target of class indices (), (N) or
    (N, d1, ..., dK), or of probabilities shaped as input. Fused with log_softmax (max-shifted,
    stable for large logits). With index targets 'mean' divides by the summed weights of the
    non-ignored targets, as PyTorch; with probabilities, by the number of rows.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.shape == target.shape:  # class probabilities
        return _cross_entropy_prob(input, target, weight, ignore_index, reduction, label_smoothing)
    _check_index_target(input, target)
    _float_input(input)
    q, denom = index_targets(input, target, weight, ignore_index, label_smoothing)
    loss = CrossEntropy.apply(_rows(input), q, reduction, denom)
    return loss.reshape(target.shape) if reduction == "none" else loss


def _cross_entropy_prob(
    input: Tensor, target: Tensor, weight: Any, ignore_index: int, reduction: str, eps: float
) -> Tensor:
    if target.data.dtype.kind not in "fV":
        raise RuntimeError(
            "Expected floating point type for target with class probabilities, got "
            f"{type_name(target)}"
        )
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    _float_input(input)
    input, target = promote(input, target)
    C = input.shape[1] if input.data.ndim > 1 else input.shape[0]
    w = _check_weight(weight, input, C)
    loss = CrossEntropyProb.apply(_rows(input), _rows(target), w, float(eps), reduction)
    if reduction == "none":
        return loss.reshape(target.shape[:1] + target.shape[2:] if input.ndim > 1 else ())
    return loss


class NLLLoss(Function):
    """-sum_c q[i, c] x[i, c] per row (x holds log-probabilities), q from index targets."""

    @staticmethod
    def forward(ctx: Context, x: Array, q: IndexTargets, reduction: str, denom: Any) -> Array:
        loss = -q.dot(x)
        ctx.q, ctx.shape = q, x.shape
        ctx.scale = _scale(reduction, denom)
        return _reduce(loss, reduction, denom, x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        rows = grad if ctx.scale is None else expand(grad * ctx.scale, ctx.shape[0])
        return -unsqueeze(rows, 1) * Tensor(ctx.q.dense(grad.data.dtype)), None, None, None


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Return the negative log likelihood. Mirrors ``torch.nn.functional.nll_loss``.

    Shapes as ``cross_entropy`` with index targets; input holds log-probabilities. 'mean'
    divides by the summed weights of the non-ignored targets.
    """
    reduction = reduction_mode(size_average, reduce, reduction)
    _check_index_target(input, target)
    q, denom = index_targets(input, target, weight, ignore_index, 0.0)
    loss = NLLLoss.apply(_rows(input), q, reduction, denom)
    return loss.reshape(target.shape) if reduction == "none" else loss
