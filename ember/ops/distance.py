"""Distances and vector helpers: cosine_similarity, pairwise_distance, normalize, one_hot."""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import no_grad
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES, int64
from ember.ops.combine import clamp_min
from ember.ops.common import cast, result_type, wrap_dim
from ember.ops.inplace import copy_
from ember.ops.norms import norm, vector_norm
from ember.ops.reduction import sum
from ember.ops.shape import broadcast_tensors
from ember.tensor import Tensor

__all__ = ["cosine_similarity", "normalize", "one_hot", "pairwise_distance"]


class ClampMinPassThrough(Function):
    """max(x, eps) whose gradient passes unclamped (PyTorch clamps these norms under no_grad)."""

    @staticmethod
    def forward(ctx: Context, x: Array, eps: float) -> Array:
        return array_module(x).maximum(x, eps).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Return cos(x1, x2) along dim. Mirrors ``torch.nn.functional.cosine_similarity``.

    Each input is divided by its norm clamped to eps first (as PyTorch, whose gradient ignores
    the clamp), then the product is summed. Inputs broadcast; integers are cast to the float
    dtype of the other input.
    """
    dtype = result_type(x1, x2)
    if not dtype.is_floating_point:
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is "
            f"{SCALAR_NAMES[dtype.name]}"
        )
    if not x1.dtype.is_floating_point:
        x1 = cast(x1, dtype)
    if not x2.dtype.is_floating_point:
        x2 = cast(x2, dtype)
    if x1.data.shape != x2.data.shape:
        x1, x2 = broadcast_tensors(x1, x2)
    dim = wrap_dim(dim, x1.data.ndim)
    norm1 = ClampMinPassThrough.apply(vector_norm(x1, 2, dim, keepdim=True), eps)
    norm2 = ClampMinPassThrough.apply(vector_norm(x2, 2, dim, keepdim=True), eps)
    return sum((x1 / norm1) * (x2 / norm2), dim)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """Return the p-norm distance. Mirrors ``torch.nn.functional.pairwise_distance``.

    The distance is the p-norm of x1 - x2 + eps over the last dim.

    Shapes: (*, D) and (*, D), broadcasting -> (*) (or (*, 1) with keepdim).
    """
    ndim = max(x1.data.ndim, x2.data.ndim)
    diff = x1 - x2 + eps
    return vector_norm(diff, p, ndim - 1 if ndim else None, keepdim)


def normalize(
    input: Tensor, p: float = 2.0, dim: Any = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """Divide input by its p-norm along dim. Mirrors ``torch.nn.functional.normalize``.

    The norm is clamped below by eps.

    With ``out`` the result is written there and not differentiable, as in PyTorch.
    """
    denom = clamp_min(norm(input, p, dim, keepdim=True), eps)
    if out is None:
        return input / denom
    with no_grad():
        return copy_(out, input / denom)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Return int64 one-hot vectors of class indices. Mirrors ``torch.nn.functional.one_hot``.

    Shapes: (*) -> (*, num_classes); num_classes = -1 takes max + 1.
    """
    x = tensor.data
    if x.dtype != int64.np:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if x.size == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    else:
        if int(x.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(x.max()) + 1
        elif int(x.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = array_module(x)
    classes = xp.arange(max(num_classes, 0), dtype=x.dtype)
    return Tensor((x[..., None] == classes).astype(x.dtype))
