"""Random factories: rand, randn, randint, randperm, normal, bernoulli, multinomial, ... .

Every draw comes from ``generator`` (an ``ember.Generator``) or the default generator, so
``ember.manual_seed(s)`` makes a run repeatable; the stream differs from PyTorch's. float32 and
float64 are drawn natively; float16 and bfloat16 are drawn in float32 and rounded, except
``rand``, which draws their mantissa bits exactly, as PyTorch does, so it never returns 1.
Draws that take tensor parameters (``normal``, ``bernoulli``, ``poisson``) give those
parameters a zero gradient, as PyTorch does. The in-place fills (``uniform_``, ...) live in
``random_inplace.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module, as_device, module_for
from ember.backend.dtypes import CPP_NAMES, SCALAR_NAMES, DType, as_dtype, finfo, iinfo, int64
from ember.backend.random import Generator, default_generator, generator_for
from ember.ops.common import result_type
from ember.ops.creation import parse_size, zeros
from ember.ops.ranges import make_leaf
from ember.ops.shape import broadcast_shape
from ember.tensor import Tensor

__all__ = [
    "bernoulli",
    "get_rng_state",
    "multinomial",
    "normal",
    "poisson",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "set_rng_state",
]

MANTISSA_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


class RandomDraw(Function):
    """A sample drawn with tensor parameters; the parameters get zero gradient (PyTorch's rule)."""

    @staticmethod
    def forward(ctx: Context, sample: Array, *params: Any) -> Array:
        ctx.shapes = [getattr(p, "shape", None) for p in params]
        return sample

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        needs = ctx.needs_input_grad
        grads = [
            zeros(shape, dtype=grad.dtype) if needs[i + 1] else None
            for i, shape in enumerate(ctx.shapes)
        ]
        return (None, *grads)


def float_only(op: str, dtype: DType) -> None:
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"{op}\" not implemented for '{SCALAR_NAMES[dtype.name]}'")


def cast_draw(xp: Any, array: Array, dtype: DType) -> Array:
    if array.dtype == dtype.np:
        return array
    with xp.errstate(over="ignore", invalid="ignore"):
        return array.astype(dtype.np)


# -- draws on arrays (gen: the backend generator) ----------------------------------------------
def uniform01(gen: Any, shape: tuple, dtype: DType) -> Array:
    """U[0, 1) in dtype; half types take their mantissa bits exactly, so 1 is never drawn."""
    if dtype.itemsize >= 4:
        return gen.random(shape, dtype=dtype.np)
    digits = MANTISSA_DIGITS[dtype.name]
    bits = gen.integers(0, 1 << digits, shape, dtype=int64.np)
    return (bits * (1.0 / (1 << digits))).astype(dtype.np)  # exact in dtype


def standard_normal(gen: Any, shape: tuple, dtype: DType) -> Array:
    return gen.standard_normal(shape, dtype=dtype.np if dtype.itemsize >= 4 else "float32")


