"""Memory interop and runtime utilities: DLPack, buffers, arbitrary strided views, type queries.

``from_dlpack``/``to_dlpack`` and ``frombuffer`` share memory with their source. ``as_strided``
is a view with any strides over the memory of a tensor's (C-contiguous) base: its gradient is
scattered into a zero buffer the size of that memory (adding where windows overlap) and read
back through the input's own geometry, as PyTorch's ``as_strided_backward`` does. The ``*_copy``
ops, deprecated norms, histogramdd, geqrf/ormqr and low-rank SVDs live in ``interop_extras.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import grad_mode
from ember.backend import Array, array_module, as_device, module_for, strided_view, view_geometry
from ember.backend.dtypes import DType, as_dtype, get_default_dtype
from ember.ops.common import cast
from ember.ops.elementwise import clone
from ember.ops.inplace import ViewScatter, check_inplace
from ember.ops.masking import take
from ember.ops.scatter import index_add
from ember.ops.shape import permute, reshape, tie_view
from ember.tensor import Tensor

__all__ = [
    "as_strided",
    "as_strided_",
    "as_strided_copy",
    "as_strided_scatter",
    "can_cast",
    "empty_permuted",
    "empty_strided",
    "from_dlpack",
    "frombuffer",
    "is_inference_mode_enabled",
    "is_storage",
    "to_dlpack",
    "typename",
]


# -- DLPack and buffers -----------------------------------------------------------------------
class _Capsule:
    """Wrap a bare DLPack capsule so that the array module's ``from_dlpack`` accepts it."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU: bare capsules come from CPU producers until the CUDA backend


def from_dlpack(ext_tensor: Any, *, device: Any = None, copy: bool | None = None) -> Tensor:
    """Wrap a tensor of another library (or a DLPack capsule), sharing its memory. Mirrors ``torch.from_dlpack``.

    ``copy=True`` copies instead; ``device`` may only name the CPU. Differences from PyTorch:
    only CPU producers are accepted until the CUDA backend lands; a bare legacy capsule (such as
    ``torch.utils.dlpack.to_dlpack`` makes) gives a read-only tensor, as NumPy imports it: pass
    the tensor itself to share writable memory.
    """  # noqa: E501
    xp = module_for(as_device(device))  # raises the backend's clear error for 'cuda'
    source = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    if source.__dlpack_device__()[0] != 1:  # kDLCPU
        module_for(as_device("cuda"))
    array = xp.from_dlpack(source)
    return Tensor(array.copy() if copy else array)


def to_dlpack(tensor: Tensor) -> Any:
    """Return a DLPack capsule sharing the tensor's memory. Mirrors ``torch.utils.dlpack.to_dlpack``."""  # noqa: E501
    if tensor._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    return tensor.data.__dlpack__(max_version=(1, 0))  # versioned: imported as writable


def frombuffer(
    buffer: Any, *, dtype: DType, count: int = -1, offset: int = 0, requires_grad: bool = False
) -> Tensor:
    """Return a 1-D tensor over an object that exposes the buffer protocol. Mirrors ``torch.frombuffer``.

    The tensor shares the buffer's memory. Differences from PyTorch: a read-only buffer gives a
    read-only tensor (PyTorch warns and lets you write to it).
    """  # noqa: E501
    try:
        view = memoryview(buffer)
    except TypeError:
        raise ValueError("object does not implement Python buffer protocol.") from None
    dtype, length = as_dtype(dtype), view.nbytes
    size = dtype.itemsize
    if length == 0 or count == 0:
        raise ValueError(f"both buffer length ({length}) and count ({count}) must not be 0")
    if not 0 <= offset < length:
        raise ValueError(
            f"offset ({offset} bytes) must be non-negative and no greater than buffer length "
            f"({length} bytes) minus 1"
        )
    if count < 0:
        if (length - offset) % size:
            raise ValueError(
                f"buffer length ({length - offset} bytes) after offset ({offset} bytes) must be "
                f"a multiple of element size ({size})"
            )
        count = (length - offset) // size
    elif offset + count * size > length:
        raise ValueError(
            f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) "
            f"must not be greater than actual buffer length ({length} bytes)"
        )
    if view.readonly:
        warnings.warn(
            "The given buffer is not writable: the tensor shares its memory and is read-only.",
            UserWarning,
            stacklevel=2,
        )
    xp = module_for(as_device("cpu"))
    array = xp.frombuffer(buffer, dtype=dtype.np, count=count, offset=offset)
    return Tensor(array).requires_grad_(requires_grad)


