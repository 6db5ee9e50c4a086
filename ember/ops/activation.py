"""Activation functions (F.relu, F.gelu, ...). Mirrors the activations of ``torch.nn.functional``.

This module holds the piecewise-linear family (hardtanh, leaky_relu, prelu, rrelu, threshold,
the shrinks, hardsigmoid, hardswish) and glu, and re-exports the smooth family from
``activation_smooth.py`` and relu/sigmoid/tanh from the core ops. Piecewise-linear ops compute
their masks on arrays in forward and keep only the mask (1 byte per element) for backward;
gradients at the kinks are PyTorch's. Softmax and friends live in ``ops/softmax.py``.
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES, finfo
from ember.backend.random import generator_for
from ember.ops.activation_smooth import (
    celu,
    celu_,
    elu,
    elu_,
    float_only,
    gelu,
    logsigmoid,
    mish,
    selu,
    selu_,
    silu,
    softplus,
    softsign,
    tanhshrink,
)
from ember.ops.combine import where
from ember.ops.common import wrap_dim
from ember.ops.elementwise import mul
from ember.ops.floatmath import sigmoid
from ember.ops.inplace import inplace as run_inplace
from ember.ops.inplace import relu_
from ember.ops.join import chunk
from ember.ops.magnitude import relu as _relu
from ember.ops.shape import reshape
from ember.ops.trig import tanh
from ember.tensor import Tensor

__all__ = [
    "celu",
    "celu_",
    "elu",
    "elu_",
    "gelu",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "hardtanh_",
    "leaky_relu",
    "leaky_relu_",
    "logsigmoid",
    "mish",
    "prelu",
    "relu",
    "relu6",
    "relu_",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "sigmoid",
    "silu",
    "softplus",
    "softshrink",
    "softsign",
    "tanh",
    "tanhshrink",
    "threshold",
    "threshold_",
]


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply max(x, 0); the gradient at 0 is 0. Mirrors ``torch.nn.functional.relu``."""
    return relu_(input) if inplace else _relu(input)


