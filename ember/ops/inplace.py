"""In-place ops (``add_``, ``mul_``, ``x[i] = v``, ...): the functional op, written back.

Each in-place op runs its functional twin on an alias of the tensor, then copies the result
into the tensor's memory (so views see it), bumps the shared version counter and, when the op
was recorded, hands the result's history to the tensor. The alias keeps a copy of the old
values only when the graph was recorded, so backward reads what forward saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.autograd.grad_mode import grad_mode
from ember.backend import array_module
from ember.ops import elementwise as ew
from ember.ops import shape as sh
from ember.ops.common import cast
from ember.tensor import Tensor

__all__ = [
    "add_",
    "copy_",
    "div_",
    "fill_",
    "mul_",
    "overwrite_",
    "pow_",
    "setitem_",
    "sub_",
    "zero_",
]

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)


def _root(tensor: Tensor) -> Tensor:
    while tensor._base is not None:
        tensor = tensor._base
    return tensor


def check_inplace(tensor: Tensor) -> None:
    """Refuse in-place writes to a leaf that requires grad (or a view of one) in grad mode."""
    if not grad_mode.enabled:
        return
    if tensor.grad_fn is None and tensor._requires_grad:
        raise RuntimeError(_VIEW_OF_LEAF if tensor._base is not None else _LEAF)
    if tensor._base is not None:
        root = _root(tensor)
        if root.grad_fn is None and root._requires_grad:
            raise RuntimeError(_VIEW_OF_LEAF)


def inplace(tensor: Tensor, fn: Callable[[Tensor], Tensor], op: str) -> Tensor:
    """Run fn on an alias of tensor and write the result back into tensor; return tensor."""
    check_inplace(tensor)
    alias = Tensor(tensor.data, tensor._requires_grad)
    alias.grad_fn, alias._output_nr = tensor.grad_fn, tensor._output_nr
    result = fn(alias)
    if result.data.shape != tensor.data.shape:
        raise RuntimeError(
            f"{op}: output with shape {list(tensor.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )
    if result.dtype is not tensor.dtype:
        if result.dtype.category > tensor.dtype.category:
            raise RuntimeError(
                f"{op}: result type {_type_name(result)} can't be cast to the desired output "
                f"type {_type_name(tensor)}"
            )
        result = cast(result, tensor.dtype)
    if result.grad_fn is not None:
        if tensor._base is not None:
            raise RuntimeError(
                f"{op}: an in-place op on a view of a tensor that is part of the graph is not "
                "supported yet; apply it to the base tensor, or clone the view first"
            )
        alias.data = tensor.data.copy()  # backward must read the values forward saw
        tensor.grad_fn, tensor._output_nr = result.grad_fn, result._output_nr
        tensor._requires_grad = True
    array_module(tensor.data).copyto(tensor.data, result.data, casting="unsafe")
    tensor._version[0] += 1
    return tensor


def _type_name(t: Tensor) -> str:
    return _TYPE_NAMES[t.dtype.name]


_TYPE_NAMES = {
    "float32": "Float",
    "float64": "Double",
    "float16": "Half",
    "bfloat16": "BFloat16",
    "int64": "Long",
    "int32": "Int",
    "int16": "Short",
    "int8": "Char",
    "uint8": "Byte",
    "bool": "Bool",
}


def overwrite_(tensor: Tensor, array: Any) -> Tensor:
    """Write a backend array into tensor as a non-differentiable in-place fill (``uniform_``)."""
    check_inplace(tensor)
    array_module(tensor.data).copyto(tensor.data, array, casting="unsafe")
    if grad_mode.enabled and tensor.grad_fn is not None:
        tensor.grad_fn, tensor._output_nr, tensor._requires_grad = None, 0, False
    tensor._version[0] += 1
    return tensor


def add_(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """In-place ``add``. Mirrors ``torch.Tensor.add_``."""
    return inplace(input, lambda t: ew.add(t, other, alpha=alpha), "add_")


def sub_(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """In-place ``sub``. Mirrors ``torch.Tensor.sub_``."""
    return inplace(input, lambda t: ew.sub(t, other, alpha=alpha), "sub_")


def mul_(input: Tensor, other: Any) -> Tensor:
    """In-place ``mul``. Mirrors ``torch.Tensor.mul_``."""
    return inplace(input, lambda t: ew.mul(t, other), "mul_")


def div_(input: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """In-place ``div``. Mirrors ``torch.Tensor.div_``."""
    return inplace(input, lambda t: ew.div(t, other, rounding_mode=rounding_mode), "div_")


def pow_(input: Tensor, exponent: Any) -> Tensor:
    """In-place ``pow``. Mirrors ``torch.Tensor.pow_``."""
    return inplace(input, lambda t: ew.pow(t, exponent), "pow_")


def zero_(input: Tensor) -> Tensor:
    """Fill with zeros in place. Mirrors ``torch.Tensor.zero_``."""
    return overwrite_(input, 0)


def fill_(input: Tensor, value: Any) -> Tensor:
    """Fill with a value in place (differentiable in a 0-d tensor value). Mirrors ``Tensor.fill_``."""
    if isinstance(value, Tensor):
        if value.data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.data.ndim} dimensions."
            )
        return inplace(input, lambda t: sh.broadcast_to(cast(value, input.dtype), t.shape), "fill_")
    return overwrite_(input, value)


def copy_(input: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy src (broadcast, cast) into input. Mirrors ``torch.Tensor.copy_``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    src = cast(src, input.dtype)

    def assign(t: Tensor) -> Tensor:
        try:
            return sh.broadcast_to(src, t.shape)
        except RuntimeError:
            raise RuntimeError(
                f"copy_: the source of shape {list(src.shape)} does not broadcast to the "
                f"destination of shape {list(t.shape)}"
            ) from None

    if not src._requires_grad or not grad_mode.enabled:
        check_inplace(input)
        try:
            array_module(input.data).copyto(input.data, src.data, casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {list(src.shape)} does not broadcast to the "
                f"destination of shape {list(input.shape)}"
            ) from None
        if grad_mode.enabled and input.grad_fn is not None:
            input.grad_fn, input._output_nr, input._requires_grad = None, 0, False
        input._version[0] += 1
        return input
    return inplace(input, assign, "copy_")


def setitem_(input: Tensor, index: Any, value: Any) -> None:
    """``input[index] = value``. Mirrors ``torch.Tensor.__setitem__``."""
    from ember.ops.indexing import index_put_value

    inplace(input, lambda t: index_put_value(t, index, value), "__setitem__")
