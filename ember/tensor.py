"""The Tensor: a backend array plus autograd metadata. Mirrors ``torch.Tensor``.

Methods and operators are one-line calls into ``ember.ops`` (imported late, once, below the
class: the one deliberate upward import). A view shares its base's version counter, which
in-place ops bump, so backward can refuse values that changed after they were saved.
"""

from __future__ import annotations

import numbers
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from ember.backend import Device, array_module, device_of
from ember.backend.dtypes import (
    SCALAR_NAMES,
    DType,
    as_dtype,
    float16,
    float32,
    float64,
    from_numpy_dtype,
)
from ember.backend.dtypes import bfloat16 as _bfloat16
from ember.backend.dtypes import bool_ as _bool
from ember.backend.dtypes import int8 as _int8
from ember.backend.dtypes import int16 as _int16
from ember.backend.dtypes import int32 as _int32
from ember.backend.dtypes import int64 as _int64
from ember.backend.dtypes import uint8 as _uint8


class Size(tuple):
    """A tensor's shape. Mirrors ``torch.Size``: a tuple of ints with ``numel``."""

    __slots__ = ()

    def numel(self) -> int:
        """Return the number of elements of a tensor of this shape."""
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def __getitem__(self, index: Any) -> Any:
        out = tuple.__getitem__(self, index)
        return Size(out) if isinstance(index, slice) else out