# -- Strided views ----------------------------------------------------------------------------
def _storage_index(xp: Any, size: tuple, stride: tuple, offset: int) -> Array:
    """The flat storage position of every element of a strided view (an int64 array)."""
    index = xp.full(size, offset, dtype=xp.int64)
    for dim, (n, step) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[dim] = n
        index += (xp.arange(n, dtype=xp.int64) * step).reshape(shape)
    return index


class AsStrided(Function):
    """A view (size, stride, offset) of the flat memory of x's base; grad scatter-adds back."""

    @staticmethod
    def forward(ctx: Context, x: Array, flat: Any, geometry: tuple, input_geometry: tuple) -> Array:
        ctx.numel, ctx.geometry, ctx.input_geometry = flat.array.size, geometry, input_geometry
        return strided_view(flat.array, *geometry)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        xp = array_module(grad.data)
        storage = Tensor(xp.zeros(ctx.numel, dtype=grad.data.dtype))
        where = Tensor(_storage_index(xp, *ctx.geometry).reshape(-1))
        storage = index_add(storage, 0, where, reshape(grad, (-1,)))
        return take(storage, Tensor(_storage_index(xp, *ctx.input_geometry))), None, None, None


class _Flat:
    """The flat memory of a base, passed to ``apply`` as a constant (not a differentiable input)."""

    __slots__ = ("array",)

    def __init__(self, array: Array) -> None:
        self.array = array


def _root(tensor: Tensor) -> Tensor:
    while tensor._base is not None:
        tensor = tensor._base
    return tensor


def _check_geometry(size: Any, stride: Any, offset: int, numel: int, itemsize: int) -> tuple:
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(n < 0 for n in size):
        raise RuntimeError(
            f"Storage size calculation overflowed with sizes={list(size)} and strides="
            f"{list(stride)}"
        )
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}"
        )
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > numel:
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, "
            f"and itemsize {itemsize} requiring a storage size of {needed * itemsize} are out "
            f"of bounds for storage of size {numel * itemsize}"
        )
    return size, stride, offset


def _strided_args(input: Tensor, size: Any, stride: Any, offset: int | None, op: str) -> tuple:
    """(flat memory of input's base, checked geometry, input's own geometry in that memory)."""
    root = _root(input)
    input_geometry = view_geometry(input.data, root.data)
    if input_geometry is None:
        raise RuntimeError(
            f"{op}: Ember needs the tensor's memory to be one C-contiguous block (a contiguous "
            "tensor or a view of one); call .contiguous() first"
        )
    if offset is None:
        offset = input_geometry[2]
    flat = root.data.reshape(-1)
    geometry = _check_geometry(size, stride, offset, flat.size, flat.itemsize)
    return flat, geometry, input_geometry


