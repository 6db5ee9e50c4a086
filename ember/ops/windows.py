"""Signal windows: hann, hamming, blackman, bartlett and kaiser, as in ``torch.*_window``.

A periodic window of length N is the symmetric window of length N + 1 without its last point
(the form spectral analysis wants); lengths 0 and 1 give ``[]`` and ``[1.]``. Values are
computed in float64 and rounded once to the requested dtype.

Differences from PyTorch: float16 and bfloat16 windows are therefore the correctly rounded
values, where PyTorch's CPU kernels compute in the half type and can differ in the last bit.
"""

from __future__ import annotations

import math
from typing import Any

from ember.backend import as_device, module_for
from ember.backend.dtypes import CPP_NAMES, DType, as_dtype, get_default_dtype
from ember.ops.ranges import make_leaf
from ember.tensor import Tensor

__all__ = [
    "bartlett_window",
    "blackman_window",
    "hamming_window",
    "hann_window",
    "kaiser_window",
]


def _window(
    op: str,
    window_length: int,
    periodic: bool,
    dtype: DType | None,
    device: Any,
    requires_grad: bool,
    values: Any,
) -> Tensor:
    """Validate, then build values(xp, n, N) with n = arange(N_out), N the symmetric length."""
    if not isinstance(window_length, int) or isinstance(window_length, bool):
        raise TypeError(
            f"{op}(): argument 'window_length' (position 1) must be int, not "
            f"{type(window_length).__name__}"
        )
    if window_length < 0:
        raise RuntimeError(
            f"{op} requires non-negative window_length, got window_length={window_length}"
        )
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    if not dtype.is_floating_point:
        raise RuntimeError(
            f"{op} expects floating point dtypes, got: TensorOptions(dtype={CPP_NAMES[dtype.name]})"
        )
    xp = module_for(as_device(device))
    if window_length <= 1:
        array = xp.ones(window_length, dtype=dtype.np)
    else:
        length = window_length + 1 if periodic else window_length
        n = xp.arange(window_length, dtype=xp.float64)
        array = values(xp, n, length).astype(dtype.np)
    return make_leaf(array, requires_grad)


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return the Hann window 0.5 - 0.5 cos(2 pi n / (N - 1)). Mirrors ``torch.hann_window``."""
    values = _cosine(0.5, 0.5)
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, values)


def _cosine(alpha: float, beta: float) -> Any:
    """The generalised Hamming window alpha - beta cos(2 pi n / (N - 1))."""

    def values(xp: Any, n: Any, length: int) -> Any:
        return alpha - beta * xp.cos(n * (2 * math.pi / (length - 1)))

    return values


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return the window alpha - beta cos(2 pi n / (N - 1)). Mirrors ``torch.hamming_window``."""
    values = _cosine(alpha, beta)
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, values)


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return the Blackman window 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1)).

    Mirrors ``torch.blackman_window``.
    """

    def values(xp: Any, n: Any, length: int) -> Any:
        phase = n * (math.pi / (length - 1))
        return 0.42 - 0.5 * xp.cos(2 * phase) + 0.08 * xp.cos(4 * phase)

    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, values)


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return the triangular window 1 - |2 n / (N - 1) - 1|. Mirrors ``torch.bartlett_window``."""

    def values(xp: Any, n: Any, length: int) -> Any:
        return 1 - xp.abs(n * (2 / (length - 1)) - 1)

    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, values)


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return the Kaiser window I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta).

    Mirrors ``torch.kaiser_window``.
    """

    def values(xp: Any, n: Any, length: int) -> Any:
        ratio = n * (2 / (length - 1)) - 1
        return xp.i0(beta * xp.sqrt(xp.maximum(1 - ratio * ratio, 0))) / xp.i0(beta)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, values)
