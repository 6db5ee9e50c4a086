"""The window machinery under pooling: geometry, gathers at argmax positions, window sums.

Max pooling (plain and adaptive) gathers every window from the flattened plane with one
``take`` over a (window, outputs) table of flat input positions, then picks PyTorch's
maximum among ties (the first; the last NaN). Positions in the padding are replaced by ones
already in the window, so padding never wins and no -inf fill is needed (integers work too).
Values come from ``PlaneGather`` at those indices; its backward ``PlaneScatterAdd`` sends the
gradient to the argmax positions, and each is the other's backward (gradients of any order).
Average pooling is linear: ``AvgPool`` and its adjoint ``AvgPoolAdjoint`` are each other's
backward. The public functions live in ``pooling.py``.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import grad_mode
from ember.backend import Array, array_module, device_of
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import no_bool
from ember.tensor import Tensor

__all__: list[str] = []

_WORDS = {1: "one", 2: "two", 3: "three"}


# -- gather and scatter at flat indices per plane ------------------------------------------
def _plane_view(x: Array, d: int) -> tuple[Array, tuple]:
    """View x as (planes, plane size): leading dims flattened, the last d dims flattened."""
    lead = x.shape[:-d]
    return x.reshape(math.prod(lead), math.prod(x.shape[-d:])), lead


class PlaneGather(Function):
    """out[..., o] = x[..., index[..., o]] over the last d dims flattened; backward adds back."""

    @staticmethod
    def forward(ctx: Context, x: Array, index: Array, d: int) -> Array:
        ctx.index, ctx.plane, ctx.d = index, x.shape[-d:], d
        planes, _ = _plane_view(x, d)
        flat, _ = _plane_view(index, d)
        return array_module(x).take_along_axis(planes, flat, axis=1).reshape(index.shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return PlaneScatterAdd.apply(grad, ctx.index, ctx.plane), None, None


class PlaneScatterAdd(Function):
    """zeros(..., *plane) with grad added at the flat indices (repeats add); backward gathers."""

    @staticmethod
    def forward(ctx: Context, grad: Array, index: Array, plane: tuple) -> Array:
        ctx.index, ctx.d = index, len(plane)
        xp = array_module(grad)
        flat, lead = _plane_view(index, len(plane))
        size = math.prod(plane)
        flat = flat + (xp.arange(flat.shape[0]) * size)[:, None]
        weights = grad.reshape(-1).astype(xp.float64, copy=False)  # one pass, any repeats
        out = xp.bincount(flat.reshape(-1), weights=weights, minlength=flat.shape[0] * size)
        return out.astype(grad.dtype).reshape(*lead, *plane)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return PlaneGather.apply(grad, ctx.index, ctx.d), None, None


class PlaneScatter(Function):
    """zeros(..., *plane) with x written at the flat indices (max_unpool); backward gathers."""

    @staticmethod
    def forward(ctx: Context, x: Array, index: Array, plane: tuple) -> Array:
        ctx.index, ctx.d = index, len(plane)
        xp = array_module(x)
        flat, lead = _plane_view(index, len(plane))
        size = math.prod(plane)
        out = xp.zeros((flat.shape[0], size), dtype=x.dtype)
        xp.put_along_axis(out, flat, _plane_view(x, len(plane))[0], axis=1)
        return out.reshape(*lead, *plane)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return PlaneGather.apply(grad, ctx.index, ctx.d), None, None


# -- arguments and shapes --------------------------------------------------------------------
def int_tuple(value: Any, d: int, op: str, name: str) -> tuple[int, ...]:
    """An int or a sequence of 1 or d ints as a d-tuple, with PyTorch's errors."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    try:
        values = tuple(operator.index(v) for v in values)  # ints, NumPy ints; not floats
    except TypeError:
        kind = type(value).__name__
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not {kind}") from None
    if len(values) == 1:
        return values * d
    if len(values) != d:
        raise RuntimeError(
            f"{op}: {name} must either be a single int, or a tuple of {_WORDS[d]} ints"
        )
    return values


def _check_input(input: Tensor, d: int, op: str) -> None:
    shape = input.shape
    if input.ndim not in (d + 1, d + 2) or 0 in shape[-d - 1 :]:
        raise RuntimeError(
            f"{op}: Expected {d + 1}D or {d + 2}D (batch mode) tensor with optional 0 dim batch "
            f"size for input, but got:{list(shape)}"
        )
    no_bool(op, input)


