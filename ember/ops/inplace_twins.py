"""In-place twins of the special-function, bit-math and scatter-view ops (``gcd_``, ``lgamma_``...).

Each runs its functional op through ``ops.inplace.inplace`` (write-back, version bump, autograd
rebasing, PyTorch's "result type Float can't be cast to the desired output type Long" error), so
it obeys PyTorch's in-place rules. Also here: ``angle`` on real tensors.
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops import bitmath, gamma, matrix_functions, pairwise, scatter_views, special_functions
from ember.ops.aliases import conj_physical
from ember.ops.common import to_float
from ember.ops.comparison import require_tensor
from ember.ops.inplace import inplace
from ember.ops.tensor_extras import _inplace_twin
from ember.tensor import Tensor

__all__ = [
    "addr_",
    "angle",
    "conj_physical_",
    "copysign_",
    "deg2rad_",
    "digamma_",
    "gcd_",
    "heaviside_",
    "i0_",
    "igamma_",
    "igammac_",
    "index_reduce_",
    "lcm_",
    "ldexp_",
    "lgamma_",
    "mvlgamma_",
    "nextafter_",
    "polygamma_",
    "put_",
    "rad2deg_",
    "renorm_",
    "sinc_",
    "xlogy_",
]

gcd_ = _inplace_twin(bitmath.gcd, "gcd")
lcm_ = _inplace_twin(bitmath.lcm, "lcm")
ldexp_ = _inplace_twin(bitmath.ldexp, "ldexp")
deg2rad_ = _inplace_twin(bitmath.deg2rad, "deg2rad")
rad2deg_ = _inplace_twin(bitmath.rad2deg, "rad2deg")
copysign_ = _inplace_twin(bitmath.copysign, "copysign")
heaviside_ = _inplace_twin(bitmath.heaviside, "heaviside")
nextafter_ = _inplace_twin(bitmath.nextafter, "nextafter")
i0_ = _inplace_twin(special_functions.i0, "i0")
sinc_ = _inplace_twin(special_functions.sinc, "sinc")
xlogy_ = _inplace_twin(special_functions.xlogy, "xlogy")
lgamma_ = _inplace_twin(gamma.lgamma, "lgamma")
digamma_ = _inplace_twin(gamma.digamma, "digamma")
mvlgamma_ = _inplace_twin(gamma.mvlgamma, "mvlgamma")
igamma_ = _inplace_twin(gamma.igamma, "igamma")
igammac_ = _inplace_twin(gamma.igammac, "igammac")
addr_ = _inplace_twin(matrix_functions.addr, "addr")
renorm_ = _inplace_twin(pairwise.renorm, "renorm")
index_reduce_ = _inplace_twin(scatter_views.index_reduce, "index_reduce")
put_ = _inplace_twin(scatter_views.put, "put")


def polygamma_(input: Tensor, n: int) -> Tensor:
    """Replace input by the n-th derivative of digamma at input. Mirrors ``torch.Tensor.polygamma_``."""  # noqa: E501
    return inplace(input, lambda t: gamma.polygamma(n, t), "polygamma_")


def conj_physical_(input: Tensor) -> Tensor:
    """Conjugate in place: real tensors keep their values. Mirrors ``torch.conj_physical_``."""
    return inplace(input, conj_physical, "conj_physical_")


class Angle(Function):
    """angle(x) = pi where x < 0, else 0 (nan stays nan); the gradient is zero."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        ctx.shape, ctx.dtype = x.shape, x.dtype
        out = xp.where(x < 0, xp.asarray(xp.pi, dtype=x.dtype), xp.zeros((), dtype=x.dtype))
        return xp.where(xp.isnan(x), x, out)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return Tensor(array_module(grad.data).zeros(ctx.shape, dtype=ctx.dtype))


def angle(input: Tensor) -> Tensor:
    """Return the elementwise argument: pi for negative reals, else 0. Mirrors ``torch.angle``.

    Integer and bool inputs give the default float dtype. The gradient is zero (PyTorch's
    convention for real inputs).
    """
    require_tensor("angle", input, "input", 1)
    return Angle.apply(to_float(input))
