"""Dropout: F.dropout, dropout1d/2d/3d (whole channels), alpha_dropout, feature_alpha_dropout.

A mask is drawn from Ember's default generator (so ``ember.manual_seed`` makes it repeatable;
the stream differs from PyTorch's), scaled by 1 / (1 - p) as PyTorch's ``noise.div_(1 - p)``,
and multiplied in with the ordinary ``mul`` op: the gradient is ``grad * mask``, and backward
keeps the mask alone. Eval mode (``training=False``), p = 0 and empty inputs return the input
itself, as PyTorch does.
"""

from __future__ import annotations

import math
import warnings

from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.backend.random import generator_for
from ember.ops.elementwise import add, mul
from ember.ops.inplace import add_, mul_
from ember.tensor import Tensor

__all__ = [
    "alpha_dropout",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "feature_alpha_dropout",
]

_SELU_ALPHA_SCALED = 1.7580993408473766  # SELU's scale * alpha: its negative saturation


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _check_float(input: Tensor) -> None:
    dtype = input.data.dtype
    if dtype.kind not in "fV":
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {SCALAR_NAMES[dtype.name]}"
        )


def _keep(input: Tensor, shape: tuple, p: float) -> Array:
    """A 0/1 mask of the given shape in input's dtype, 1 with probability 1 - p."""
    _check_float(input)
    x = input.data
    draw_dtype = x.dtype if x.dtype.itemsize >= 4 else "float32"
    u = generator_for(None).random(shape, dtype=draw_dtype)
    return array_module(x).asarray(u >= p, dtype=x.dtype)  # P(u >= p) = 1 - p


def _feature_shape(input: Tensor) -> tuple:
    """(N, C, 1, ..., 1): one draw per channel of each sample."""
    shape = input.data.shape
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return shape[:2] + (1,) * (len(shape) - 2)


def _dropout(input: Tensor, p: float, inplace: bool, shape: tuple) -> Tensor:
    xp, dtype = array_module(input.data), input.data.dtype
    if p == 1:  # PyTorch multiplies by zeros: the output and the gradient are 0
        _check_float(input)
        mask = xp.zeros((), dtype=dtype)
    else:
        mask = _keep(input, shape, p) * xp.asarray(1 / (1 - p), dtype=dtype)
    return mul_(input, Tensor(mask)) if inplace else mul(input, Tensor(mask))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero elements with probability p. Mirrors ``torch.nn.functional.dropout``.

    The kept elements are scaled by 1 / (1 - p).

    Differences from PyTorch: masks come from Ember's generator, so they differ for one seed.
    """
    _check_p(p)
    if not training or p == 0 or input.data.size == 0:
        return input
    return _dropout(input, p, inplace, input.data.shape)


def _channel_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool):
    if not training or p == 0 or input.data.size == 0:
        return input
    shape = input.data.shape
    if batched:
        noise = _feature_shape(input)
    else:  # (C, *spatial): the unsqueezed batch of one, as PyTorch
        if not shape:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        noise = shape[:1] + (1,) * (len(shape) - 1)
    return _dropout(input, p, inplace, noise)


def dropout1d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L). Mirrors ``torch.nn.functional.dropout1d``."""
    _check_p(p)
    ndim = input.data.ndim
    if ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs)."
        )
    return _channel_dropout(input, p, training, inplace, batched=ndim == 3)


def _deprecated_dims(op: str, ndim: int, wanted: str, spatial: int) -> None:
    warnings.warn(
        f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an "
        "error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {op} exists to provide channel-wise dropout on inputs "
        f"with {spatial} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {wanted} inputs).",
        stacklevel=3,
    )


def dropout2d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, H, W). Mirrors ``torch.nn.functional.dropout2d``.

    As PyTorch, a 3-D input is read as (N, C, L), with a warning.
    """
    _check_p(p)
    ndim = input.data.ndim
    if ndim not in (3, 4):
        _deprecated_dims("dropout2d", ndim, "3D or 4D", 2)
    if ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _channel_dropout(input, p, training, inplace, batched=True)


def dropout3d(
    input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> Tensor:
    """Zero whole channels of (N, C, D, H, W). Mirrors ``torch.nn.functional.dropout3d``."""
    _check_p(p)
    ndim = input.data.ndim
    if ndim not in (4, 5):
        _deprecated_dims("dropout3d", ndim, "4D or 5D", 3)
    return _channel_dropout(input, p, training, inplace, batched=ndim == 5)


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool):
    _check_p(p)
    if not training or p == 0 or input.data.size == 0:
        return input
    if p == 1:
        return _dropout(input, p, inplace, ())
    # Dropped units go to SELU's saturation, then an affine map restores mean 0, variance 1.
    keep = _keep(input, _feature_shape(input) if feature else input.data.shape, p)
    a = 1 / math.sqrt((_SELU_ALPHA_SCALED**2 * p + 1) * (1 - p))
    shift = ((keep - 1) * (_SELU_ALPHA_SCALED * a) + _SELU_ALPHA_SCALED * a * p).astype(keep.dtype)
    keep = (keep * a).astype(keep.dtype)
    if inplace:
        return add_(mul_(input, Tensor(keep)), Tensor(shift))
    return add(mul(input, Tensor(keep)), Tensor(shift))


def alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Apply dropout for SELU networks. Mirrors ``torch.nn.functional.alpha_dropout``.

    Dropped units go to SELU's saturation; mean and variance are kept.
    """
    return _alpha_dropout(input, p, training, inplace, feature=False)


def feature_alpha_dropout(
    input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False
) -> Tensor:
    """Alpha dropout of whole channels. Mirrors ``torch.nn.functional.feature_alpha_dropout``."""
    return _alpha_dropout(input, p, training, inplace, feature=True)
