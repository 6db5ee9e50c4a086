"""In-place random fills: uniform_, normal_, bernoulli_, random_, exponential_, ... .

Each validates its arguments, checks the write is allowed (a leaf that requires grad is refused
in grad mode, as in PyTorch) before drawing, so a refused call leaves the generator untouched,
then writes the draw with ``overwrite_``, which bumps the version counter.
"""

from __future__ import annotations

from typing import Any

from ember.backend import array_module
from ember.backend.dtypes import CPP_NAMES, SCALAR_NAMES, DType, as_dtype, iinfo, int64
from ember.backend.random import Generator, generator_for
from ember.ops.inplace import check_inplace, overwrite_
from ember.ops.random import (
    MANTISSA_DIGITS,
    cast_draw,
    check_int_range,
    check_probability,
    float_only,
    integers,
    standard_normal,
    uniform01,
)
from ember.tensor import Tensor

__all__ = [
    "bernoulli_",
    "cauchy_",
    "exponential_",
    "geometric_",
    "log_normal_",
    "normal_",
    "random_",
    "uniform_",
]


def _draw_dtype(dtype: DType) -> Any:
    """The NumPy dtype continuous draws are made in: float64 for float64, float32 otherwise."""
    return dtype.np if dtype.itemsize == 8 else "float32"


def _fill(input: Tensor, draw: Any) -> Tensor:
    """Check the in-place write is allowed, then draw (so a refused call keeps the RNG state)."""
    check_inplace(input)
    return overwrite_(input, cast_draw(array_module(input.data), draw(), input.dtype))


def _bound(kwargs: dict, default: Any) -> Any:
    value = kwargs.pop("from", default)
    if kwargs:
        raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
    return value


def uniform_(
    input: Tensor,
    from_: float = 0.0,
    to: float = 1.0,
    *,
    generator: Generator | None = None,
    **kwargs: Any,
) -> Tensor:
    """Fill with samples from U[from, to). Mirrors ``torch.Tensor.uniform_``."""
    low = _bound(kwargs, from_)
    float_only("check_uniform_bounds", input.dtype)
    if low > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={low:g} > to={to:g}"
        )
    dtype = input.dtype
    gen = generator_for(generator)
    draw_dtype = dtype if dtype.itemsize >= 4 else as_dtype("float32")
    return _fill(input, lambda: uniform01(gen, input.data.shape, draw_dtype) * (to - low) + low)


def normal_(
    input: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from N(mean, std**2). Mirrors ``torch.Tensor.normal_``."""
    float_only("normal_kernel_cpu", input.dtype)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    gen = generator_for(generator)
    return _fill(input, lambda: standard_normal(gen, input.data.shape, input.dtype) * std + mean)


def bernoulli_(input: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill with 0/1 samples, 1 with probability p. Mirrors ``torch.Tensor.bernoulli_``."""
    shape = input.data.shape
    if isinstance(p, Tensor):
        p_shape = p.data.shape
        lead = len(shape) - len(p_shape)
        for d, n in enumerate(p_shape):
            if lead < 0 or (n != 1 and n != shape[lead + d]):
                raise RuntimeError(
                    f"The expanded size of the tensor ({shape[max(lead, 0) + d] if shape else 1}) "
                    f"must match the existing size ({n}) at non-singleton dimension "
                    f"{max(lead, 0) + d}.  Target sizes: {list(shape)}.  Tensor sizes: "
                    f"{list(p_shape)}"
                )
        p = p.data
    else:
        check_probability(p)
    gen = generator_for(generator)
    return _fill(input, lambda: gen.random(shape) < p)


def random_(
    input: Tensor,
    from_: int | None = None,
    to: int | None = None,
    *,
    generator: Generator | None = None,
    **kwargs: Any,
) -> Tensor:
    """Fill with integers from [from, to). Mirrors ``torch.Tensor.random_``.

    ``random_(to)`` draws from [0, to); with no bounds, from [0, 2**mantissa_digits] for
    floats, [0, max] for integers and {0, 1} for bool.
    """
    explicit_from = "from" in kwargs
    low = _bound(kwargs, from_)
    dtype = input.dtype
    if to is None and low is not None and not explicit_from:
        low, to = 0, low  # random_(to)
    low = 0 if low is None else int(low)
    if to is None:
        if dtype.is_floating_point:
            to = 2 ** MANTISSA_DIGITS[dtype.name] + 1
        else:
            to = (iinfo(dtype).max if dtype.category == 1 else 1) + 1
    to = int(to)
    check_int_range(low, to, dtype)
    gen = generator_for(generator)
    xp = array_module(input.data)
    return _fill(input, lambda: integers(gen, low, to, input.data.shape, int64, xp))


def _continuous_only(dtype: DType, name: str) -> None:
    if not dtype.is_floating_point:
        names = CPP_NAMES if name == "Cauchy" else SCALAR_NAMES  # as PyTorch words it
        raise RuntimeError(
            f"{name} distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {names[dtype.name]}"
        )


def exponential_(
    input: Tensor, lambd: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from Exp(lambd). Mirrors ``torch.Tensor.exponential_``."""
    _continuous_only(input.dtype, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    gen, shape = generator_for(generator), input.data.shape
    draw_dtype = _draw_dtype(input.dtype)
    return _fill(input, lambda: gen.standard_exponential(shape, dtype=draw_dtype) / lambd)


def log_normal_(
    input: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill with samples whose log is N(mean, std**2). Mirrors ``torch.Tensor.log_normal_``."""
    float_only("log_normal_cpu", input.dtype)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    gen = generator_for(generator)
    return _fill(input, lambda: gen.lognormal(mean, std, input.data.shape))


def geometric_(input: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    """Fill with counts of Bernoulli(p) trials to a success. Mirrors ``Tensor.geometric_``."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    gen = generator_for(generator)
    return _fill(input, lambda: gen.geometric(p, input.data.shape))


def cauchy_(
    input: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None
) -> Tensor:
    """Fill with samples from Cauchy(median, sigma). Mirrors ``torch.Tensor.cauchy_``."""
    _continuous_only(input.dtype, "Cauchy")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    gen = generator_for(generator)
    return _fill(input, lambda: gen.standard_cauchy(input.data.shape) * sigma + median)