# -- hardtanh, relu6 -----------------------------------------------------------------------
class Hardtanh(Function):
    """clamp(x, lo, hi); the gradient passes strictly inside (lo, hi), as PyTorch's."""

    @staticmethod
    def forward(ctx: Context, x: Array, lo: float, hi: float) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward((x > lo) & (x < hi))
        xp = array_module(x)
        return xp.minimum(xp.maximum(x, lo), hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (inside,) = ctx.saved_tensors
        return where(inside, grad, 0.0), None, None


def _hardtanh(input: Tensor, min_val: float, max_val: float) -> Tensor:
    kind = input.data.dtype.kind
    if kind == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if kind not in "fV":  # integer tensors clamp to the bounds cast to integers, as PyTorch
        min_val, max_val = int(min_val), int(max_val)
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """Clamp to [min_val, max_val]. Mirrors ``torch.nn.functional.hardtanh``.

    The gradient is zero at and beyond the bounds, as in PyTorch.
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return run_inplace(input, lambda t: _hardtanh(t, min_val, max_val), "hardtanh_")
    return _hardtanh(input, min_val, max_val)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``. Mirrors ``torch.nn.functional.hardtanh_``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply min(max(x, 0), 6). Mirrors ``torch.nn.functional.relu6``.

    The gradient is zero at 0 and 6 (hardtanh's rule).
    """
    return hardtanh(input, 0.0, 6.0, inplace)


# -- leaky, parametric and randomized ReLU ---------------------------------------------------
class LeakyRelu(Function):
    """x for x > 0, else slope * x; the gradient at 0 is slope, as PyTorch's."""

    @staticmethod
    def forward(ctx: Context, x: Array, slope: float) -> Array:
        positive = x > 0
        if ctx.needs_input_grad:
            ctx.save_for_backward(positive)
            ctx.slope = slope
        return array_module(x).where(positive, x, x * slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (positive,) = ctx.saved_tensors
        return where(positive, grad, grad * ctx.slope), None


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Apply x if x > 0 else negative_slope * x. Mirrors ``torch.nn.functional.leaky_relu``.

    The gradient at 0 is negative_slope, as in PyTorch.
    """
    float_only("leaky_relu_cpu", input)
    if inplace:
        return run_inplace(input, lambda t: LeakyRelu.apply(t, negative_slope), "leaky_relu_")
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``. Mirrors ``torch.nn.functional.leaky_relu_``."""
    return leaky_relu(input, negative_slope, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Apply x if x > 0 else weight * x, per channel. Mirrors ``torch.nn.functional.prelu``.

    Shapes: weight is a scalar or (C,) with C = input.shape[1] (1 when input has < 2 dims).
    """
    float_only("prelu_cpu", input)
    if weight.data.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
            f"{weight.data.ndim}"
        )
    if weight.data.dtype != input.data.dtype:
        names = SCALAR_NAMES[input.data.dtype.name], SCALAR_NAMES[weight.data.dtype.name]
        raise RuntimeError(f"prelu: Type promoting not supported. Got {names[0]} and {names[1]}")
    count, ndim = weight.data.size, input.data.ndim
    if count != 1:
        channels = input.data.shape[1] if ndim >= 2 else 1
        if count != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {count} and channel size = {channels}."
            )
        weight = reshape(weight, (count,) + (1,) * (ndim - 2))  # (C, 1, ..., 1) for dim 1
    elif weight.data.ndim:
        weight = reshape(weight, ())
    return where(Tensor(input.data > 0), input, weight * input)


def _check_rrelu(input: Tensor, lower: float, upper: float) -> None:
    float_only("leaky_relu_cpu", input)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")


def _rrelu(input: Tensor, lower: float, upper: float, training: bool) -> Tensor:
    if not training:
        return LeakyRelu.apply(input, (lower + upper) / 2)
    x = input.data
    xp = array_module(x)
    draw_dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"
    slopes = generator_for(None).random(x.shape, dtype=draw_dtype) * (upper - lower) + lower
    # NOTE: as PyTorch, x <= 0 (0 included) takes the random slope; the slope is the gradient.
    noise = xp.where(x <= 0, slopes, 1).astype(x.dtype, copy=False)
    return mul(input, Tensor(noise))


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
) -> Tensor:
    """Apply leaky ReLU with random slopes when training. Mirrors ``torch.nn.functional.rrelu``.

    Training draws each slope from U[lower, upper).

    In eval the slope is (lower + upper) / 2. Slopes come from Ember's default generator
    (``ember.manual_seed``), so they differ from PyTorch's for the same seed.
    """
    _check_rrelu(input, lower, upper)
    if inplace:
        return run_inplace(input, lambda t: _rrelu(t, lower, upper, training), "rrelu_")
    return _rrelu(input, lower, upper, training)


def rrelu_(
    input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False
) -> Tensor:
    """In-place ``rrelu``. Mirrors ``torch.nn.functional.rrelu_``."""
    return rrelu(input, lower, upper, training, inplace=True)


# -- threshold and the shrinks ---------------------------------------------------------------
def _threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    x = input.data
    if x.dtype.kind not in "fV":  # integers: bounds cast to the dtype, nothing to differentiate
        threshold, value = int(threshold), int(value)
        return Tensor(array_module(x).where(x <= threshold, value, x).astype(x.dtype))
    return where(Tensor(x <= threshold), value, input)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """Replace x by value where x <= threshold. Mirrors ``torch.nn.functional.threshold``.

    The gradient there is zero.
    """
    if inplace:
        return run_inplace(input, lambda t: _threshold(t, threshold, value), "threshold_")
    return _threshold(input, threshold, value)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``. Mirrors ``torch.nn.functional.threshold_``."""
    return run_inplace(input, lambda t: _threshold(t, threshold, value), "threshold_")


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Zero x where -lambd <= x <= lambd. Mirrors ``torch.nn.functional.hardshrink``.

    The gradient there is zero.
    """
    float_only("hardshrink_cpu", input)
    x = input.data
    return where(Tensor((x >= -lambd) & (x <= lambd)), 0.0, input)


class Softshrink(Function):
    """x - lambd above lambd, x + lambd below -lambd, 0 between (zero gradient, bounds included)."""

    @staticmethod
    def forward(ctx: Context, x: Array, lambd: float) -> Array:
        inside = (x >= -lambd) & (x <= lambd)
        if ctx.needs_input_grad:
            ctx.save_for_backward(inside)
        xp = array_module(x)
        out = xp.where(inside, x * 0, xp.where(x > lambd, x - lambd, x + lambd))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (inside,) = ctx.saved_tensors
        return where(inside, 0.0, grad), None


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """Shrink x towards 0 by lambd. Mirrors ``torch.nn.functional.softshrink``.

    [-lambd, lambd] goes to 0, with zero gradient.
    """
    float_only("softshrink_check", input)
    if lambd < 0:
        info = finfo(input.dtype)
        raise RuntimeError(
            f"lambda must be in range [0, {info.max:g}] for input dtype "
            f"{SCALAR_NAMES[input.data.dtype.name]}, but found {lambd:g}"
        )
    return Softshrink.apply(input, lambd)


# -- hard sigmoid and hard swish -------------------------------------------------------------
_ONE_SIXTH = 0.1666666716337204  # 1/6 rounded to float32: PyTorch's kernel uses 1.0f / 6.0f


class Hardsigmoid(Function):
    """min(max(x + 3, 0), 6) / 6; d/dx = 1/6 strictly inside (-3, 3), else 0."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward((x > -3) & (x < 3))
        xp = array_module(x)
        return (xp.minimum(xp.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (inside,) = ctx.saved_tensors
        return where(inside, grad * _ONE_SIXTH, 0.0)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply min(max(x + 3, 0), 6) / 6. Mirrors ``torch.nn.functional.hardsigmoid``."""
    float_only("hardsigmoid_cpu", input)
    if inplace:
        return run_inplace(input, Hardsigmoid.apply, "hardsigmoid_")
    return Hardsigmoid.apply(input)


class Hardswish(Function):
    """x * min(max(x + 3, 0), 6) / 6; d/dx = 0 for x <= -3, x / 3 + 1/2 below 3, 1 from 3 on."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, (x > -3) & (x < 3), (x >= 3).astype(x.dtype))
        xp = array_module(x)
        return (x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, middle, above = ctx.saved_tensors
        return grad * where(middle, x / 3 + 0.5, above)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply x * hardsigmoid(x). Mirrors ``torch.nn.functional.hardswish``."""
    float_only("hardswish_cpu", input)
    if inplace:
        return run_inplace(input, Hardswish.apply, "hardswish_")
    return Hardswish.apply(input)


# -- gated linear unit -----------------------------------------------------------------------
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Apply the gated linear unit along dim. Mirrors ``torch.nn.functional.glu``.

    input splits in halves a, b along dim; the result is a * sigmoid(b).
    """
    if input.data.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    float_only("glu_cpu", input)
    dim = wrap_dim(dim, input.data.ndim)
    size = input.data.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    a, b = chunk(input, 2, dim)
    return a * sigmoid(b)
