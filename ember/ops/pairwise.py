"""Pairwise distances: cdist, pdist, dist, and renorm (rescaling sub-tensors by their norm).

``Cdist`` computes every row-to-row p-norm directly; its backward composes Ember ops on the
row differences, with PyTorch's conventions (zero distance gives zero gradient; for p = inf
every tied coordinate gets the full gradient), so it is differentiable again. For p = 2 with
more than 25 rows PyTorch switches to a matmul expansion (|a|^2 - 2ab + |b|^2); ``cdist`` does
the same, with the same composite ops, so values and gradients follow PyTorch's.
"""

from __future__ import annotations

import math

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.combine import clamp_min, where
from ember.ops.common import wrap_dim
from ember.ops.dims import unsqueeze
from ember.ops.floatmath import sqrt
from ember.ops.join import cat
from ember.ops.linalg import matmul
from ember.ops.magnitude import abs, sign
from ember.ops.norms import vector_norm
from ember.ops.powers import pow
from ember.ops.reduction import sum
from ember.ops.shape import expand, reshape
from ember.tensor import Tensor

__all__ = ["cdist", "dist", "pdist", "renorm"]

_MODES = {
    "use_mm_for_euclid_dist_if_necessary": 0,
    "use_mm_for_euclid_dist": 1,
    "donot_use_mm_for_euclid_dist": 2,
}


class Cdist(Function):
    """out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p for equal batch shapes."""

    @staticmethod
    def forward(ctx: Context, x1: Array, x2: Array, p: float) -> Array:
        xp = array_module(x1, x2)
        diff = xp.abs(x1[..., :, None, :] - x2[..., None, :, :])
        if p == 0:
            out = (diff != 0).sum(axis=-1).astype(x1.dtype)
        elif p == 1:
            out = diff.sum(axis=-1)
        elif p == 2:
            out = xp.sqrt((diff * diff).sum(axis=-1))
        elif p == math.inf:
            out = diff.max(axis=-1) if diff.shape[-1] else diff.sum(axis=-1)
        else:
            with xp.errstate(over="ignore"):
                out = (diff**p).sum(axis=-1) ** (1 / p)
        ctx.p = p
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x1, x2, out = ctx.saved_tensors
        p, dtype = ctx.p, out.data.dtype
        diff = unsqueeze(x1, -2) - unsqueeze(x2, -3)  # (..., P, R, M)
        g = unsqueeze(grad, -1)
        if p == 0:
            return x1 * 0, x2 * 0, None
        if p == 1:
            term = g * sign(diff)
        elif p == math.inf:
            dist = unsqueeze(out, -1)
            ties = Tensor(
                array_module(diff.data).abs(diff.data) == dist.data
            )  # all ties: full grad
            term = where(ties, g * sign(diff), 0.0)
        else:
            # zero distance: every difference is 0 too, so 1 in the denominator gives 0
            safe = unsqueeze(out + Tensor((out.data == 0).astype(dtype)), -1)
            if p == 2:
                term = g * diff / safe
            else:  # |diff|^(p-1) is finite where diff = 0 (sign(0) = 0 kills that term)
                magnitude = abs(diff) + Tensor((diff.data == 0).astype(dtype))
                term = g * sign(diff) * pow(magnitude / safe, p - 1)
        needs = ctx.needs_input_grad
        return (
            sum(term, -2) if needs[0] else None,
            -sum(term, -3) if needs[1] else None,
            None,
        )


def _euclidean(x1: Tensor, x2: Tensor) -> Tensor:
    """PyTorch's matmul form of the Euclidean distance (its _euclidean_dist)."""
    x1_norm = sum(x1 * x1, -1, keepdim=True)
    x2_norm = sum(x2 * x2, -1, keepdim=True)
    x1_pad, x2_pad = x1_norm * 0 + 1, x2_norm * 0 + 1
    x1_ = cat([x1 * -2, x1_norm, x1_pad], -1)
    x2_ = cat([x2, x2_pad, x2_norm], -1)
    return sqrt(clamp_min(matmul(x1_, x2_.mT), 0))


