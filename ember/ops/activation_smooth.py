"""Smooth activations: the ELU family, GELU, SiLU, Mish, softplus, logsigmoid, softsign, ...

One Function per activation: forward computes on arrays, backward composes Ember ops so second
derivatives work. GELU and SiLU also get a fused backward op (as PyTorch's ``gelu_backward``
and ``silu_backward`` kernels), itself differentiable. The public functions are re-exported by
``ops/activation.py``, which ``nn.functional`` reads.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module, special
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.combine import where
from ember.ops.common import quiet
from ember.ops.comparison import gt, le
from ember.ops.floatmath import exp, sigmoid
from ember.ops.inplace import inplace as run_inplace
from ember.ops.magnitude import abs
from ember.ops.trig import tanh
from ember.tensor import Tensor

__all__ = [
    "celu",
    "celu_",
    "elu",
    "elu_",
    "gelu",
    "logsigmoid",
    "mish",
    "selu",
    "selu_",
    "silu",
    "softplus",
    "softsign",
    "tanhshrink",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = math.sqrt(0.5)
_KAPPA = math.sqrt(2 / math.pi)  # tanh-GELU: tanh(kappa * (x + 0.044715 x^3))
_CUBIC = 0.044715
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def float_only(kernel: str, input: Tensor) -> None:
    """Refuse integer and bool inputs with PyTorch's error for a float-only kernel."""
    if input.data.dtype.kind not in "fV":
        name = SCALAR_NAMES[input.data.dtype.name]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def sigmoid_array(xp: Any, x: Array) -> Array:
    """1 / (1 + exp(-x)) on an array, without overflow: exp(-|x|) never overflows."""
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


# erf(x) ~ x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float32 beyond): the rational
# approximation Eigen and XLA use for float32, within 5e-7 of erf and 16x faster than the
# float64 ``special.erf``, which float64 inputs keep.
_ERF_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
          -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
          -1.60960333262415e-02)  # fmt: skip
_ERF_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
          -7.37332916720468e-03, -1.42647390514189e-02)  # fmt: skip


def erf_array(xp: Any, x: Array) -> Array:
    """Return erf(x): float32 and narrower by a rational approximation, float64 exactly."""
    if x.dtype.itemsize == 8:
        return special.erf(x)
    # In place on four buffers: fresh full-size temporaries cost more than the arithmetic.
    x = xp.clip(x.astype(xp.float32, copy=False), -4, 4)
    x2 = xp.multiply(x, x)
    p = xp.multiply(x2, _ERF_P[0])
    p += _ERF_P[1]
    for c in _ERF_P[2:]:
        p *= x2
        p += c
    q = xp.multiply(x2, _ERF_Q[0])
    q += _ERF_Q[1]
    for c in _ERF_Q[2:]:
        q *= x2
        q += c
    p *= x
    p /= q
    # Where erf is near -1, callers take 1 + erf(x), which would turn the approximation's
    # absolute error into a large relative one: the few elements there get special.erf.
    tail = x < -2
    if tail.any():
        p[tail] = special.erf(x[tail])
    return p


def _gelu_cdf(xp: Any, x: Array) -> Array:
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2, in place on erf's buffer."""
    cdf = erf_array(xp, x * _SQRT_HALF)
    cdf += 1
    cdf *= 0.5
    return cdf


def softplus_array(xp: Any, x: Array) -> Array:
    """log(1 + exp(x)) on an array, without overflow."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


# -- ELU, SELU, CELU -----------------------------------------------------------------------
class Elu(Function):
    """scale * x for x > 0, else alpha * scale * (exp(x * input_scale) - 1).

    d/dx at x <= 0 is (out + alpha * scale) * input_scale, read from the output (no exp that
    could overflow); at 0 it is alpha * scale * input_scale, as PyTorch's.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, alpha: float, scale: float, input_scale: float) -> Array:
        xp = array_module(x)
        negative = xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)
        out = xp.where(x > 0, x * scale, negative).astype(x.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, out)
            ctx.coefs = alpha * scale, scale, input_scale
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        negcoef, scale, input_scale = ctx.coefs
        grad_x = where(le(x, 0), grad * ((out + negcoef) * input_scale), grad * scale)
        return grad_x, None, None, None


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Apply ELU: x for x > 0, alpha * (exp(x) - 1) otherwise. Mirrors ``torch.nn.functional.elu``.

    The gradient at 0 is alpha (the negative branch), as in PyTorch.
    """
    float_only("elu_cpu", input)
    if inplace:
        return elu_(input, alpha)
    return Elu.apply(input, alpha, 1.0, 1.0)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``. Mirrors ``torch.nn.functional.elu_``."""
    float_only("elu_cpu", input)
    return run_inplace(input, lambda t: Elu.apply(t, alpha, 1.0, 1.0), "elu_")


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply SELU, scale * elu(x, alpha). Mirrors ``torch.nn.functional.selu``.

    scale and alpha are the self-normalising constants.
    """
    float_only("elu_cpu", input)
    if inplace:
        return selu_(input)
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``. Mirrors ``torch.nn.functional.selu_``."""
    float_only("elu_cpu", input)
    return run_inplace(input, lambda t: Elu.apply(t, _SELU_ALPHA, _SELU_SCALE, 1.0), "selu_")


