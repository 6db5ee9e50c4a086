"""Connectionist temporal classification loss (Graves et al. 2006), in log space.

The alpha (forward) and beta (backward) recursions run over the time axis only; each step is
vectorised over the batch and the extended label axis (blank, l1, blank, l2, ..., blank).
The gradient is PyTorch's: ``exp(lp) - exp(log(sum alpha * beta) + nll - lp)`` for t below
the input length, which equals the true gradient once it flows back through log_softmax.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import quiet
from ember.ops.comparison import type_name
from ember.ops.loss_common import reduction_mode
from ember.ops.reduction import mean, sum
from ember.tensor import Tensor

__all__ = ["ctc_loss"]

_NEG_INF = float("-inf")
_CHECKING = "(while checking arguments for ctc_loss_allocate_outputs)"


def _logaddexp3(a: Array, b: Array, c: Array) -> Array:
    """log(exp(a) + exp(b) + exp(c)), -inf where all three are -inf."""
    xp = array_module(a)
    top = xp.maximum(xp.maximum(a, b), c)
    shift = xp.where(top == _NEG_INF, 0, top)
    return xp.log(xp.exp(a - shift) + xp.exp(b - shift) + xp.exp(c - shift)) + shift


def _shift(a: Array, k: int, fill: Array) -> Array:
    """Shift a by k places along the last axis (right for k > 0, left for k < 0), filled."""
    out = fill.copy()
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class CTCLoss(Function):
    """Per-sample negative log likelihood of the targets under the CTC alignment model."""

    @staticmethod
    def forward(
        ctx: Context,
        lp: Array,
        labels: Array,
        lengths: Array,
        target_lengths: Array,
        blank: int,
        zero_infinity: bool,
    ) -> Array:
        xp = array_module(lp)
        T, N, _ = lp.shape
        S = labels.shape[1] * 2 + 1
        ext = xp.full((N, S), blank, dtype=labels.dtype)  # blank, l1, blank, l2, ..., blank
        ext[:, 1::2] = labels
        lp_ext = lp[:, xp.arange(N)[:, None], ext]  # (T, N, S)
        s = xp.arange(S)
        inside = s < (2 * target_lengths + 1)[:, None]  # (N, S)
        skip = (s % 2 == 1) & (s >= 2) & (ext != _shift(ext, 2, ext))
        neg = xp.full((N, S), _NEG_INF, lp.dtype)
        with quiet(xp):
            alpha = xp.full((T, N, S), _NEG_INF, lp.dtype)
            alpha[0, :, :2] = lp_ext[0, :, :2]
            alpha[0] = xp.where(inside, alpha[0], _NEG_INF)
            for t in range(1, T):
                prev = alpha[t - 1]
                two = xp.where(skip, _shift(prev, 2, neg), _NEG_INF)
                alpha[t] = xp.where(inside, _logaddexp3(prev, _shift(prev, 1, neg), two), _NEG_INF)
                alpha[t] += lp_ext[t]
            last = alpha[xp.maximum(lengths - 1, 0), xp.arange(N)]  # (N, S)
            end = 2 * target_lengths
            ll = xp.logaddexp(
                last[xp.arange(N), end],
                xp.where(end > 0, last[xp.arange(N), xp.maximum(end - 1, 0)], _NEG_INF),
            )
            ll = xp.where(lengths > 0, ll, xp.where(target_lengths == 0, 0, _NEG_INF))
        nll = (-ll).astype(lp.dtype)
        if zero_infinity:
            nll = xp.where(xp.isinf(nll), 0, nll).astype(lp.dtype)
        if ctx.needs_input_grad:
            ctx.args = (alpha, lp_ext, ext, inside, skip, lengths, target_lengths, -ll)
            ctx.zero_infinity = zero_infinity
        ctx.save_for_backward(lp)
        return nll

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (lp,) = ctx.saved_tensors
        grad_lp = _gradient(lp.data, *ctx.args, ctx.zero_infinity)
        return CTCLossBackward.apply(grad, lp, grad_lp), None, None, None, None, None


def _gradient(
    lp: Array,
    alpha: Array,
    lp_ext: Array,
    ext: Array,
    inside: Array,
    skip: Array,
    lengths: Array,
    target_lengths: Array,
    nll: Array,
    zero_infinity: bool,
) -> Array:
    """The gradient d nll / d lp as PyTorch computes it (before the upstream gradient)."""
    xp = array_module(lp)
    T, N, C = lp.shape
    S = ext.shape[1]
    neg = xp.full((N, S), _NEG_INF, lp.dtype)
    end = 2 * target_lengths
    s = xp.arange(S)
    start = inside & ((s == end[:, None]) | ((s == end[:, None] - 1) & (end[:, None] > 0)))
    skip_next = _shift(skip, -2, xp.zeros_like(skip))  # s -> s + 2 allowed
    with quiet(xp):
        beta = xp.full((T, N, S), _NEG_INF, lp.dtype)
        for t in range(T - 1, -1, -1):
            first = (t == lengths - 1)[:, None]
            later = (t < lengths - 1)[:, None]
            if t + 1 < T:
                nxt = beta[t + 1]
                two = xp.where(skip_next, _shift(nxt, -2, neg), _NEG_INF)
                rec = _logaddexp3(nxt, _shift(nxt, -1, neg), two)
            else:
                rec = neg
            beta[t] = xp.where(first & start, 0, xp.where(later & inside, rec, _NEG_INF))
            beta[t] += lp_ext[t]
        both = alpha + beta  # (T, N, S): log of the probability through (t, s), times y_t(s)
        top = both.max(axis=2, keepdims=True)
        top = xp.where(top == _NEG_INF, 0, top)
        onehot = (ext[:, :, None] == xp.arange(C)) & inside[:, :, None]  # (N, S, C)
        summed = xp.einsum("tns,nsc->tnc", xp.exp(both - top), onehot.astype(lp.dtype))
        log_ab = xp.log(summed) + top
        grad = xp.exp(lp) - xp.exp(log_ab + nll[None, :, None] - lp)
    grad[xp.arange(T)[:, None] >= lengths[None, :]] = 0
    if zero_infinity:
        grad[:, xp.isinf(nll)] = 0
    return grad.astype(lp.dtype, copy=False)


class CTCLossBackward(Function):
    """grad_lp * grad per sample. As PyTorch's, it has no derivative with respect to lp."""

    @staticmethod
    def forward(ctx: Context, grad: Array, lp: Array, grad_lp: Array) -> Array:
        ctx.grad_lp = grad_lp
        return grad_lp * grad[None, :, None]

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple:
        if ctx.needs_input_grad[1]:
            raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")
        return sum(gg * Tensor(ctx.grad_lp), (0, 2)), None, None