def _check_cdist(x1: Tensor, x2: Tensor, p: float) -> None:
    for name, x in (("X1", x1), ("X2", x2)):
        if x.data.ndim < 2:
            raise RuntimeError(
                f"cdist only supports at least 2D tensors, {name} got: {x.data.ndim}D"
            )
    c1, c2 = x1.data.shape[-1], x2.data.shape[-1]
    if c1 != c2:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {c1} X2: {c2}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: "
                f"{SCALAR_NAMES[x.dtype.name]}"
            )
    if x1.dtype is not x2.dtype:
        raise RuntimeError(
            f"expected scalar type {SCALAR_NAMES[x1.dtype.name]} but found "
            f"{SCALAR_NAMES[x2.dtype.name]}"
        )
    if x1.dtype.itemsize < 4:
        raise NotImplementedError(f"\"cdist\" not implemented for '{SCALAR_NAMES[x1.dtype.name]}'")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")


def _batch_shape(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for i, (u, v) in enumerate(zip(a, b)):
        if u != v and u != 1 and v != 1:
            raise RuntimeError(
                f"The size of tensor a ({u}) must match the size of tensor b ({v}) at "
                f"non-singleton dimension {i}"
            )
    return tuple(max(u, v) if u and v else 0 for u, v in zip(a, b))


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """Return the p-norm distance between each pair of rows of x1 and x2. Mirrors ``torch.cdist``.

    Shapes: (B..., P, M) and (B..., R, M), batch dims broadcasting -> (B..., P, R). p may be
    0, any positive number or inf. For p = 2 the matmul expansion is used when compute_mode
    asks for it, or by default when P or R exceeds 25 (as PyTorch).
    """
    if compute_mode not in _MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    _check_cdist(x1, x2, p)
    s1, s2 = x1.data.shape, x2.data.shape
    batch = _batch_shape(s1[:-2], s2[:-2])
    if s1[:-2] != batch:
        x1 = expand(x1, batch + s1[-2:])
    if s2[:-2] != batch:
        x2 = expand(x2, batch + s2[-2:])
    mode, r1, r2 = _MODES[compute_mode], s1[-2], s2[-2]
    use_mm = mode == 1 or (mode == 0 and (r1 > 25 or r2 > 25))
    if p == 2 and use_mm and x1.data.size and x2.data.size:
        return _euclidean(x1, x2)
    return Cdist.apply(x1, x2, float(p))


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """Return the p-norm distances between all pairs of rows i < j. Mirrors ``torch.pdist``.

    Also ``torch.nn.functional.pdist``. Pairs are in row-major order: (N, M) -> (N (N-1) / 2,).
    """
    if input.data.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.data.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n, m = input.data.shape
    rows, cols = array_module(input.data).triu_indices(n, 1)
    # each pair as a batch of one row against one row: (K, 1, M) vs (K, 1, M) -> (K, 1, 1)
    left = reshape(input[Tensor(rows)], (-1, 1, m))
    right = reshape(input[Tensor(cols)], (-1, 1, m))
    return reshape(Cdist.apply(left, right, float(p)), (-1,))


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """Return the p-norm of input - other (broadcasting) as a 0-d tensor. Mirrors ``torch.dist``."""
    for x in (input, other):
        if not x.dtype.is_floating_point:
            raise RuntimeError(
                "norm(): input dtype should be either floating point or complex. Got "
                f"{SCALAR_NAMES[x.dtype.name]} instead."
            )
    return vector_norm(input - other, p)


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Rescale sub-tensors along dim to p-norm at most maxnorm. Mirrors ``torch.renorm``.

    A sub-tensor whose norm exceeds maxnorm is scaled by maxnorm / (norm + 1e-7); the others
    are unchanged. The gradient flows through the norm, as PyTorch's.
    """
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    ndim = input.data.ndim
    if ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {ndim} dimensions")
    dim = wrap_dim(dim, ndim)
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{SCALAR_NAMES[input.dtype.name]}"
        )
    others = tuple(d for d in range(ndim) if d != dim)
    norm = vector_norm(input, p, others, keepdim=True)
    factor = where(Tensor(norm.data > maxnorm), maxnorm / (norm + 1e-7), 1.0)
    return input * factor