def as_strided(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    """Return a view with the given size, strides and offset into input's memory. Mirrors ``torch.as_strided``.

    Strides and offset count elements of the memory of input's base (``storage_offset=None``
    keeps input's own offset). Differences from PyTorch: that memory must be one C-contiguous
    block (a contiguous tensor or a view of one).
    """  # noqa: E501
    flat, geometry, input_geometry = _strided_args(
        input, size, stride, storage_offset, "as_strided"
    )
    out = AsStrided.apply(input, _Flat(flat), geometry, input_geometry)
    return tie_view(out, input)


def as_strided_copy(
    input: Tensor, size: Any, stride: Any, storage_offset: int | None = None
) -> Tensor:
    """Return a contiguous copy of ``as_strided(input, ...)``. Mirrors ``torch.as_strided_copy``."""
    return clone(as_strided(input, size, stride, storage_offset))


def as_strided_(input: Tensor, size: Any, stride: Any, storage_offset: int | None = None) -> Tensor:
    """Give input the size, strides and offset in place, over the same memory. Mirrors ``torch.Tensor.as_strided_``."""  # noqa: E501
    check_inplace(input)
    alias = Tensor(input.data, input._requires_grad)
    alias.grad_fn, alias._output_nr, alias._base = input.grad_fn, input._output_nr, input._base
    out = as_strided(alias, size, stride, storage_offset)
    if out.grad_fn is not None:
        input.grad_fn, input._output_nr = out.grad_fn, out._output_nr
    input.data = out.data
    input._version[0] += 1
    return input


def as_strided_scatter(
    input: Tensor, src: Tensor, size: Any, stride: Any, storage_offset: int | None = None
) -> Tensor:
    """Return a copy of input with the strided window replaced by src. Mirrors ``torch.as_strided_scatter``.

    The geometry counts elements of the copy's memory, which keeps input's dim order (as
    ``clone`` does); src is cast to input's dtype. Gradients flow to both inputs. Differences
    from PyTorch: input's gradient is the upstream gradient with the window zeroed (PyTorch
    2.x returns the window's values instead, which fails gradcheck).
    """  # noqa: E501
    offset = 0 if storage_offset is None else storage_offset
    geometry = _check_geometry(size, stride, offset, input.data.size, input.data.itemsize)
    if tuple(src.data.shape) != geometry[0]:
        raise RuntimeError(
            f"expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(geometry[0])}"
        )
    order = input.dim_order()  # outermost to innermost in memory
    inverse = tuple(order.index(d) for d in range(len(order)))
    dense = permute(input, order)  # its contiguous copy has input's memory order
    out = ViewScatter.apply(dense, cast(src, input.dtype), geometry)
    return permute(out, inverse)


def empty_strided(
    size: Any,
    stride: Any,
    *,
    dtype: DType | None = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """Return a tensor with the given size and strides. Mirrors ``torch.empty_strided``.

    Differences from PyTorch: the memory is zero-filled rather than uninitialised.
    """
    xp = module_for(as_device(device))
    dtype = get_default_dtype() if dtype is None else as_dtype(dtype)
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"dimensionality of sizes ({len(size)}) must match dimensionality of strides "
            f"({len(stride)})"
        )
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    numel = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    geometry = _check_geometry(size, stride, 0, numel, dtype.itemsize)
    out = Tensor(strided_view(xp.zeros(numel, dtype=dtype.np), *geometry))
    return out.requires_grad_(requires_grad)


def empty_permuted(
    size: Any,
    physical_layout: Any,
    *,
    dtype: DType | None = None,
    layout: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """Return a tensor whose memory holds its dims in physical_layout order. Mirrors ``torch.empty_permuted``.

    ``physical_layout`` lists dims from outermost to innermost in memory:
    ``empty_permuted((N, C, H, W), (0, 2, 3, 1))`` is channels-last. Memory is zero-filled.
    """  # noqa: E501
    size, order = tuple(int(n) for n in size), tuple(int(d) for d in physical_layout)
    if len(size) != len(order):
        raise RuntimeError(
            "Number of dimensions in size does not match the length of the physical_layout; "
            f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}"
        )
    for i, d in enumerate(order):
        if not 0 <= d < len(size):
            raise RuntimeError(
                f"Dimension out of range (expected to be between 0 and {len(size) - 1}, but got "
                f"{d} at index {i}).  NB: negative dims not currently supported; file an issue "
                "if you want it."
            )
    if len(set(order)) != len(order):
        raise RuntimeError("Duplicate dim not allowed")
    stride, step = [0] * len(size), 1
    for d in reversed(order):
        stride[d] = step
        step *= max(size[d], 1)
    return empty_strided(size, stride, dtype=dtype, device=device, requires_grad=requires_grad)


# -- Type and mode queries --------------------------------------------------------------------
def can_cast(from_: DType, to: DType) -> bool:
    """Return whether PyTorch's casting rules allow from_ to to. Mirrors ``torch.can_cast``.

    A cast may not go down a category (bool < integer < floating); within a category any
    cast is allowed.
    """
    return as_dtype(from_).category <= as_dtype(to).category


def is_storage(obj: Any) -> bool:
    """Return False: Ember has no storage objects. Mirrors ``torch.is_storage``."""
    return False


def typename(obj: Any, /) -> str:
    """Return the qualified type name of obj. Mirrors ``torch.typename``.

    Differences from PyTorch: tensors give ``'ember.FloatTensor'`` (``Tensor.type()``) where
    PyTorch gives ``'torch.FloatTensor'``.
    """
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def is_inference_mode_enabled() -> bool:
    """Return whether an inference_mode block is active.

    Mirrors ``torch.is_inference_mode_enabled``.
    """
    return grad_mode.inference