# -- factories ---------------------------------------------------------------------------------
def rand(
    *size: Any,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return samples from U[0, 1). Mirrors ``torch.rand``."""
    dtype = as_dtype(dtype)
    float_only("check_uniform_bounds", dtype)
    shape = parse_size(size, "rand")
    module_for(as_device(device))
    return make_leaf(uniform01(generator_for(generator), shape, dtype), requires_grad)


def randn(
    *size: Any,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return samples from the standard normal distribution. Mirrors ``torch.randn``."""
    dtype = as_dtype(dtype)
    float_only("normal_kernel_cpu", dtype)
    shape = parse_size(size, "randn")
    xp = module_for(as_device(device))
    array = standard_normal(generator_for(generator), shape, dtype)
    return make_leaf(cast_draw(xp, array, dtype), requires_grad)


def check_int_range(low: int, high: int, dtype: DType) -> None:
    """PyTorch's random_ bounds: from < to, both representable in dtype."""
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    name = CPP_NAMES[dtype.name]
    if dtype.is_floating_point:
        info = finfo(dtype)
        lowest, highest = info.min, info.max
        digits = MANTISSA_DIGITS[dtype.name]
        for label, value in (("from", low), ("to - 1", high - 1)):
            if abs(value) > 2**digits and abs(value) <= highest:
                warnings.warn(
                    f"{label} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                    f"limitations {name} can support discrete uniform distribution only within "
                    "this range.",
                    UserWarning,
                    stacklevel=3,
                )
    else:
        info = iinfo(dtype) if dtype.category == 1 else None
        lowest, highest = (info.min, info.max) if info else (0, 1)
    if not lowest <= low <= highest:
        raise RuntimeError(f"from is out of bounds for {name}")
    if not lowest <= high - 1 <= highest:
        raise RuntimeError(f"to - 1 is out of bounds for {name}")


def integers(gen: Any, low: int, high: int, shape: tuple, dtype: DType, xp: Any) -> Array:
    return cast_draw(xp, gen.integers(low, high, shape, dtype=int64.np), dtype)


def randint(
    low: Any = 0,
    high: Any = None,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return integers drawn uniformly from [low, high). Mirrors ``torch.randint``.

    Called as ``randint(high, size)`` or ``randint(low, high, size)``; int64 unless told.
    """
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high  # randint(high, size)
    elif size is None and high is not None:
        size = high  # randint(high, <not a size>): report it as the size
    if high is None:
        raise TypeError("randint() missing required arguments 'high' and 'size'")
    if not isinstance(size, (tuple, list)):
        raise TypeError(
            "randint(): argument 'size' (position 2) must be tuple of ints, "
            f"not {type(size).__name__}"
        )
    dtype = int64 if dtype is None else as_dtype(dtype)
    low, high = int(low), int(high)
    shape = parse_size((size,), "randint")
    check_int_range(low, high, dtype)
    xp = module_for(as_device(device))
    array = integers(generator_for(generator), low, high, shape, dtype, xp)
    return make_leaf(array, requires_grad)


def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype: DType = int64,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return a random permutation of 0 .. n - 1. Mirrors ``torch.randperm``."""
    shape = parse_size((n,), "randperm")
    dtype = as_dtype(dtype)
    if n > 1 and dtype.category == 1 and n - 1 > iinfo(dtype).max:
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
    xp = module_for(as_device(device))
    array = generator_for(generator).permutation(shape[0])
    return make_leaf(cast_draw(xp, array, dtype), requires_grad)


def normal(
    mean: Any,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return samples from N(mean, std**2). Mirrors ``torch.normal``.

    mean and std may be tensors (broadcast together); with two numbers, ``size`` is required.
    Tensor mean and std get zero gradient, as in PyTorch (not the reparameterised
    ``mean + std * eps``).
    """
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() missing required argument 'size' for float mean and std")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        out_dtype = as_dtype(dtype)
        float_only("normal_kernel_cpu", out_dtype)
        shape = parse_size((size,), "normal")
        xp = module_for(as_device(device))
        z = standard_normal(generator_for(generator), shape, out_dtype)
        return make_leaf(cast_draw(xp, z * std + mean, out_dtype), requires_grad)
    if size is not None:
        raise TypeError("normal(): size is only accepted with float mean and std")
    out_dtype = result_type(*tensors)
    float_only("normal_kernel_cpu", out_dtype)
    shape = broadcast_shape(*(getattr(v, "shape", ()) for v in (mean, std)))
    xp = array_module(tensors[0].data)
    std_data = std.data if isinstance(std, Tensor) else std
    if isinstance(std, Tensor):
        if bool((std_data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    mean_data = mean.data if isinstance(mean, Tensor) else mean
    z = standard_normal(generator_for(generator), shape, out_dtype)
    sample = cast_draw(xp, z * std_data + mean_data, out_dtype)
    return RandomDraw.apply(sample, mean, std)


def bernoulli(
    input: Tensor, p: float | None = None, *, generator: Generator | None = None
) -> Tensor:
    """Return 0/1 samples, 1 with probability input (or p). Mirrors ``torch.bernoulli``."""
    float_only("bernoulli_tensor_cpu_p_", input.dtype)
    if p is None:
        probs = input.data
        if not bool(((probs >= 0) & (probs <= 1)).all()):
            raise RuntimeError(
                "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                "message be improved?  If so, please report an enhancement request to PyTorch.)"
            )
    else:
        check_probability(p)
        probs = p
    u = generator_for(generator).random(input.data.shape)
    return RandomDraw.apply((u < probs).astype(input.dtype.np), input)


def check_probability(p: float) -> None:
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")


def multinomial(
    input: Tensor,
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Return category indices drawn with weights input. Mirrors ``torch.multinomial``.

    Shapes: input (C,) or (B, C) -> (num_samples,) or (B, num_samples), int64.
    Without replacement it takes the top num_samples of ``weight / Exp(1)`` keys per row.
    """
    dtype = input.dtype
    if not dtype.is_floating_point:
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: "
            f"{SCALAR_NAMES[dtype.name]}"
        )
    if input.data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    categories = input.data.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    xp = array_module(input.data)
    probs = input.data.reshape(-1, categories).astype(xp.float64)  # (B, C)
    if not bool((xp.isfinite(probs) & (probs >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = probs.sum(axis=1, keepdims=True)  # (B, 1)
    if bool((totals <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    gen = generator_for(generator)
    rows = probs.shape[0]
    if replacement:
        cdf = xp.cumsum(probs / totals, axis=1)
        cdf[:, -1] = 1.0
        u = gen.random((rows, num_samples))
        offsets = xp.arange(rows, dtype=xp.float64)[:, None]  # search each row in one flat call
        flat = xp.searchsorted((cdf + offsets).reshape(-1), (u + offsets).reshape(-1), "right")
        index = flat.reshape(rows, num_samples) - xp.arange(rows)[:, None] * categories
        index = xp.clip(index, 0, categories - 1)
    else:
        with xp.errstate(divide="ignore"):
            keys = probs / gen.standard_exponential((rows, categories))
        index = xp.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    out_shape = (num_samples,) if input.data.ndim == 1 else (rows, num_samples)
    return Tensor(index.astype(int64.np).reshape(out_shape))


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Return samples from Poisson(input), in input's dtype. Mirrors ``torch.poisson``."""
    float_only("poisson_cpu", input.dtype)
    rates = input.data
    if not bool((rates >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    xp = array_module(rates)
    sample = generator_for(generator).poisson(rates.astype(xp.float64))
    return RandomDraw.apply(cast_draw(xp, sample, input.dtype), input)


def _like(input: Tensor, dtype: Any) -> tuple[tuple, DType]:
    return input.data.shape, input.dtype if dtype is None else as_dtype(dtype)


def rand_like(
    input: Tensor,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return U[0, 1) samples shaped like input. Mirrors ``torch.rand_like``."""
    shape, dtype = _like(input, dtype)
    return rand(shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


def randn_like(
    input: Tensor,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return standard normal samples shaped like input. Mirrors ``torch.randn_like``."""
    shape, dtype = _like(input, dtype)
    return randn(shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


def randint_like(
    input: Tensor,
    low: int = 0,
    high: int | None = None,
    *,
    generator: Generator | None = None,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return integers from [low, high) shaped like input. Mirrors ``torch.randint_like``."""
    if high is None:
        low, high = 0, low
    shape, dtype = _like(input, dtype)
    return randint(low, high, shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


def get_rng_state() -> Tensor:
    """Return the default generator's state as a uint8 tensor. Mirrors ``torch.get_rng_state``."""
    return Tensor(default_generator.get_state())


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator from ``get_rng_state()``. Mirrors ``torch.set_rng_state``."""
    default_generator.set_state(new_state)
