"""Dense layers' math: F.linear and F.bilinear.

``linear`` is one fused op over one GEMM: the batch dims are folded into rows (a view for a
contiguous input) and the weight is used through its transposed view, so BLAS reads it in place.
Its backward is two more GEMMs and a sum, written with Ember ops (so it is differentiable).
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array
from ember.backend.dtypes import CPP_NAMES, SCALAR_NAMES
from ember.ops.elementwise import add, mul
from ember.ops.linalg import MatMul, matmul, matmul_arrays
from ember.ops.reduction import sum
from ember.ops.shape import expand, reshape, transpose
from ember.tensor import Tensor

__all__ = ["bilinear", "linear"]


class Linear(Function):
    """x W^T + b over the last dim of x, as one GEMM on x folded to (rows, in_features)."""

    @staticmethod
    def forward(ctx: Context, x: Array, weight: Array, bias: Array | None) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
        lead = x.shape[:-1]
        x_2d = x.reshape(_rows(lead), x.shape[-1])  # a view when x is contiguous
        out = matmul_arrays(x_2d, weight.T)  # (rows, out_features)
        if bias is not None:
            out += bias  # out is fresh: add in place
        return out.reshape(*lead, weight.shape[0])

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        rows, (out_features, in_features) = _rows(x.data.shape[:-1]), weight.data.shape
        grad_2d = reshape(grad, (rows, out_features))
        grad_x = grad_w = grad_b = None
        if needs[0]:
            grad_x = reshape(MatMul.apply(grad_2d, weight), x.data.shape)
        if needs[1]:
            x_2d = reshape(x, (rows, in_features))
            grad_w = MatMul.apply(transpose(grad_2d, 0, 1), x_2d)
        if needs[2]:
            grad_b = sum(grad_2d, 0)
        return grad_x, grad_w, grad_b


def _rows(shape: tuple) -> int:
    rows = 1
    for n in shape:
        rows *= n
    return rows


def _check_linear(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    x, w = input.data, weight.data
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {x.ndim}D and {w.ndim}D"
        )
    if w.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    if x.dtype != w.dtype:
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {CPP_NAMES[x.dtype.name]} != "
            f"{CPP_NAMES[w.dtype.name]}"
        )
    if w.ndim == 2 and x.shape[-1] != w.shape[1]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_rows(x.shape[:-1])}x{x.shape[-1]} "
            f"and {w.shape[1]}x{w.shape[0]})"
        )
    if bias is not None and bias.data.dtype != x.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {SCALAR_NAMES[bias.data.dtype.name]}"
            f" and {SCALAR_NAMES[x.dtype.name]}"
        )


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply y = x W^T + b. Mirrors ``torch.nn.functional.linear``.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features)
    -> (*, out_features). One GEMM; the weight is read through its transposed view.
    """
    x, w = input.data, weight.data
    fits = x.ndim and w.ndim == 2 and x.dtype == w.dtype and x.shape[-1] == w.shape[1]
    if fits and (bias is None or (bias.data.shape == w.shape[:1] and bias.data.dtype == x.dtype)):
        return Linear.apply(input, weight, bias)
    _check_linear(input, weight, bias)
    if w.ndim == 1:
        if bias is not None:
            raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
        return matmul(input, weight)
    out = matmul(input, transpose(weight, 0, 1))
    # A bias of another shape must expand to the output, as PyTorch's addmm requires.
    return add(out, expand(bias, out.data.shape))


def _check_bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    x1, x2, w = input1.data, input2.data, weight.data
    if x1.ndim != x2.ndim:
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {x1.ndim} and {x2.ndim}"
        )
    for d in range(x1.ndim - 1):
        if x1.shape[d] != x2.shape[d]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {d}: got "
                f"{x1.shape[d]} and {x2.shape[d]}"
            )
    if w.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, but got {w.ndim}-D")
    for which, x, size in (("input1", x1, w.shape[1]), ("input2", x2, w.shape[2])):
        if x.shape[-1] != size:
            raise RuntimeError(
                f"bilinear(): {which} size does not match weight size: got {x.shape[-1]} but "
                f"expected {size}"
            )
    if bias is not None and (bias.data.ndim != 1 or bias.data.shape[0] != w.shape[0]):
        got = bias.data.shape[-1] if bias.data.ndim else 1
        raise RuntimeError(
            f"bilinear(): bias size does not match weight size: got {got} but expected {w.shape[0]}"
        )
    if not x1.dtype == x2.dtype == w.dtype:
        names = (CPP_NAMES[a.dtype.name] for a in (x1, x2, w))
        raise RuntimeError(
            "All tensors must have the same dtype, got input1: {}, input2: {}, weight: {}".format(
                *names
            )
        )


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Apply y_o = x1^T W_o x2 + b_o. Mirrors ``torch.nn.functional.bilinear``.

    Shapes: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out) -> (*, out).
    One GEMM of x1 against W laid out as (in1, out * in2), then a product with x2 and a sum.
    """
    _check_bilinear(input1, input2, weight, bias)
    out_features, in1, in2 = weight.data.shape
    lead = input1.data.shape[:-1]
    x1 = reshape(input1, (-1, in1))  # (N, in1)
    x2 = reshape(input2, (-1, 1, in2))  # (N, 1, in2)
    w = reshape(transpose(weight, 0, 1), (in1, out_features * in2))  # (in1, out * in2)
    left = reshape(MatMul.apply(x1, w), (-1, out_features, in2))  # (N, out, in2)
    out = sum(mul(left, x2), -1)  # (N, out)
    if bias is not None:
        out = add(out, bias)
    return reshape(out, (*lead, out_features))