class Window:
    """The geometry of a sliding-window pooling: per-dim kernel, stride, padding, sizes."""

    __slots__ = ("ceil_mode", "dilation", "in_size", "kernel", "out_size", "padding", "stride")

    def __init__(
        self,
        input: Tensor,
        d: int,
        op: str,
        kernel: Any,
        stride: Any,
        padding: Any,
        dilation: Any = 1,
        ceil_mode: bool = False,
    ) -> None:
        _check_input(input, d, op)
        self.kernel = int_tuple(kernel, d, op, "kernel_size")
        default = stride in (None, [], ())  # PyTorch reads an empty stride as the kernel size
        self.stride = self.kernel if default else int_tuple(stride, d, op, "stride")
        self.padding = int_tuple(padding, d, op, "padding")
        self.dilation = int_tuple(dilation, d, op, "dilation")
        self.ceil_mode = bool(ceil_mode)
        self.in_size = tuple(input.shape[-d:])
        self._check(op)
        self.out_size = tuple(map(self._out_len, self.in_size, *self._dims()))
        if min(self.out_size) < 1:
            channels = input.shape[-d - 1]
            given = "x".join(map(str, (channels, *self.in_size)))
            computed = "x".join(map(str, (channels, *self.out_size)))
            raise RuntimeError(
                f"Given input size: ({given}). Calculated output size: ({computed}). "
                "Output size is too small"
            )

    def _dims(self) -> tuple:
        return self.kernel, self.stride, self.padding, self.dilation

    def _check(self, op: str) -> None:
        for k, s, p, dil in zip(*self._dims()):
            if k <= 0:
                raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got {k}")
            if s <= 0:
                raise RuntimeError(f"{op}: stride must be greater than zero, but got {s}")
            if dil <= 0:
                raise RuntimeError(f"{op}: dilation should be greater than zero, but got {dil}")
            if p < 0:
                raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
            if p > ((k - 1) * dil + 1) // 2:
                raise RuntimeError(
                    "pad should be at most half of effective kernel size, but got "
                    f"pad={p}, kernel_size={k} and dilation={dil}"
                )
            if p > k // 2:
                raise RuntimeError(
                    "pad should be smaller than or equal to half of kernel size, but got "
                    f"pad={p}, kernel_size={k}"
                )

    def _out_len(self, size: int, k: int, s: int, p: int, dil: int) -> int:
        span = size + 2 * p - dil * (k - 1) - 1 + (s - 1 if self.ceil_mode else 0)
        out = span // s + 1
        if self.ceil_mode and (out - 1) * s >= size + p:  # the last window must start inside
            out -= 1
        return out

    def table(self, x: Array) -> Array:
        """The (window, outputs) table of flat plane positions, cached per geometry."""
        key = (self.in_size, self.out_size, *self._dims())
        return _sliding_table(array_module(x), device_of(x), *key)


@functools.lru_cache(maxsize=256)
def _sliding_table(xp: Any, device: Any, in_size: tuple, out_size: tuple, *dims: tuple) -> Array:
    tables = []
    for n, k, s, p, dil in zip(out_size, *dims):
        tables.append((xp.arange(n) * s - p)[:, None] + xp.arange(k) * dil)
    return _flat_table(xp, tables, in_size)


# -- max pooling -----------------------------------------------------------------------------
def _flat_table(xp: Any, tables: list[Array], sizes: tuple) -> Array:
    """(window, outputs) table of flat plane positions, out-of-range ones moved into the window.

    A position before the input becomes the window's first valid one, one after it the last,
    so each dim's positions stay non-decreasing: the first maximum (and the last NaN) in
    row-major window order, PyTorch's picks, then lands on the same input position.
    """
    d = len(tables)
    flat, step = 0, 1
    for i in reversed(range(d)):
        pos, size = tables[i], sizes[i]
        valid = (pos >= 0) & (pos < size)
        first = xp.take_along_axis(pos, valid.argmax(axis=1)[:, None], axis=1)
        last = xp.take_along_axis(
            pos, valid.shape[1] - 1 - valid[:, ::-1].argmax(axis=1)[:, None], axis=1
        )
        pos = xp.where(pos < 0, first, xp.where(pos >= size, last, pos))
        pos = pos.clip(0, size - 1)  # a dilated window can miss the input entirely
        shape = [1] * (2 * d)
        shape[d + i], shape[i] = pos.shape
        flat = flat + pos.T.reshape(shape) * step
        step *= size
    outputs = math.prod(t.shape[0] for t in tables)
    return flat.reshape(-1, outputs) if outputs else xp.zeros((1, 0), dtype=xp.int64)