def _check_celu(input: Tensor, alpha: float) -> None:
    float_only("elu_cpu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """Apply CELU. Mirrors ``torch.nn.functional.celu``.

    celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).
    """
    _check_celu(input, alpha)
    if inplace:
        return celu_(input, alpha)
    return Elu.apply(input, alpha, 1.0, 1.0 / alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``. Mirrors ``torch.nn.functional.celu_``."""
    _check_celu(input, alpha)
    return run_inplace(input, lambda t: Elu.apply(t, alpha, 1.0, 1.0 / alpha), "celu_")


# -- GELU ----------------------------------------------------------------------------------
def _gelu_slope(xp: Any, x: Array, approximate: str) -> Array:
    """Return gelu'(x) on an array."""
    if approximate == "tanh":
        t = xp.tanh(_KAPPA * (x + _CUBIC * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_KAPPA * (1 + 3 * _CUBIC * x * x))
    return _erf_slope(xp, x, _gelu_cdf(xp, x))


def _erf_slope(xp: Any, x: Array, cdf: Array) -> Array:
    """gelu'(x) = Phi(x) + x * phi(x), given Phi(x); in place on fresh buffers."""
    pdf = xp.multiply(x, x)
    pdf *= -0.5
    xp.exp(pdf, out=pdf)
    pdf *= x
    pdf *= _INV_SQRT_2PI
    pdf += cdf
    return pdf


def _gelu_curvature(x: Tensor, approximate: str) -> Tensor:
    """Return gelu''(x) with Ember ops (so third derivatives work too)."""
    if approximate == "tanh":
        t = tanh((x + x * x * x * _CUBIC) * _KAPPA)
        u1 = (x * x * (3 * _CUBIC) + 1) * _KAPPA
        u2 = x * (6 * _KAPPA * _CUBIC)
        return (1 - t * t) * (u1 + x * 0.5 * (u2 - t * u1 * u1 * 2))
    return exp(x * x * -0.5) * _INV_SQRT_2PI * (2 - x * x)


class Gelu(Function):
    """x * Phi(x) (erf), or its tanh approximation; backward is the fused GeluBackward op."""

    @staticmethod
    def forward(ctx: Context, x: Array, approximate: str) -> Array:
        xp = array_module(x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.approximate = approximate
        if approximate == "tanh":
            out = 0.5 * x * (1 + xp.tanh(_KAPPA * (x + _CUBIC * x * x * x)))
            return out.astype(x.dtype, copy=False)
        cdf = _gelu_cdf(xp, x)
        if ctx.needs_input_grad:
            ctx.cdf = cdf  # backward reuses Phi(x) instead of a second erf
        out = xp.multiply(cdf, x)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        cdf = getattr(ctx, "cdf", None)
        return GeluBackward.apply(grad, x, ctx.approximate, cdf), None


class GeluBackward(Function):
    """grad * gelu'(x) in one op (PyTorch's gelu_backward); differentiable again."""

    @staticmethod
    def forward(
        ctx: Context, grad: Array, x: Array, approximate: str, cdf: Array | None = None
    ) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward(grad, x)
            ctx.approximate = approximate
        xp = array_module(x)
        if cdf is not None and approximate != "tanh":
            slope = _erf_slope(xp, x, cdf)
        else:
            slope = _gelu_slope(xp, x, approximate)
        slope *= grad
        return slope.astype(grad.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        grad, x = ctx.saved_tensors
        approximate = ctx.approximate
        needs = ctx.needs_input_grad
        grad_grad = GeluBackward.apply(g, x, approximate, None) if needs[0] else None
        grad_x = g * grad * _gelu_curvature(x, approximate) if needs[1] else None
        return grad_grad, grad_x, None, None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Apply GELU, x * Phi(x), exactly (erf) or with tanh. Mirrors ``torch.nn.functional.gelu``.

    Differences from PyTorch: below float64, erf is a rational approximation within 5e-7.
    """
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    float_only("GeluKernelImpl", input)
    return Gelu.apply(input, approximate)


# -- SiLU and Mish -------------------------------------------------------------------------
class Silu(Function):
    """x * sigmoid(x); backward is the fused SiluBackward op."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return (x * sigmoid_array(array_module(x), x)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return SiluBackward.apply(grad, x)


class SiluBackward(Function):
    """grad * s * (1 + x * (1 - s)) with s = sigmoid(x), in one op; differentiable again."""

    @staticmethod
    def forward(ctx: Context, grad: Array, x: Array) -> Array:
        ctx.save_for_backward(grad, x)
        s = sigmoid_array(array_module(x), x)
        return (grad * (s * (1 + x * (1 - s)))).astype(grad.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple:
        grad, x = ctx.saved_tensors
        grad_grad = SiluBackward.apply(g, x) if ctx.needs_input_grad[0] else None
        grad_x = None
        if ctx.needs_input_grad[1]:
            s = sigmoid(x)  # silu'' = s (1 - s) (2 + x (1 - 2 s))
            grad_x = g * grad * (s * (1 - s) * (x * (1 - 2 * s) + 2))
        return grad_grad, grad_x


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply SiLU (swish), x * sigmoid(x). Mirrors ``torch.nn.functional.silu``."""
    float_only("silu_cpu", input)
    if inplace:
        return run_inplace(input, Silu.apply, "silu_")
    return Silu.apply(input)


class Mish(Function):
    """x * tanh(softplus(x)); d/dx = t + x * sigmoid(x) * (1 - t^2) with t = tanh(softplus(x))."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        return (x * xp.tanh(softplus_array(xp, x))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        t = tanh(Softplus.apply(x, 1.0, 20.0))
        return grad * (t + x * sigmoid(x) * (1 - t * t))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Apply Mish, x * tanh(softplus(x)). Mirrors ``torch.nn.functional.mish``."""
    float_only("mish_cpu", input)
    if inplace:
        return run_inplace(input, Mish.apply, "mish_")
    return Mish.apply(input)


# -- softplus, logsigmoid, softsign, tanhshrink ----------------------------------------------
class Softplus(Function):
    """log(1 + exp(beta x)) / beta, or x where beta x > threshold; d/dx = sigmoid(beta x)."""

    @staticmethod
    def forward(ctx: Context, x: Array, beta: float, threshold: float) -> Array:
        xp = array_module(x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.params = beta, threshold
        z = x * beta
        with quiet(xp):  # beta = 0 divides by zero, as in PyTorch (inf)
            out = xp.where(z > threshold, x, softplus_array(xp, z) / beta)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.params
        z = x * beta
        return where(gt(z, threshold), grad, grad * sigmoid(z)), None, None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Apply log(1 + exp(beta * x)) / beta. Mirrors ``torch.nn.functional.softplus``.

    Where beta * x > threshold it returns x.
    """
    float_only("softplus_cpu", input)
    return Softplus.apply(input, beta, threshold)


class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable; d/dx = sigmoid(-x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        return (xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * sigmoid(-x)


def logsigmoid(input: Tensor) -> Tensor:
    """Apply log(sigmoid(x)) without overflow. Mirrors ``torch.nn.functional.logsigmoid``."""
    float_only("log_sigmoid_cpu", input)
    return LogSigmoid.apply(input)


def softsign(input: Tensor) -> Tensor:
    """Apply x / (1 + |x|); integers give floats. Mirrors ``torch.nn.functional.softsign``."""
    return input / (abs(input) + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """Apply x - tanh(x); integers give floats. Mirrors ``torch.nn.functional.tanhshrink``."""
    return input - tanh(input)