def _lengths(values: Any, xp: Any) -> Array:
    if isinstance(values, Tensor):
        values = values.data
    return xp.asarray(values, dtype="int64").reshape(-1)


def _labels(targets: Array, target_lengths: Array, N: int, xp: Any) -> Array:
    """Targets as (N, max length) rows, from padded (N, S) or concatenated 1-D targets."""
    longest = int(target_lengths.max()) if N else 0
    if targets.ndim == 2 or N == 0:
        if targets.ndim == 2 and longest > targets.shape[1]:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                f"{targets.shape[1]} for argument #2 'targets' {_CHECKING}"
            )
        return targets[:, :longest].reshape(N, longest)
    total = int(target_lengths.sum())
    if targets.shape[0] != total:
        raise RuntimeError(
            f"Expected tensor to have size {total} at dimension 0, but got size "
            f"{targets.shape[0]} for argument #2 'targets' {_CHECKING}"
        )
    rows = xp.zeros((N, longest), dtype=targets.dtype)
    offsets = xp.concatenate([xp.zeros(1, "int64"), xp.cumsum(target_lengths)[:-1]])
    for n in range(N):  # only the layout; the recursions never loop over the batch
        rows[n, : target_lengths[n]] = targets[offsets[n] : offsets[n] + target_lengths[n]]
    return rows


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """Return the CTC loss of label sequences. Mirrors ``torch.nn.functional.ctc_loss``.

    Shapes: log_probs (T, N, C) (or (T, C) unbatched), normalised log-probabilities; targets
    (N, S) padded or 1-D concatenated; lengths as tensors or sequences of N ints. 'mean'
    divides each loss by its target length, then averages over the batch. The gradient is
    PyTorch's (which assumes log_probs came from log_softmax; see the module docstring), and
    like PyTorch's it cannot be differentiated again.
    Differences from PyTorch: target values outside [0, C) raise instead of reading garbage.
    """
    reduction = reduction_mode(None, None, reduction)
    xp = array_module(log_probs.data)
    unbatched = log_probs.ndim == 2
    lp = log_probs.reshape(log_probs.shape[0], 1, -1) if unbatched else log_probs
    if lp.data.dtype.kind not in "fV":
        raise RuntimeError(f"ctc_loss: expected a floating point log_probs, got {type_name(lp)}")
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    lengths, target_lens = _lengths(input_lengths, xp), _lengths(target_lengths, xp)
    if lengths.shape[0] != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if target_lens.shape[0] != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    if N and int(lengths.max()) > T:
        raise RuntimeError(
            f"Expected input_lengths to have value at most {T}, but got value "
            f"{int(lengths.max())} {_CHECKING}"
        )
    t = targets.data
    if unbatched:
        t = t.reshape(1, -1)
    labels = _labels(t, target_lens, N, xp)
    if labels.size and (labels.min() < 0 or labels.max() >= C):
        raise RuntimeError(f"ctc_loss: target values must lie in [0, {C})")
    nll = CTCLoss.apply(lp, labels, lengths, target_lens, blank, zero_infinity)
    if reduction == "none":
        return nll.reshape(()) if unbatched else nll
    if reduction == "sum":
        return sum(nll)
    return mean(nll / Tensor(xp.maximum(target_lens, 1).astype(nll.data.dtype)))