def _first_argmax(xp: Any, windows: Array, best: Array) -> Array:
    """Index along axis 1 of the first maximum, or of the last NaN, as PyTorch's kernels pick."""
    first = windows.argmax(axis=1)
    if windows.dtype.kind in "fV" and xp.isnan(best).any():
        for k in range(windows.shape[1]):
            xp.copyto(first, k, where=xp.isnan(windows[:, k]))
    return first


def max_over_windows(input: Tensor, table: Array, out_size: tuple, return_indices: bool) -> Any:
    """Max over the windows of a (window, outputs) position table; with indices if asked."""
    x = input.data
    xp = array_module(x)
    d = len(out_size)
    planes, lead = _plane_view(x, d)
    windows = xp.take(planes, table, axis=1)  # (planes, window, outputs)
    best = windows.max(axis=1)
    if not return_indices and not (input.requires_grad and grad_mode.enabled):
        return Tensor(best.reshape(*lead, *out_size))
    first = _first_argmax(xp, windows, best)
    index = table[first, xp.arange(table.shape[1])].reshape(*lead, *out_size)
    out = PlaneGather.apply(input, index, d)
    return (out, Tensor(index)) if return_indices else out


# -- max unpooling ---------------------------------------------------------------------------
def unpool_size(
    input: Tensor, d: int, kernel: tuple, stride: tuple, padding: tuple, size: Any
) -> tuple:
    """The output plane size: PyTorch's default, or ``output_size`` checked against it."""
    default = [(input.shape[i - d] - 1) * stride[i] + kernel[i] - 2 * padding[i] for i in range(d)]
    if size is None:
        result = default
    else:
        result = list(size)[2:] if len(size) == d + 2 else list(size)
        if len(result) != d:
            raise ValueError(
                f"output_size should be a sequence containing {d} or {d + 2} elements, but it "
                f"has a length of '{len(size)}'"
            )
        for i in range(d):
            low, high = default[i] - stride[i], default[i] + stride[i]
            if not low < result[i] < high:
                raise ValueError(
                    f'invalid output_size "{size}" (dim {i} must be between {low} and {high})'
                )
    for i, n in enumerate(result):
        if n < 0:
            raise ValueError(
                "max_unpooling: output_size must contain non-negative spatial dimensions, but "
                f"got output_size[{i}]={n}"
            )
    return tuple(int(n) for n in result)


def check_unpool(input: Tensor, indices: Tensor, d: int, plane: tuple) -> None:
    """Refuse what PyTorch's max_unpool refuses, with its messages."""
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(
            f"Input to max_unpooling{d}d should be a {d + 1}d or {d + 2}d Tensor, but got a "
            f"tensor with {input.ndim} dimensions."
        )
    kind = input.data.dtype
    if kind.kind not in "fV":
        raise NotImplementedError(
            f"\"max_unpool{d}d\" not implemented for '{SCALAR_NAMES[kind.name]}'"
        )
    if indices.data.dtype.name != "int64":
        name = SCALAR_NAMES[indices.data.dtype.name]
        raise RuntimeError(f"elements in indices should be type int64 but got: {name}")
    if indices.shape != input.shape:
        raise RuntimeError(
            "Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}"
        )
    index = indices.data
    bad = (index < 0) | (index >= math.prod(plane))
    if bad.any():
        raise RuntimeError(
            f"Found an invalid max index: {int(index[bad][0])} (output volumes are of size "
            f"{'x'.join(map(str, plane))})"
        )


# -- average pooling -------------------------------------------------------------------------
def _offsets(window: Window) -> Any:
    """For each kernel offset, the strided slices of the padded input it reads."""
    steps = list(zip(window.stride, window.out_size))
    for offsets in itertools.product(*map(range, window.kernel)):
        yield (Ellipsis, *(slice(o, o + s * (n - 1) + 1, s) for o, (s, n) in zip(offsets, steps)))


def _padded_size(window: Window) -> list[tuple[int, int]]:
    """(left, right) zero padding per dim so that every window slice stays in bounds."""
    spans = zip(window.in_size, window.kernel, window.stride, window.padding, window.out_size)
    return [(p, max(0, s * (n - 1) + k - size - p)) for size, k, s, p, n in spans]


def _acc_dtype(xp: Any, dtype: Any) -> Any:
    """Sum half types in float32 and integers in float64 (then truncate), as PyTorch does."""
    if dtype.kind in "fV":
        return xp.float32 if dtype.itemsize == 2 else dtype
    return xp.float64