class RemovableHandle:
    """A handle whose ``remove()`` unregisters a hook. Mirrors PyTorch's ``RemovableHandle``."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_NOT_LEAF = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)


class Tensor:
    """A multi-dimensional array with reverse-mode autograd. Mirrors ``torch.Tensor``.

    Create tensors with ``ember.tensor``, ``ember.zeros`` and friends; ``Tensor(array)`` wraps a
    backend array without copying.
    """

    # Hot fields are slots; rarely set ones live in __dict__ when set, with class defaults.
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_output_nr",
        "_requires_grad",
        "_version",
        "data",
        "grad_fn",
    )
    __array_priority__ = 1000  # numpy_array + tensor calls Tensor.__radd__
    grad: Tensor | None = None
    _base: Tensor | None = None  # the tensor this one is a view of
    _hooks: list | None = None
    _retains_grad = False
    _shared = False  # set by share_memory_
    _post_accumulate_grad_hooks: list | None = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self.data = data
        self._requires_grad = requires_grad
        self.grad_fn: Any = None
        self._output_nr = 0
        self._version = [0]  # shared by views, bumped by in-place ops

    # -- metadata -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The shape, as an ``ember.Size``."""
        return Size(self.data.shape)

    def size(self, dim: int | None = None) -> Size | int:
        """Return the shape, or the length of one dim. Mirrors ``torch.Tensor.size``."""
        if dim is None:
            return Size(self.data.shape)
        return self.data.shape[_wrap_dim(dim, self.data.ndim, "size")]

    @property
    def dtype(self) -> DType:
        """The element type."""
        return from_numpy_dtype(self.data.dtype)

    @property
    def device(self) -> Device:
        """The device the data lives on."""
        return device_of(self.data)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor lives on a CUDA device."""
        return self.device.type == "cuda"

    @property
    def ndim(self) -> int:
        """The number of dims."""
        return self.data.ndim

    def dim(self) -> int:
        """Return the number of dims. Mirrors ``torch.Tensor.dim``."""
        return self.data.ndim

    ndimension = dim

    def numel(self) -> int:
        """Return the number of elements. Mirrors ``torch.Tensor.numel``."""
        return self.data.size

    nelement = numel

    def element_size(self) -> int:
        """Return the size in bytes of one element. Mirrors ``torch.Tensor.element_size``."""
        return self.data.itemsize

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Return the strides in elements. Mirrors ``torch.Tensor.stride``."""
        if self.data.size == 0:  # PyTorch reports contiguous strides for empty tensors
            acc, rev = 1, []
            for n in reversed(self.data.shape):
                rev.append(acc)
                acc *= max(n, 1)
            strides = tuple(reversed(rev))
        else:
            strides = tuple(s // self.data.itemsize for s in self.data.strides)
        return strides if dim is None else strides[_wrap_dim(dim, self.data.ndim, "stride")]

    def is_contiguous(self) -> bool:
        """Return whether the data is C-contiguous. Mirrors ``torch.Tensor.is_contiguous``."""
        return bool(self.data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        """Return whether the dtype is floating. Mirrors ``torch.Tensor.is_floating_point``."""
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        """Return False: Ember has no complex dtypes yet. Mirrors ``torch.Tensor.is_complex``."""
        return False

    @property
    def itemsize(self) -> int:
        """The size in bytes of one element."""
        return self.data.itemsize

    @property
    def nbytes(self) -> int:
        """The size in bytes of the data."""
        return self.data.nbytes

    @property
    def _version_value(self) -> int:
        return self._version[0]

    # -- autograd metadata ----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether autograd records ops on this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self. Mirrors ``Tensor.requires_grad_``."""
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(_NOT_LEAF)
            return self
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        """Whether the tensor was made by the user rather than by a recorded op."""
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        """Whether a non-leaf tensor keeps its ``grad`` (see ``retain_grad``)."""
        return self._retains_grad

    def detach(self) -> Tensor:
        """Return a tensor sharing data, cut from the graph. Mirrors ``torch.Tensor.detach``."""
        out = Tensor(self.data)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place. Mirrors ``torch.Tensor.detach_``."""
        self.grad_fn, self._output_nr, self._requires_grad = None, 0, False
        return self

    def retain_grad(self) -> None:
        """Keep ``grad`` on this non-leaf tensor after backward. Mirrors ``Tensor.retain_grad``."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        ref = weakref.ref(self)

        def keep(grad: Tensor) -> None:
            tensor = ref()
            if tensor is not None:
                value = grad.detach() if not grad._requires_grad else grad
                tensor.grad = value if tensor.grad is None else tensor.grad + value

        self._retains_grad = True
        self._node_hooks().append(keep)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor replaces it.

        Mirrors ``torch.Tensor.register_hook``.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = self._node_hooks()
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _node_hooks(self) -> list:
        node = self.grad_fn
        if node.tensor_hooks is None:
            node.tensor_hooks = {}
        return node.tensor_hooks.setdefault(self._output_nr, [])

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's ``grad``. Mirrors ``Tensor.backward``."""
        from ember.autograd.engine import backward  # engine sits above ops; imported late

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # -- conversions ----------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> Any:
        """Return the data as a NumPy array sharing memory. Mirrors ``torch.Tensor.numpy``."""
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. "
                    "Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return self.data.get()
        return self.data

    def item(self) -> Any:
        """Return the one element as a Python number. Mirrors ``torch.Tensor.item``."""
        if self.data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.data.size} elements cannot be converted to Scalar"
            )
        value = self.data.reshape(()).item()
        if self.data.dtype == _bfloat16.np:
            value = float(value)
        return value

    def tolist(self) -> Any:
        """Return the data as nested Python lists. Mirrors ``torch.Tensor.tolist``."""
        data = self.data
        if data.dtype == _bfloat16.np:
            data = data.astype(float32.np)
        return data.tolist()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Return the tensor with another dtype and/or device. Mirrors ``torch.Tensor.to``.

        Returns self when nothing changes (unless ``copy=True``); the cast is differentiable.
        """
        dtype, device, copy = _parse_to(args, kwargs)
        out = self
        if device is not None and device != self.device:
            out = _ops.to_device(out, device)
        if dtype is not None and dtype is not out.dtype:
            out = _ops.to_dtype(out, dtype)
        if copy and out is self:
            out = _ops.clone(self)
        return out

    def type(self, dtype: Any = None) -> Any:
        """Return the type name, or cast to dtype. Mirrors ``torch.Tensor.type``."""
        if dtype is None:
            return f"ember.{SCALAR_NAMES[self.dtype.name]}Tensor"
        return self.to(as_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to other's dtype. Mirrors ``torch.Tensor.type_as``."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """Cast to float32. Mirrors ``torch.Tensor.float``."""
        return self.to(float32)

    def double(self) -> Tensor:
        """Cast to float64. Mirrors ``torch.Tensor.double``."""
        return self.to(float64)

    def half(self) -> Tensor:
        """Cast to float16. Mirrors ``torch.Tensor.half``."""
        return self.to(float16)

    def bfloat16(self) -> Tensor:
        """Cast to bfloat16. Mirrors ``torch.Tensor.bfloat16``."""
        return self.to(_bfloat16)

    def long(self) -> Tensor:
        """Cast to int64. Mirrors ``torch.Tensor.long``."""
        return self.to(_int64)

    def int(self) -> Tensor:
        """Cast to int32. Mirrors ``torch.Tensor.int``."""
        return self.to(_int32)

    def short(self) -> Tensor:
        """Cast to int16. Mirrors ``torch.Tensor.short``."""
        return self.to(_int16)

    def char(self) -> Tensor:
        """Cast to int8. Mirrors ``torch.Tensor.char``."""
        return self.to(_int8)

    def byte(self) -> Tensor:
        """Cast to uint8. Mirrors ``torch.Tensor.byte``."""
        return self.to(_uint8)

    def bool(self) -> Tensor:
        """Cast to bool. Mirrors ``torch.Tensor.bool``."""
        return self.to(_bool)

    def cpu(self) -> Tensor:
        """Return the tensor on the CPU. Mirrors ``torch.Tensor.cpu``."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Tensor:
        """Return the tensor on a CUDA device. Mirrors ``torch.Tensor.cuda``."""
        return self.to("cuda" if device is None else device)

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """Return a differentiable copy. Mirrors ``torch.Tensor.clone``."""
        return _ops.clone(self)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """Return self if C-contiguous, else a contiguous copy. Mirrors ``Tensor.contiguous``."""
        return self if self.data.flags.c_contiguous else _ops.clone(self)

    def view(self, *shape: Any) -> Tensor:
        """Return a view with another shape (or dtype). Mirrors ``torch.Tensor.view``."""
        return _ops.view(self, *shape)

    def reshape(self, *shape: Any) -> Tensor:
        """Return the data in another shape, a view when possible. Mirrors ``Tensor.reshape``."""
        return _ops.reshape(self, *shape)

    def permute(self, *dims: Any) -> Tensor:
        """Return a view with dims reordered. Mirrors ``torch.Tensor.permute``."""
        return _ops.permute(self, *dims)

    def expand(self, *sizes: Any) -> Tensor:
        """Return a broadcast view. Mirrors ``torch.Tensor.expand``."""
        return _ops.expand(self, *sizes)

    def repeat(self, *sizes: Any) -> Tensor:
        """Return the data tiled along each dim. Mirrors ``torch.Tensor.repeat``."""
        return _ops.repeat(self, *sizes)

    @property
    def T(self) -> Tensor:
        """The tensor with all dims reversed."""
        return _ops.permute(self, *range(self.data.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:
        """The tensor with its last two dims swapped (a batch of transposed matrices)."""
        if self.data.ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. "
                f"Got {self.data.ndim}-D tensor."
            )
        return _ops.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (the transpose, for real dtypes)."""
        return _ops.transpose(self, 0, 1) if self.data.ndim == 2 else self.T

    @property
    def mH(self) -> Tensor:
        """The conjugate of ``mT`` (``mT`` for real dtypes)."""
        return self.mT

    @property
    def real(self) -> Tensor:
        """The real part: the tensor itself, for real dtypes."""
        return self

    # -- storage, placement and creation (torch.Tensor extras) ----------------------------
    @property
    def is_cpu(self) -> bool:
        """Whether the tensor lives on the CPU."""
        return self.device.type == "cpu"

    @property
    def is_meta(self) -> bool:
        """False: Ember has no meta tensors."""
        return False

    @property
    def is_sparse(self) -> bool:
        """False: Ember tensors are dense."""
        return False

    @property
    def is_quantized(self) -> bool:
        """False: Ember has no quantized tensors."""
        return False

    def is_signed(self) -> bool:
        """Return whether the dtype is signed. Mirrors ``torch.Tensor.is_signed``."""
        return self.dtype.is_signed

    def is_inference(self) -> bool:
        """Return False: Ember has no inference tensors. Mirrors ``torch.Tensor.is_inference``."""
        return False

    def get_device(self) -> int:
        """Return the CUDA device index, or -1 on the CPU. Mirrors ``torch.Tensor.get_device``."""
        device = self.device
        return -1 if device.type == "cpu" else (device.index or 0)

    def data_ptr(self) -> int:
        """Return the address of the first element. Mirrors ``torch.Tensor.data_ptr``."""
        return _data_ptr(self.data)

    def storage_offset(self) -> int:
        """Return the offset, in elements, into the base's memory. Mirrors ``storage_offset``."""
        root = self
        while root._base is not None:
            root = root._base
        if root is self or not self.data.itemsize:
            return 0
        return (_data_ptr(self.data) - _data_ptr(root.data)) // self.data.itemsize

    def is_same_size(self, other: Tensor) -> bool:
        """Return whether other has the same shape. Mirrors ``torch.Tensor.is_same_size``."""
        return self.data.shape == other.data.shape

    def is_nonzero(self) -> bool:
        """Return the truth of a one-element tensor. Mirrors ``torch.Tensor.is_nonzero``."""
        return self.__bool__()

    def is_set_to(self, tensor: Tensor) -> bool:
        """Return whether both share memory, offset, shape and strides. Mirrors ``is_set_to``."""
        return (
            _data_ptr(self.data) == _data_ptr(tensor.data)
            and self.data.shape == tensor.data.shape
            and self.data.strides == tensor.data.strides
            and self.data.dtype == tensor.data.dtype
        )

    def is_shared(self) -> bool:
        """Return whether ``share_memory_`` was called. Mirrors ``torch.Tensor.is_shared``."""
        return self._shared

    def share_memory_(self) -> Tensor:
        """Mark the tensor shared and return self. Mirrors ``torch.Tensor.share_memory_``.

        Differences from PyTorch: the memory is not moved to shared memory (Ember's data loader
        workers do not need it); only ``is_shared()`` changes.
        """
        self._shared = True
        return self

    def pin_memory(self, device: Any = None) -> Tensor:
        """Return self. Mirrors ``torch.Tensor.pin_memory``.

        Differences from PyTorch: a no-op (NumPy memory is pageable; CuPy copies from it).
        """
        return self

    def is_pinned(self, device: Any = None) -> bool:
        """Return False: see ``pin_memory``. Mirrors ``torch.Tensor.is_pinned``."""
        return False

    def new_tensor(
        self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Return a tensor from data, with self's dtype and device by default.

        Mirrors ``torch.Tensor.new_tensor``.
        """
        if isinstance(data, Tensor):
            warnings.warn(
                "To copy construct from a tensor, it is recommended to use "
                "sourceTensor.detach().clone() or "
                "sourceTensor.detach().clone().requires_grad_(True), rather than "
                "tensor.new_tensor(sourceTensor).",
                UserWarning,
                stacklevel=2,
            )
            data = data.data
        return _ops.tensor(
            data,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_zeros(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Return zeros, with self's dtype and device by default. Mirrors ``new_zeros``."""
        return _ops.zeros(
            *size,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_ones(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Return ones, with self's dtype and device by default. Mirrors ``new_ones``."""
        return _ops.ones(
            *size,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_empty(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Return an uninitialised tensor, self's dtype and device by default. Mirrors it."""
        return _ops.empty(
            *size,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_full(
        self,
        size: Any,
        fill_value: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """Return a tensor filled with fill_value, self's dtype and device by default.

        Mirrors ``torch.Tensor.new_full``.
        """
        return _ops.full(
            size,
            fill_value,
            dtype=self.dtype if dtype is None else dtype,
            device=self.device if device is None else device,
            requires_grad=requires_grad,
        )

    def new_empty_strided(
        self,
        size: Any,
        stride: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """Return an uninitialised tensor of the given shape. Mirrors ``new_empty_strided``.

        Differences from PyTorch: the result is C-contiguous; ``stride`` is checked for length
        only.
        """
        if len(tuple(stride)) != len(tuple(size)):
            raise RuntimeError(
                f"mismatch in length of strides and shape: {len(tuple(stride))} and "
                f"{len(tuple(size))}"
            )
        return self.new_empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)

    def is_conj(self) -> bool:
        """Return False: real tensors carry no conjugate bit. Mirrors ``torch.Tensor.is_conj``."""
        return False

    def is_neg(self) -> bool:
        """Return False: Ember tensors carry no negative bit. Mirrors ``torch.Tensor.is_neg``."""
        return False

    def conj(self) -> Tensor:
        """Return self: the conjugate of a real tensor. Mirrors ``torch.Tensor.conj``."""
        return self

    conj_physical = resolve_conj = resolve_neg = conj

    @property
    def is_nested(self) -> bool:
        """False: Ember has no nested tensors."""
        return False

    @property
    def is_mkldnn(self) -> bool:
        """False: Ember has no MKL-DNN tensors."""
        return False

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (0 for leaves)."""
        return self._output_nr

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:
        """Replace each element x by callable(x), in place (CPU only). Mirrors ``apply_``."""
        _check_map(self, "apply_")
        return self._write_values([_real(callable(v)) for v in self._flat_list()])

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        """Replace each x by callable(x, y), y from tensor broadcast to self. Mirrors ``map_``."""
        _check_map(self, "map_")
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"map_(): argument 'other' (position 1) must be Tensor, not {type(tensor).__name__}"
            )
        if tensor.dtype is not self.dtype:
            raise TypeError(f"map_: expected {self.type()} for 'other' (got {tensor.type()})")
        other = _ops.expand(tensor.detach(), *self.data.shape)._flat_list()
        return self._write_values([_real(callable(x, y)) for x, y in zip(self._flat_list(), other)])

    def map2_(self, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:
        """Replace each s by callable(s, a, b), a, b from x, y broadcast. Mirrors ``map2_``."""
        _check_map(self, "map2_")
        for i, other in enumerate((x, y)):
            if not isinstance(other, Tensor):
                raise TypeError(
                    f"map2_(): argument '{'xy'[i]}' (position {i + 1}) must be Tensor, not "
                    f"{type(other).__name__}"
                )
        shape = self.data.shape
        xs = _ops.expand(x.detach(), *shape)._flat_list()
        ys = _ops.expand(y.detach(), *shape)._flat_list()
        values = [_real(callable(s, a, b)) for s, a, b in zip(self._flat_list(), xs, ys)]
        return self._write_values(values)

    def _flat_list(self) -> list:
        return _ops.reshape(self.detach(), -1).tolist()

    def _write_values(self, values: list) -> Tensor:
        xp = array_module(self.data)
        self.data[...] = xp.asarray(values, dtype=self.data.dtype).reshape(self.data.shape)
        self._version[0] += 1
        return self

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call hook(self) after backward accumulates into this leaf's ``grad``.

        Mirrors ``torch.Tensor.register_post_accumulate_grad_hook``.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = []
        hooks = self._post_accumulate_grad_hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    # -- Python protocols -----------------------------------------------------------------
    def __repr__(self) -> str:
        from ember.printing import tensor_repr  # printing needs ops; imported with them

        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self.data.ndim == 0:  # as PyTorch: a 0-d tensor formats as its number
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __hash__(self) -> int:
        return id(self)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_ops.unbind(self, 0))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if self.data.size
                else "Boolean value of Tensor with no values is ambiguous"
            )
        return bool(self.data.reshape(()).item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        data = self.data if self.device.type == "cpu" else self.data.get()
        return data if dtype is None else data.astype(dtype)

    def __contains__(self, element: Any) -> bool:
        return bool((self == element).any().item())

    def __deepcopy__(self, memo: dict) -> Tensor:
        if self.grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment."
            )
        out = type(self).__new__(type(self))
        Tensor.__init__(out, self.data.copy(), self._requires_grad)
        if self.grad is not None:
            out.grad = Tensor(self.grad.data.copy())
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: int) -> tuple:
        return (_rebuild, (self.data, self._requires_grad))

    # -- operators ------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __iadd__(self, other: Any) -> Tensor:
        return _ops.add_(self, other)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __isub__(self, other: Any) -> Tensor:
        return _ops.sub_(self, other)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __imul__(self, other: Any) -> Tensor:
        return _ops.mul_(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __itruediv__(self, other: Any) -> Tensor:
        return _ops.div_(self, other)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.remainder(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __ipow__(self, other: Any) -> Tensor:
        return _ops.pow_(self, other)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return _ops.positive(self)

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __invert__(self) -> Tensor:
        return _ops.bitwise_not(self)

    def __and__(self, other: Any) -> Tensor:
        return _ops.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Tensor:
        return _ops.bitwise_and(other, self)

    def __or__(self, other: Any) -> Tensor:
        return _ops.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Tensor:
        return _ops.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Tensor:
        return _ops.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Tensor:
        return _ops.bitwise_xor(other, self)

    def __lshift__(self, other: Any) -> Tensor:
        return _ops.bitwise_left_shift(self, other)

    def __rshift__(self, other: Any) -> Tensor:
        return _ops.bitwise_right_shift(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _ops.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.ge(self, other)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _ops.setitem_(self, index, value)

    # Below: one explicit line per method, each a call into ember.ops with PyTorch's signature.
    # -- Elementwise math (ops/elementwise.py) -------------------------------------------------
    def add(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.add(self, *args, **kwargs)

    def sub(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sub(self, *args, **kwargs)

    def subtract(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.subtract(self, *args, **kwargs)

    def mul(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mul(self, *args, **kwargs)

    def multiply(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.multiply(self, *args, **kwargs)

    def div(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.div(self, *args, **kwargs)

    def divide(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.divide(self, *args, **kwargs)

    def true_divide(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.true_divide(self, *args, **kwargs)

    def floor_divide(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.floor_divide(self, *args, **kwargs)

    def pow(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.pow(self, *args, **kwargs)

    def float_power(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.float_power(self, *args, **kwargs)

    def square(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.square(self, *args, **kwargs)

    def exp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.exp(self, *args, **kwargs)

    def exp2(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.exp2(self, *args, **kwargs)

    def expm1(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.expm1(self, *args, **kwargs)

    def log(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log(self, *args, **kwargs)

    def log2(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log2(self, *args, **kwargs)

    def log10(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log10(self, *args, **kwargs)

    def log1p(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log1p(self, *args, **kwargs)

    def sqrt(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sqrt(self, *args, **kwargs)

    def rsqrt(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.rsqrt(self, *args, **kwargs)

    def abs(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.abs(self, *args, **kwargs)

    def absolute(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.absolute(self, *args, **kwargs)

    def neg(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.neg(self, *args, **kwargs)

    def negative(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.negative(self, *args, **kwargs)

    def sign(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sign(self, *args, **kwargs)

    def sgn(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sgn(self, *args, **kwargs)

    def reciprocal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.reciprocal(self, *args, **kwargs)

    def sin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sin(self, *args, **kwargs)

    def cos(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cos(self, *args, **kwargs)

    def tan(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tan(self, *args, **kwargs)

    def asin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.asin(self, *args, **kwargs)

    def arcsin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arcsin(self, *args, **kwargs)

    def acos(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.acos(self, *args, **kwargs)

    def arccos(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arccos(self, *args, **kwargs)

    def atan(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.atan(self, *args, **kwargs)

    def arctan(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arctan(self, *args, **kwargs)

    def atan2(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.atan2(self, *args, **kwargs)

    def arctan2(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arctan2(self, *args, **kwargs)

    def sinh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sinh(self, *args, **kwargs)

    def cosh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cosh(self, *args, **kwargs)

    def asinh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.asinh(self, *args, **kwargs)

    def acosh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.acosh(self, *args, **kwargs)

    def atanh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.atanh(self, *args, **kwargs)

    def tanh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tanh(self, *args, **kwargs)

    def sigmoid(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sigmoid(self, *args, **kwargs)

    def logit(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logit(self, *args, **kwargs)

    def relu(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.relu(self, *args, **kwargs)

    def erf(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.erf(self, *args, **kwargs)

    def erfc(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.erfc(self, *args, **kwargs)

    def erfinv(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.erfinv(self, *args, **kwargs)

    def floor(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.floor(self, *args, **kwargs)

    def ceil(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ceil(self, *args, **kwargs)

    def round(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.round(self, *args, **kwargs)

    def trunc(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.trunc(self, *args, **kwargs)

    def fix(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fix(self, *args, **kwargs)

    def frac(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.frac(self, *args, **kwargs)

    def fmod(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fmod(self, *args, **kwargs)

    def remainder(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.remainder(self, *args, **kwargs)

    def clamp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clamp(self, *args, **kwargs)

    def clip(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clip(self, *args, **kwargs)

    def clamp_min(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clamp_min(self, *args, **kwargs)

    def clamp_max(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clamp_max(self, *args, **kwargs)

    def maximum(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.maximum(self, *args, **kwargs)

    def minimum(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.minimum(self, *args, **kwargs)

    def fmax(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fmax(self, *args, **kwargs)

    def fmin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fmin(self, *args, **kwargs)

    def lerp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lerp(self, *args, **kwargs)

    def addcmul(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addcmul(self, *args, **kwargs)

    def addcdiv(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addcdiv(self, *args, **kwargs)

    def hypot(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.hypot(self, *args, **kwargs)

    def nan_to_num(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nan_to_num(self, *args, **kwargs)

    def isnan(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isnan(self, *args, **kwargs)

    def isinf(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isinf(self, *args, **kwargs)

    def isfinite(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isfinite(self, *args, **kwargs)

    def isposinf(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isposinf(self, *args, **kwargs)

    def isneginf(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isneginf(self, *args, **kwargs)

    def isreal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isreal(self, *args, **kwargs)

    def eq(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.eq(self, *args, **kwargs)

    def ne(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ne(self, *args, **kwargs)

    def lt(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lt(self, *args, **kwargs)

    def le(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.le(self, *args, **kwargs)

    def gt(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.gt(self, *args, **kwargs)

    def ge(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ge(self, *args, **kwargs)

    def greater(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.greater(self, *args, **kwargs)

    def greater_equal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.greater_equal(self, *args, **kwargs)

    def less(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.less(self, *args, **kwargs)

    def less_equal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.less_equal(self, *args, **kwargs)

    def not_equal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.not_equal(self, *args, **kwargs)

    def logical_and(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_and(self, *args, **kwargs)

    def logical_or(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_or(self, *args, **kwargs)

    def logical_xor(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_xor(self, *args, **kwargs)

    def logical_not(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_not(self, *args, **kwargs)

    def bitwise_and(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_and(self, *args, **kwargs)

    def bitwise_or(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_or(self, *args, **kwargs)

    def bitwise_xor(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_xor(self, *args, **kwargs)

    def bitwise_not(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_not(self, *args, **kwargs)

    def bitwise_left_shift(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_left_shift(self, *args, **kwargs)

    def bitwise_right_shift(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_right_shift(self, *args, **kwargs)

    def isclose(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.isclose(self, *args, **kwargs)

    def allclose(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.allclose(self, *args, **kwargs)

    def equal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.equal(self, *args, **kwargs)

    # -- Reductions (ops/reduction.py) ---------------------------------------------------------
    def sum(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sum(self, *args, **kwargs)

    def nansum(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nansum(self, *args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mean(self, *args, **kwargs)

    def nanmean(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nanmean(self, *args, **kwargs)

    def prod(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.prod(self, *args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.var(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.std(self, *args, **kwargs)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.max(self, *args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.min(self, *args, **kwargs)

    def amax(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.amax(self, *args, **kwargs)

    def amin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.amin(self, *args, **kwargs)

    def aminmax(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.aminmax(self, *args, **kwargs)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.argmax(self, *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.argmin(self, *args, **kwargs)

    def logsumexp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logsumexp(self, *args, **kwargs)

    def norm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.norm(self, *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cumsum(self, *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cumprod(self, *args, **kwargs)

    def cummax(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cummax(self, *args, **kwargs)

    def cummin(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cummin(self, *args, **kwargs)

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.all(self, *args, **kwargs)

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.any(self, *args, **kwargs)

    def count_nonzero(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.count_nonzero(self, *args, **kwargs)

    def median(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.median(self, *args, **kwargs)

    def nanmedian(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nanmedian(self, *args, **kwargs)

    def mode(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mode(self, *args, **kwargs)

    def kthvalue(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.kthvalue(self, *args, **kwargs)

    # -- Shape and views (ops/shape.py) --------------------------------------------------------
    def view_as(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.view_as(self, *args, **kwargs)

    def reshape_as(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.reshape_as(self, *args, **kwargs)

    def flatten(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.flatten(self, *args, **kwargs)

    def unflatten(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unflatten(self, *args, **kwargs)

    def squeeze(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.squeeze(self, *args, **kwargs)

    def unsqueeze(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unsqueeze(self, *args, **kwargs)

    def transpose(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.transpose(self, *args, **kwargs)

    def swapaxes(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.swapaxes(self, *args, **kwargs)

    def swapdims(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.swapdims(self, *args, **kwargs)

    def t(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.t(self, *args, **kwargs)

    def movedim(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.movedim(self, *args, **kwargs)

    def moveaxis(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.moveaxis(self, *args, **kwargs)

    def expand_as(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.expand_as(self, *args, **kwargs)

    def broadcast_to(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.broadcast_to(self, *args, **kwargs)

    def repeat_interleave(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.repeat_interleave(self, *args, **kwargs)

    def tile(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tile(self, *args, **kwargs)

    def flip(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.flip(self, *args, **kwargs)

    def fliplr(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fliplr(self, *args, **kwargs)

    def flipud(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.flipud(self, *args, **kwargs)

    def roll(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.roll(self, *args, **kwargs)

    def narrow(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.narrow(self, *args, **kwargs)

    def unfold(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unfold(self, *args, **kwargs)

    def chunk(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.chunk(self, *args, **kwargs)

    def split(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.split(self, *args, **kwargs)

    def tensor_split(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tensor_split(self, *args, **kwargs)

    def unbind(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unbind(self, *args, **kwargs)

    def tril(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tril(self, *args, **kwargs)

    def triu(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.triu(self, *args, **kwargs)

    def diagonal(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.diagonal(self, *args, **kwargs)

    def diag(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.diag(self, *args, **kwargs)

    def diag_embed(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.diag_embed(self, *args, **kwargs)

    def ravel(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ravel(self, *args, **kwargs)

    def sum_to_size(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sum_to_size(self, *args, **kwargs)

    def rot90(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.rot90(self, *args, **kwargs)

    def hsplit(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.hsplit(self, *args, **kwargs)

    def vsplit(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.vsplit(self, *args, **kwargs)

    def dsplit(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.dsplit(self, *args, **kwargs)

    def bernoulli(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bernoulli(self, *args, **kwargs)

    def multinomial(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.multinomial(self, *args, **kwargs)

    def where(self, condition: Any, other: Any) -> Any:
        return _ops.where(condition, self, other)

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return _ops.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        return _ops.log_softmax(self, dim, dtype=dtype)

    # -- Indexing, sorting and counting (ops/indexing.py, ops/sorting.py) ----------------------
    def index_select(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_select(self, *args, **kwargs)

    def gather(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.gather(self, *args, **kwargs)

    def scatter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.scatter(self, *args, **kwargs)

    def scatter_add(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.scatter_add(self, *args, **kwargs)

    def scatter_reduce(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.scatter_reduce(self, *args, **kwargs)

    def index_add(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_add(self, *args, **kwargs)

    def index_copy(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_copy(self, *args, **kwargs)

    def index_fill(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_fill(self, *args, **kwargs)

    def masked_fill(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.masked_fill(self, *args, **kwargs)

    def masked_select(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.masked_select(self, *args, **kwargs)

    def masked_scatter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.masked_scatter(self, *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.take(self, *args, **kwargs)

    def take_along_dim(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.take_along_dim(self, *args, **kwargs)

    def nonzero(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nonzero(self, *args, **kwargs)

    def argwhere(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.argwhere(self, *args, **kwargs)

    def sort(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sort(self, *args, **kwargs)

    def argsort(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.argsort(self, *args, **kwargs)

    def msort(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.msort(self, *args, **kwargs)

    def topk(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.topk(self, *args, **kwargs)

    def unique(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unique(self, *args, **kwargs)

    def unique_consecutive(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unique_consecutive(self, *args, **kwargs)

    def bincount(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bincount(self, *args, **kwargs)

    def histc(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.histc(self, *args, **kwargs)

    # -- Linear algebra (ops/linalg.py) --------------------------------------------------------
    def matmul(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.matmul(self, *args, **kwargs)

    def mm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mm(self, *args, **kwargs)

    def bmm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bmm(self, *args, **kwargs)

    def mv(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mv(self, *args, **kwargs)

    def dot(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.dot(self, *args, **kwargs)

    def inner(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.inner(self, *args, **kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.outer(self, *args, **kwargs)

    def ger(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ger(self, *args, **kwargs)

    def addmm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addmm(self, *args, **kwargs)

    def addmv(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addmv(self, *args, **kwargs)

    def addbmm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addbmm(self, *args, **kwargs)

    def baddbmm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.baddbmm(self, *args, **kwargs)

    def kron(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.kron(self, *args, **kwargs)

    def det(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.det(self, *args, **kwargs)

    def logdet(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logdet(self, *args, **kwargs)

    def slogdet(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.slogdet(self, *args, **kwargs)

    def inverse(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.inverse(self, *args, **kwargs)

    def cholesky(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cholesky(self, *args, **kwargs)

    def qr(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.qr(self, *args, **kwargs)

    def svd(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.svd(self, *args, **kwargs)

    # -- In place (ops/inplace.py) -------------------------------------------------------------
    def add_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.add_(self, *args, **kwargs)

    def sub_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sub_(self, *args, **kwargs)

    def mul_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mul_(self, *args, **kwargs)

    def div_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.div_(self, *args, **kwargs)

    def pow_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.pow_(self, *args, **kwargs)

    def zero_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.zero_(self, *args, **kwargs)

    def fill_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fill_(self, *args, **kwargs)

    def copy_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.copy_(self, *args, **kwargs)

    def clamp_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clamp_(self, *args, **kwargs)

    def clip_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clip_(self, *args, **kwargs)

    def clamp_min_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clamp_min_(self, *args, **kwargs)

    def clamp_max_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.clamp_max_(self, *args, **kwargs)

    def masked_fill_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.masked_fill_(self, *args, **kwargs)

    def exp_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.exp_(self, *args, **kwargs)

    def log_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log_(self, *args, **kwargs)

    def neg_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.neg_(self, *args, **kwargs)

    def abs_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.abs_(self, *args, **kwargs)

    def sqrt_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sqrt_(self, *args, **kwargs)

    def rsqrt_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.rsqrt_(self, *args, **kwargs)

    def tanh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tanh_(self, *args, **kwargs)

    def sigmoid_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sigmoid_(self, *args, **kwargs)

    def relu_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.relu_(self, *args, **kwargs)

    def floor_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.floor_(self, *args, **kwargs)

    def ceil_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ceil_(self, *args, **kwargs)

    def round_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.round_(self, *args, **kwargs)

    def trunc_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.trunc_(self, *args, **kwargs)

    def frac_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.frac_(self, *args, **kwargs)

    def reciprocal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.reciprocal_(self, *args, **kwargs)

    def sign_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sign_(self, *args, **kwargs)

    def sin_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sin_(self, *args, **kwargs)

    def cos_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cos_(self, *args, **kwargs)

    def square_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.square_(self, *args, **kwargs)

    def lerp_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lerp_(self, *args, **kwargs)

    def addcmul_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addcmul_(self, *args, **kwargs)

    def addcdiv_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addcdiv_(self, *args, **kwargs)

    def fmod_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fmod_(self, *args, **kwargs)

    def remainder_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.remainder_(self, *args, **kwargs)

    def nan_to_num_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nan_to_num_(self, *args, **kwargs)

    def index_fill_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_fill_(self, *args, **kwargs)

    def index_add_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_add_(self, *args, **kwargs)

    def index_copy_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_copy_(self, *args, **kwargs)

    def scatter_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.scatter_(self, *args, **kwargs)

    def scatter_add_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.scatter_add_(self, *args, **kwargs)

    def scatter_reduce_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.scatter_reduce_(self, *args, **kwargs)

    def masked_scatter_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.masked_scatter_(self, *args, **kwargs)

    def tril_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tril_(self, *args, **kwargs)

    def triu_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.triu_(self, *args, **kwargs)

    def uniform_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.uniform_(self, *args, **kwargs)

    def normal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.normal_(self, *args, **kwargs)

    def bernoulli_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bernoulli_(self, *args, **kwargs)

    def random_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.random_(self, *args, **kwargs)

    def exponential_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.exponential_(self, *args, **kwargs)

    def log_normal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log_normal_(self, *args, **kwargs)

    def geometric_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.geometric_(self, *args, **kwargs)

    def cauchy_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cauchy_(self, *args, **kwargs)

    # -- More methods (ops/linalg.py, ops/einsum.py, ops/trig.py, ops/indexing.py) ------------
    def arccosh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arccosh(self, *args, **kwargs)

    def arcsinh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arcsinh(self, *args, **kwargs)

    def arctanh(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arctanh(self, *args, **kwargs)

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.trace(self, *args, **kwargs)

    def cross(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cross(self, *args, **kwargs)

    def vdot(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.vdot(self, *args, **kwargs)

    def index_put(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_put(self, *args, **kwargs)

    # -- In place and views (ops/tensor_extras.py) -------------------------------------------------
    def acos_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.acos_(self, *args, **kwargs)

    def acosh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.acosh_(self, *args, **kwargs)

    def arccos_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arccos_(self, *args, **kwargs)

    def arccosh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arccosh_(self, *args, **kwargs)

    def asin_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.asin_(self, *args, **kwargs)

    def arcsin_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arcsin_(self, *args, **kwargs)

    def asinh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.asinh_(self, *args, **kwargs)

    def arcsinh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arcsinh_(self, *args, **kwargs)

    def atan_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.atan_(self, *args, **kwargs)

    def arctan_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arctan_(self, *args, **kwargs)

    def atanh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.atanh_(self, *args, **kwargs)

    def arctanh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arctanh_(self, *args, **kwargs)

    def atan2_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.atan2_(self, *args, **kwargs)

    def arctan2_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.arctan2_(self, *args, **kwargs)

    def cosh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cosh_(self, *args, **kwargs)

    def sinh_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sinh_(self, *args, **kwargs)

    def tan_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.tan_(self, *args, **kwargs)

    def hypot_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.hypot_(self, *args, **kwargs)

    def erf_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.erf_(self, *args, **kwargs)

    def erfc_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.erfc_(self, *args, **kwargs)

    def erfinv_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.erfinv_(self, *args, **kwargs)

    def exp2_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.exp2_(self, *args, **kwargs)

    def expm1_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.expm1_(self, *args, **kwargs)

    def log10_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log10_(self, *args, **kwargs)

    def log1p_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log1p_(self, *args, **kwargs)

    def log2_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.log2_(self, *args, **kwargs)

    def logit_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logit_(self, *args, **kwargs)

    def fix_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fix_(self, *args, **kwargs)

    def sgn_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sgn_(self, *args, **kwargs)

    def absolute_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.absolute_(self, *args, **kwargs)

    def negative_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.negative_(self, *args, **kwargs)

    def float_power_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.float_power_(self, *args, **kwargs)

    def floor_divide_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.floor_divide_(self, *args, **kwargs)

    def true_divide_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.true_divide_(self, *args, **kwargs)

    def divide_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.divide_(self, *args, **kwargs)

    def multiply_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.multiply_(self, *args, **kwargs)

    def subtract_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.subtract_(self, *args, **kwargs)

    def cumsum_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cumsum_(self, *args, **kwargs)

    def cumprod_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cumprod_(self, *args, **kwargs)

    def addmm_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addmm_(self, *args, **kwargs)

    def addmv_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addmv_(self, *args, **kwargs)

    def addbmm_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addbmm_(self, *args, **kwargs)

    def baddbmm_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.baddbmm_(self, *args, **kwargs)

    def eq_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.eq_(self, *args, **kwargs)

    def ne_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ne_(self, *args, **kwargs)

    def not_equal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.not_equal_(self, *args, **kwargs)

    def lt_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lt_(self, *args, **kwargs)

    def less_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.less_(self, *args, **kwargs)

    def le_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.le_(self, *args, **kwargs)

    def less_equal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.less_equal_(self, *args, **kwargs)

    def gt_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.gt_(self, *args, **kwargs)

    def greater_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.greater_(self, *args, **kwargs)

    def ge_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ge_(self, *args, **kwargs)

    def greater_equal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.greater_equal_(self, *args, **kwargs)

    def logical_and_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_and_(self, *args, **kwargs)

    def logical_or_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_or_(self, *args, **kwargs)

    def logical_xor_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_xor_(self, *args, **kwargs)

    def logical_not_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logical_not_(self, *args, **kwargs)

    def bitwise_and_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_and_(self, *args, **kwargs)

    def bitwise_or_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_or_(self, *args, **kwargs)

    def bitwise_xor_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_xor_(self, *args, **kwargs)

    def bitwise_not_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_not_(self, *args, **kwargs)

    def bitwise_left_shift_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_left_shift_(self, *args, **kwargs)

    def bitwise_right_shift_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.bitwise_right_shift_(self, *args, **kwargs)

    def index_put_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_put_(self, *args, **kwargs)

    def fill_diagonal_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.fill_diagonal_(self, *args, **kwargs)

    def squeeze_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.squeeze_(self, *args, **kwargs)

    def unsqueeze_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unsqueeze_(self, *args, **kwargs)

    def transpose_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.transpose_(self, *args, **kwargs)

    def swapaxes_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.swapaxes_(self, *args, **kwargs)

    def swapdims_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.swapdims_(self, *args, **kwargs)

    def t_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.t_(self, *args, **kwargs)

    def resize_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.resize_(self, *args, **kwargs)

    def resize_as_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.resize_as_(self, *args, **kwargs)

    def select(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.select(self, *args, **kwargs)

    def adjoint(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.adjoint(self, *args, **kwargs)

    # -- Aliases (ops/aliases.py) ------------------------------------------------------------------
    def split_with_sizes(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.split_with_sizes(self, *args, **kwargs)

    def unsafe_chunk(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unsafe_chunk(self, *args, **kwargs)

    def unsafe_split(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unsafe_split(self, *args, **kwargs)

    def unsafe_split_with_sizes(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.unsafe_split_with_sizes(self, *args, **kwargs)

    def narrow_copy(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.narrow_copy(self, *args, **kwargs)

    def hardshrink(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.hardshrink(self, *args, **kwargs)

    def prelu(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.prelu(self, *args, **kwargs)

    # -- Bit math, combinatorics, scatter views (ops/bitmath, combinatorics, scatter_views) ---
    def copysign(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.copysign(self, *args, **kwargs)

    def heaviside(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.heaviside(self, *args, **kwargs)

    def signbit(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.signbit(self, *args, **kwargs)

    def nextafter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nextafter(self, *args, **kwargs)

    def logaddexp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logaddexp(self, *args, **kwargs)

    def logaddexp2(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logaddexp2(self, *args, **kwargs)

    def frexp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.frexp(self, *args, **kwargs)

    def ldexp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ldexp(self, *args, **kwargs)

    def gcd(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.gcd(self, *args, **kwargs)

    def lcm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lcm(self, *args, **kwargs)

    def deg2rad(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.deg2rad(self, *args, **kwargs)

    def rad2deg(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.rad2deg(self, *args, **kwargs)

    def positive(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.positive(self, *args, **kwargs)

    def diagflat(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.diagflat(self, *args, **kwargs)

    def select_scatter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.select_scatter(self, *args, **kwargs)

    def slice_scatter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.slice_scatter(self, *args, **kwargs)

    def diagonal_scatter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.diagonal_scatter(self, *args, **kwargs)

    def index_reduce(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_reduce(self, *args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.put(self, *args, **kwargs)

    # -- Statistics, calculus, distances (ops/statistics.py, ops/calculus.py, ops/pairwise.py) -----
    def cov(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cov(self, *args, **kwargs)

    def corrcoef(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.corrcoef(self, *args, **kwargs)

    def quantile(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.quantile(self, *args, **kwargs)

    def nanquantile(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nanquantile(self, *args, **kwargs)

    def histogram(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.histogram(self, *args, **kwargs)

    def diff(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.diff(self, *args, **kwargs)

    def logcumsumexp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.logcumsumexp(self, *args, **kwargs)

    def dist(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.dist(self, *args, **kwargs)

    def renorm(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.renorm(self, *args, **kwargs)

    # -- Special functions (ops/gamma.py, ops/special_functions.py) --------------------------------
    def lgamma(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lgamma(self, *args, **kwargs)

    def polygamma(self, n: int) -> Any:
        return _ops.polygamma(n, self)

    def digamma(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.digamma(self, *args, **kwargs)

    def mvlgamma(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mvlgamma(self, *args, **kwargs)

    def igamma(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.igamma(self, *args, **kwargs)

    def igammac(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.igammac(self, *args, **kwargs)

    def i0(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.i0(self, *args, **kwargs)

    def sinc(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sinc(self, *args, **kwargs)

    def xlogy(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.xlogy(self, *args, **kwargs)

    # -- Solvers and matrix functions (ops/solvers.py, ops/matrix_functions.py) --------------------
    def pinverse(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.pinverse(self, *args, **kwargs)

    def matrix_power(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.matrix_power(self, *args, **kwargs)

    def matrix_exp(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.matrix_exp(self, *args, **kwargs)

    def lu_solve(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lu_solve(self, *args, **kwargs)

    def cholesky_solve(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cholesky_solve(self, *args, **kwargs)

    def cholesky_inverse(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.cholesky_inverse(self, *args, **kwargs)

    def triangular_solve(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.triangular_solve(self, *args, **kwargs)

    def addr(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addr(self, *args, **kwargs)

    def orgqr(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.orgqr(self, *args, **kwargs)

    def lu(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lu(self, *args, **kwargs)

    # -- Interop and in-place twins (ops/interop.py, ops/inplace_twins.py) --------------------
    def __dlpack__(self, *, stream: Any = None, **kwargs: Any) -> Any:
        """Export the data as a DLPack capsule, sharing memory. Mirrors ``Tensor.__dlpack__``.

        Keywords (``max_version``, ``dl_device``, ``copy``) go to the array's ``__dlpack__``.
        """
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self.data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        """Return the DLPack (device type, index). Mirrors ``torch.Tensor.__dlpack_device__``."""
        return self.data.__dlpack_device__()

    @property
    def imag(self) -> Tensor:
        """The imaginary part: an error, as Ember has no complex dtypes."""
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")

    def const_data_ptr(self) -> int:
        """Return the address of the first element. Mirrors ``torch.Tensor.const_data_ptr``."""
        return _data_ptr(self.data)

    def dense_dim(self) -> int:
        """Return the number of dense dims: all of them. Mirrors ``torch.Tensor.dense_dim``."""
        return self.data.ndim

    def sparse_dim(self) -> int:
        """Return 0: Ember tensors are dense. Mirrors ``torch.Tensor.sparse_dim``."""
        return 0

    def to_dense(self, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
        """Return self (already dense), cast when dtype is given. Mirrors ``Tensor.to_dense``."""
        return self if dtype is None else self.to(dtype)

    def is_distributed(self) -> bool:
        """Return False, as PyTorch does for ordinary tensors. Mirrors ``is_distributed``."""
        return False

    @property
    def is_sparse_csr(self) -> bool:
        """False: Ember has no sparse tensors."""
        return False

    @property
    def is_mps(self) -> bool:
        """False: Ember has no MPS backend."""
        return False

    @property
    def is_xpu(self) -> bool:
        """False: Ember has no XPU backend."""
        return False

    @property
    def is_xla(self) -> bool:
        """False: Ember has no XLA backend."""
        return False

    @property
    def is_ipu(self) -> bool:
        """False: Ember has no IPU backend."""
        return False

    @property
    def is_maia(self) -> bool:
        """False: Ember has no MAIA backend."""
        return False

    @property
    def is_mtia(self) -> bool:
        """False: Ember has no MTIA backend."""
        return False

    @property
    def is_vulkan(self) -> bool:
        """False: Ember has no Vulkan backend."""
        return False

    def dim_order(self) -> tuple[int, ...]:
        """Return the dims from outermost to innermost in memory. Mirrors ``Tensor.dim_order``."""
        strides = self.stride()
        return tuple(sorted(range(self.data.ndim), key=lambda d: -strides[d]))

    def gcd_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.gcd_(self, *args, **kwargs)

    def lcm_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lcm_(self, *args, **kwargs)

    def ldexp_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ldexp_(self, *args, **kwargs)

    def deg2rad_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.deg2rad_(self, *args, **kwargs)

    def rad2deg_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.rad2deg_(self, *args, **kwargs)

    def copysign_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.copysign_(self, *args, **kwargs)

    def heaviside_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.heaviside_(self, *args, **kwargs)

    def nextafter_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nextafter_(self, *args, **kwargs)

    def i0_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.i0_(self, *args, **kwargs)

    def sinc_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.sinc_(self, *args, **kwargs)

    def xlogy_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.xlogy_(self, *args, **kwargs)

    def lgamma_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.lgamma_(self, *args, **kwargs)

    def digamma_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.digamma_(self, *args, **kwargs)

    def polygamma_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.polygamma_(self, *args, **kwargs)

    def mvlgamma_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.mvlgamma_(self, *args, **kwargs)

    def igamma_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.igamma_(self, *args, **kwargs)

    def igammac_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.igammac_(self, *args, **kwargs)

    def addr_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.addr_(self, *args, **kwargs)

    def renorm_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.renorm_(self, *args, **kwargs)

    def index_reduce_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.index_reduce_(self, *args, **kwargs)

    def put_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.put_(self, *args, **kwargs)

    def conj_physical_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.conj_physical_(self, *args, **kwargs)

    def angle(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.angle(self, *args, **kwargs)

    def as_strided(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.as_strided(self, *args, **kwargs)

    def as_strided_(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.as_strided_(self, *args, **kwargs)

    def as_strided_scatter(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.as_strided_scatter(self, *args, **kwargs)

    def nonzero_static(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.nonzero_static(self, *args, **kwargs)

    def geqrf(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.geqrf(self, *args, **kwargs)

    def ormqr(self, *args: Any, **kwargs: Any) -> Any:
        return _ops.ormqr(self, *args, **kwargs)


def _wrap_dim(dim: int, ndim: int, op: str) -> int:
    """Turn a possibly negative dim into an index, with PyTorch's IndexError when out of range."""
    low, high = -max(ndim, 1), max(ndim, 1) - 1
    if not low <= dim <= high:
        raise IndexError(
            f"{op}: Dimension out of range (expected to be in range of [{low}, {high}], "
            f"but got {dim})"
        )
    return dim % max(ndim, 1)


def _parse_to(args: tuple, kwargs: dict) -> tuple[DType | None, Device | None, bool]:
    """Read ``Tensor.to``'s overloads: (dtype), (device, dtype), (tensor), with keywords."""
    from ember.backend import as_device

    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype, device = arg.dtype, arg.device
        elif isinstance(arg, DType):
            dtype = arg
        elif isinstance(arg, (str, Device, int)) and not isinstance(arg, bool):
            device = arg
        elif arg is not None:
            dtype = as_dtype(arg)
    if dtype is not None:
        dtype = as_dtype(dtype)
    if device is not None:
        device = as_device(device)
    return dtype, device, copy


def _data_ptr(array: Any) -> int:
    interface = getattr(array, "__cuda_array_interface__", None) or array.__array_interface__
    return interface["data"][0]


def _check_map(tensor: Tensor, op: str) -> None:
    if tensor._requires_grad:
        raise RuntimeError(
            f"Can't call {op}() on Variable that requires grad. Use var.detach().{op}() instead."
        )
    if tensor.device.type != "cpu":
        raise TypeError(f"{op} is only implemented on CPU tensors")


def _real(value: Any) -> Any:
    if isinstance(value, (str, bytes)) or not isinstance(value, numbers.Number):
        raise TypeError(f"must be real number, not {type(value).__name__}")
    return value


def _rebuild(data: Any, requires_grad: bool) -> Tensor:
    return Tensor(data, requires_grad)


from ember import ops as _ops  # noqa: E402  (the one deliberate late import: ops build on Tensor)
