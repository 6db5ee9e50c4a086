"""Padding: ``pad`` in its four modes (constant, reflect, replicate, circular).

Constant padding is one Function whose backward is constant padding with the pads negated
(padding and cropping are each other's adjoint). The other modes gather along each padded dim
with an index map (``TakeIndices``), whose backward scatter-adds into the input.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.rearrange import TakeIndices
from ember.tensor import Tensor

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")
_UNSUPPORTED = (
    "Padding size {size} is not supported for {ndim}D input tensor.\n"
    "Supported combinations for non-constant padding:\n"
    "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
    "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
    "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
)


class ConstantPad(Function):
    """x with (before, after) entries of value added per dim; negative pads crop."""

    @staticmethod
    def forward(ctx: Context, x: Array, pads: tuple, value: Any) -> Array:
        ctx.pads = pads
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, pads))
        out = array_module(x).full(shape, value, dtype=x.dtype)
        src = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, pads))
        dst = tuple(slice(max(a, 0), n - max(b, 0)) for n, (a, b) in zip(shape, pads))
        out[dst] = x[src]
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return ConstantPad.apply(grad, tuple((-a, -b) for a, b in ctx.pads), 0), None, None


def _pad_list(pad: Sequence[Any]) -> list[int]:
    out = []
    for i, p in enumerate(pad):
        if isinstance(p, Tensor) and p.data.ndim == 0 and p.dtype.is_floating_point is False:
            p = p.item()
        try:
            out.append(operator.index(p))
        except TypeError:
            raise TypeError(
                "pad(): argument 'pad' (position 2) must be tuple of ints, but found element "
                f"of type {type(p).__name__} at pos {i}"
            ) from None
    return out


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last len(pad) // 2 dims; pad is (last_before, last_after, 2nd-last_before, ...).

    Mirrors ``torch.nn.functional.pad``: 'constant' pads any dims with value (negative pads
    crop); 'reflect', 'replicate' and 'circular' pad the last 1-3 dims of a (batched) input.
    Differences from PyTorch: a circular pad larger than the part left after negative pads
    crop raises instead of reading uninitialised memory.
    """
    pads = _pad_list(pad)
    shape = input.data.shape
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pads) // 2 > len(shape):
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pads)} and input of dimension {len(shape)}"
        )
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    # per dim, last dim first: (dim, before, after)
    per_dim = [(len(shape) - 1 - i, pads[2 * i], pads[2 * i + 1]) for i in range(len(pads) // 2)]
    if mode == "constant":
        return _constant(input, per_dim, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    count = len(per_dim)
    if not 1 <= count <= 3 or len(shape) not in (count + 1, count + 2):
        raise NotImplementedError(_UNSUPPORTED.format(size=len(pads), ndim=len(shape)))
    if mode == "circular":
        _check_circular(shape, per_dim)
    else:
        _check_reflect_replicate(input, per_dim, mode)
    xp = array_module(input.data)
    out = input
    for dim, before, after in per_dim:
        index = _index_map(xp, mode, shape[dim], before, after)
        if index is not None:
            out = TakeIndices.apply(out, dim, index)
    return out


def _constant(input: Tensor, per_dim: list, value: Any) -> Tensor:
    shape = input.data.shape
    pads = [(0, 0)] * len(shape)
    for dim, before, after in per_dim:
        if shape[dim] + before + after < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        pads[dim] = (before, after)
    if input.data.dtype.kind in "iu":  # NumPy would raise its own error, or wrap around
        info = array_module(input.data).iinfo(input.data.dtype)
        if not info.min <= value <= info.max:
            raise RuntimeError(
                f"value cannot be converted to type {input.data.dtype.name}_t without overflow"
            )
    return ConstantPad.apply(input, tuple(pads), value)


def _check_reflect_replicate(input: Tensor, per_dim: list, mode: str) -> None:
    shape = input.data.shape
    count = len(per_dim)
    if input.dtype.name == "bool":
        kind = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f"\"{kind}_pad{count}d\" not implemented for 'Bool'")
    if 0 in (shape[1:] if len(shape) == count + 2 else shape):  # only a batch may be empty
        raise RuntimeError(
            f"Expected {count + 1}D or {count + 2}D (batch mode) tensor with possibly 0 batch "
            f"size and other non-zero dimensions for input, but got: {list(shape)}"
        )
    if mode == "reflect":
        for i, (dim, before, after) in enumerate(per_dim):
            if before >= shape[dim] or after >= shape[dim]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding "
                    f"input dimension, but got: padding ({before}, {after}) at dimension {dim} "
                    f"of input {list(shape)}"
                )
    out = list(shape)
    for dim, before, after in per_dim:
        out[dim] += before + after
    if count == 1 and out[-1] < 1:
        raise RuntimeError(f"input (W: {shape[-1]}) is too small. Calculated output W: {out[-1]}")
    for n in out:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {out}")


def _check_circular(shape: tuple, per_dim: list) -> None:
    for dim, before, after in per_dim:
        size = shape[dim]
        kept = size - max(-before, 0) - max(-after, 0)  # what is left after negative pads crop
        if before > size or after > size or before > kept or after > kept:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + before + after < 0 or kept < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")


def _index_map(xp: Any, mode: str, size: int, before: int, after: int) -> Array | None:
    """Which input position each output position reads along one dim (None: all, in order)."""
    if before == 0 and after == 0:
        return None
    if mode == "circular":  # crop by the negative pads first, then wrap around what is left
        start = max(-before, 0)
        kept = size - start - max(-after, 0)
        offsets = xp.arange(kept + max(before, 0) + max(after, 0)) - max(before, 0)
        return start + offsets % max(kept, 1)
    k = xp.arange(size + before + after) - before
    if mode == "replicate":
        return xp.clip(k, 0, size - 1)
    k = xp.abs(k)  # reflect about the first and the last element
    return (size - 1) - xp.abs((size - 1) - k)