class AvgPool(Function):
    """Window sums of the zero-padded input over divisor (linear); backward is the adjoint."""

    @staticmethod
    def forward(ctx: Context, x: Array, window: Window, divisor: Array) -> Array:
        ctx.window, ctx.divisor = window, divisor
        xp = array_module(x)
        pads = _padded_size(window)
        if any(p != (0, 0) for p in pads):
            x = xp.pad(x, [(0, 0)] * (x.ndim - len(pads)) + pads)
        acc = xp.zeros((*x.shape[: -len(pads)], *window.out_size), dtype=_acc_dtype(xp, x.dtype))
        for index in _offsets(window):
            acc += x[index]
        out = acc / divisor.astype(acc.dtype)
        if x.dtype.kind not in "fV":
            out = xp.trunc(out)  # integer inputs: C division truncates toward zero
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return AvgPoolAdjoint.apply(grad, ctx.window, ctx.divisor), None, None


class AvgPoolAdjoint(Function):
    """grad / divisor added back over each window, padding cropped; backward is AvgPool."""

    @staticmethod
    def forward(ctx: Context, grad: Array, window: Window, divisor: Array) -> Array:
        ctx.window, ctx.divisor = window, divisor
        xp = array_module(grad)
        pads = _padded_size(window)
        g = grad.astype(_acc_dtype(xp, grad.dtype))
        g = g / divisor.astype(g.dtype)
        size = [n + left + right for n, (left, right) in zip(window.in_size, pads)]
        out = xp.zeros((*grad.shape[: -len(pads)], *size), dtype=g.dtype)
        for index in _offsets(window):
            out[index] += g
        crop = tuple(slice(left, left + n) for n, (left, _) in zip(window.in_size, pads))
        return out[(Ellipsis, *crop)].astype(grad.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return AvgPool.apply(grad, ctx.window, ctx.divisor), None, None


def avg_divisor(xp: Any, window: Window, count_include_pad: bool, divisor_override: Any) -> Array:
    """Per output, what its window sum is divided by: PyTorch's pool_size rules, per dim."""
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        return xp.asarray(float(divisor_override))
    divisor = xp.ones((), dtype=xp.float64)
    for size, k, s, p, n in zip(
        window.in_size, window.kernel, window.stride, window.padding, window.out_size
    ):
        start = xp.arange(n) * s - p
        end = xp.minimum(start + k, size + p)  # windows past the padding (ceil_mode) are cut
        if not count_include_pad:
            start, end = xp.maximum(start, 0), xp.minimum(end, size)
        divisor = divisor[..., None] * (end - start)
    return divisor


# -- adaptive pooling ------------------------------------------------------------------------
def adaptive_sizes(input: Tensor, d: int, output_size: Any, op: str) -> tuple[int, ...]:
    """Check the input and turn output_size (None entries keep the input size) into a tuple."""
    shape = input.shape
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{op}(): Expected {d + 1}D or {d + 2}D tensor, but got {list(shape)}")
    for dim in range(input.ndim - d - 1, input.ndim):
        if shape[dim] == 0:
            raise RuntimeError(
                f"{op}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {list(shape)} with dimension {dim} being empty"
            )
    kind = input.data.dtype
    if kind.kind not in "fV":
        raise NotImplementedError(f"\"{op}\" not implemented for '{SCALAR_NAMES[kind.name]}'")
    sizes = (output_size,) * d if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != d:
        raise RuntimeError(f"{op}: output_size must be {d}")
    sizes = tuple(n if s is None else s for s, n in zip(sizes, shape[-d:]))
    if min(sizes) < 0:
        raise RuntimeError(
            f"{op}: elements of output_size must be greater than or equal to 0 but received {sizes}"
        )
    return sizes


def adaptive_bounds(xp: Any, size: int, out: int) -> tuple[Array, Array]:
    """PyTorch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    i = xp.arange(out)
    return (i * size) // out, ((i + 1) * size + out - 1) // out


def adaptive_max(input: Tensor, d: int, output_size: Any, return_indices: bool) -> Any:
    """Adaptive max pooling: the windows of ``adaptive_bounds``, padded to a common width."""
    sizes = adaptive_sizes(input, d, output_size, f"adaptive_max_pool{d}d")
    x = input.data
    table = _adaptive_table(array_module(x), device_of(x), tuple(x.shape[-d:]), sizes)
    return max_over_windows(input, table, sizes, return_indices)


@functools.lru_cache(maxsize=256)
def _adaptive_table(xp: Any, device: Any, in_size: tuple, out_size: tuple) -> Array:
    tables = []
    for size, out in zip(in_size, out_size):
        start, end = adaptive_bounds(xp, size, out)
        width = int((end - start).max()) if out else 1
        pos = start[:, None] + xp.arange(width)
        # Short windows repeat their last position, keeping positions non-decreasing.
        tables.append(xp.minimum(pos, end[:, None] - 1))
    return _flat_table(xp, tables, in_size)
