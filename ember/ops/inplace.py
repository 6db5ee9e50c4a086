"""In-place ops (``add_``, ``mul_``, ``x[i] = v``, ...): the functional op, written back.

Each in-place op runs its functional twin on an alias of the tensor, then copies the result
into the tensor's memory (so views see it), bumps the shared version counter and, when the op
was recorded, hands the result's history to the tensor. The alias keeps a copy of the old
values only when the graph was recorded, so backward reads what forward saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import grad_mode
from ember.backend import Array, array_module, strided_view, view_geometry
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops import combine, floatmath, magnitude, powers, rounding, trig
from ember.ops import elementwise as ew
from ember.ops import shape as sh
from ember.ops.common import cast
from ember.tensor import Tensor

__all__ = [
    "abs_",
    "add_",
    "addcdiv_",
    "addcmul_",
    "ceil_",
    "clamp_",
    "clamp_max_",
    "clamp_min_",
    "clip_",
    "copy_",
    "cos_",
    "div_",
    "exp_",
    "fill_",
    "floor_",
    "fmod_",
    "frac_",
    "index_add_",
    "index_copy_",
    "index_fill_",
    "lerp_",
    "log_",
    "masked_fill_",
    "masked_scatter_",
    "mul_",
    "nan_to_num_",
    "neg_",
    "overwrite_",
    "pow_",
    "reciprocal_",
    "relu_",
    "remainder_",
    "round_",
    "rsqrt_",
    "scatter_",
    "scatter_add_",
    "scatter_reduce_",
    "setitem_",
    "sigmoid_",
    "sign_",
    "sin_",
    "sqrt_",
    "square_",
    "sub_",
    "tanh_",
    "tril_",
    "triu_",
    "trunc_",
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
    recorded = result.grad_fn is not None
    if recorded:
        alias.data = tensor.data.copy()  # backward must read the values forward saw
        if tensor._base is not None:
            result = _rebase_view(tensor, result, op)
    array_module(tensor.data).copyto(tensor.data, result.data, casting="unsafe")
    if recorded:
        tensor.grad_fn, tensor._output_nr = result.grad_fn, result._output_nr
        tensor._requires_grad = True
    tensor._version[0] += 1
    return tensor


class ViewScatter(Function):
    """base with the strided region given by geometry replaced by src (PyTorch's CopySlices)."""

    @staticmethod
    def forward(ctx: Context, base: Array, src: Any, geometry: tuple) -> Array:
        ctx.geometry = geometry
        out = base.copy()
        strided_view(out.reshape(-1), *geometry)[...] = src
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        geometry = ctx.geometry
        grad_base = ViewScatter.apply(grad, 0, geometry) if ctx.needs_input_grad[0] else None
        grad_src = ViewGather.apply(grad, geometry) if ctx.needs_input_grad[1] else None
        return grad_base, grad_src, None


class ViewGather(Function):
    """A copy of the strided region of base given by geometry."""

    @staticmethod
    def forward(ctx: Context, base: Array, geometry: tuple) -> Array:
        ctx.geometry, ctx.base_shape = geometry, base.shape
        return strided_view(base.reshape(-1), *geometry).copy()

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        zeros = Tensor(array_module(grad.data).zeros(ctx.base_shape, dtype=grad.data.dtype))
        return ViewScatter.apply(zeros, grad, ctx.geometry), None


def _rebase_view(view: Tensor, result: Tensor, op: str) -> Tensor:
    """Give the view's root base the history of the write, and the view a history through it."""
    root = _root(view)
    geometry = view_geometry(view.data, root.data)
    if geometry is None:
        raise RuntimeError(
            f"{op}: in-place autograd through a view needs a contiguous base tensor; "
            "clone the base first"
        )
    old_root = Tensor(root.data, root._requires_grad)
    old_root.grad_fn, old_root._output_nr = root.grad_fn, root._output_nr
    new_root = ViewScatter.apply(old_root, result, geometry)
    root.grad_fn, root._output_nr, root._requires_grad = new_root.grad_fn, 0, True
    # The view's new history reads the new root; its values are result's, written by the caller.
    return ViewGather.apply(new_root, geometry)


def _type_name(t: Tensor) -> str:
    return SCALAR_NAMES[t.dtype.name]


class CopyFrom(Function):
    """x's values replaced by src (broadcast, cast to x's dtype); x's gradient is zero."""

    @staticmethod
    def forward(ctx: Context, x: Array, src: Any) -> Array:
        xp = array_module(x)
        ctx.src_shape = getattr(src, "shape", ())
        out = xp.empty_like(x)
        xp.copyto(out, src, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        grad_x = Tensor(array_module(grad.data).zeros_like(grad.data))
        grad_src = sh.sum_to(grad, ctx.src_shape) if ctx.needs_input_grad[1] else None
        return (grad_x if ctx.needs_input_grad[0] else None), grad_src


def overwrite_(tensor: Tensor, array: Any) -> Tensor:
    """Write a backend array (or scalar) into tensor: an in-place fill such as ``uniform_``.

    On a tensor in the graph the fill is recorded, with a zero gradient for the old values,
    as PyTorch records ``FillBackward``.
    """
    if grad_mode.enabled and tensor._requires_grad and tensor.grad_fn is not None:
        return inplace(tensor, lambda t: CopyFrom.apply(t, array), "fill")
    check_inplace(tensor)
    array_module(tensor.data).copyto(tensor.data, array, casting="unsafe")
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
    return inplace(input, lambda t: powers.pow(t, exponent), "pow_")


def zero_(input: Tensor) -> Tensor:
    """Fill with zeros in place. Mirrors ``torch.Tensor.zero_``."""
    return overwrite_(input, 0)


def fill_(input: Tensor, value: Any) -> Tensor:
    """Fill with a value in place (a 0-d tensor value is differentiable). Mirrors ``fill_``."""
    if isinstance(value, Tensor):
        if value.data.ndim:
            raise RuntimeError(
                "fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.data.ndim} dimensions."
            )
        return inplace(input, lambda t: CopyFrom.apply(t, cast(value, input.dtype)), "fill_")
    return overwrite_(input, value)


def copy_(input: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy src (broadcast, cast) into input. Mirrors ``torch.Tensor.copy_``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    src = cast(src, input.dtype)
    try:
        shape = array_module(input.data).broadcast_shapes(src.data.shape, input.data.shape)
    except ValueError:
        shape = None
    if shape != input.data.shape:
        raise RuntimeError(
            f"copy_: the source of shape {list(src.shape)} does not broadcast to the "
            f"destination of shape {list(input.shape)}"
        )
    if grad_mode.enabled and (src._requires_grad or input._requires_grad):
        return inplace(input, lambda t: CopyFrom.apply(t, src), "copy_")
    return overwrite_(input, src.data)


def setitem_(input: Tensor, index: Any, value: Any) -> None:
    """``input[index] = value``. Mirrors ``torch.Tensor.__setitem__``."""
    from ember.ops.indexing import index_put_value

    inplace(input, lambda t: index_put_value(t, index, value), "__setitem__")


def exp_(input: Tensor) -> Tensor:
    """In-place ``exp``. Mirrors ``torch.Tensor.exp_``."""
    return inplace(input, floatmath.exp, "exp_")


def log_(input: Tensor) -> Tensor:
    """In-place ``log``. Mirrors ``torch.Tensor.log_``."""
    return inplace(input, floatmath.log, "log_")


def neg_(input: Tensor) -> Tensor:
    """In-place ``neg``. Mirrors ``torch.Tensor.neg_``."""
    return inplace(input, ew.neg, "neg_")


def abs_(input: Tensor) -> Tensor:
    """In-place ``abs``. Mirrors ``torch.Tensor.abs_``."""
    return inplace(input, magnitude.abs, "abs_")


def sqrt_(input: Tensor) -> Tensor:
    """In-place ``sqrt``. Mirrors ``torch.Tensor.sqrt_``."""
    return inplace(input, floatmath.sqrt, "sqrt_")


def rsqrt_(input: Tensor) -> Tensor:
    """In-place ``rsqrt``. Mirrors ``torch.Tensor.rsqrt_``."""
    return inplace(input, floatmath.rsqrt, "rsqrt_")


def tanh_(input: Tensor) -> Tensor:
    """In-place ``tanh``. Mirrors ``torch.Tensor.tanh_``."""
    return inplace(input, trig.tanh, "tanh_")


def sigmoid_(input: Tensor) -> Tensor:
    """In-place ``sigmoid``. Mirrors ``torch.Tensor.sigmoid_``."""
    return inplace(input, floatmath.sigmoid, "sigmoid_")


def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``. Mirrors ``torch.Tensor.relu_``."""
    return inplace(input, magnitude.relu, "relu_")


def floor_(input: Tensor) -> Tensor:
    """In-place ``floor``. Mirrors ``torch.Tensor.floor_``."""
    return inplace(input, rounding.floor, "floor_")


def ceil_(input: Tensor) -> Tensor:
    """In-place ``ceil``. Mirrors ``torch.Tensor.ceil_``."""
    return inplace(input, rounding.ceil, "ceil_")


def trunc_(input: Tensor) -> Tensor:
    """In-place ``trunc``. Mirrors ``torch.Tensor.trunc_``."""
    return inplace(input, rounding.trunc, "trunc_")


def frac_(input: Tensor) -> Tensor:
    """In-place ``frac``. Mirrors ``torch.Tensor.frac_``."""
    return inplace(input, rounding.frac, "frac_")


def reciprocal_(input: Tensor) -> Tensor:
    """In-place ``reciprocal``. Mirrors ``torch.Tensor.reciprocal_``."""
    return inplace(input, floatmath.reciprocal, "reciprocal_")


def sign_(input: Tensor) -> Tensor:
    """In-place ``sign``. Mirrors ``torch.Tensor.sign_``."""
    return inplace(input, magnitude.sign, "sign_")


def sin_(input: Tensor) -> Tensor:
    """In-place ``sin``. Mirrors ``torch.Tensor.sin_``."""
    return inplace(input, trig.sin, "sin_")


def cos_(input: Tensor) -> Tensor:
    """In-place ``cos``. Mirrors ``torch.Tensor.cos_``."""
    return inplace(input, trig.cos, "cos_")


def square_(input: Tensor) -> Tensor:
    """In-place ``square``. Mirrors ``torch.Tensor.square_``."""
    return inplace(input, powers.square, "square_")


def round_(input: Tensor, *, decimals: int = 0) -> Tensor:
    """In-place ``round``. Mirrors ``torch.Tensor.round_``."""
    return inplace(input, lambda t: rounding.round(t, decimals=decimals), "round_")


def clamp_(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """In-place ``clamp``. Mirrors ``torch.Tensor.clamp_``."""
    return inplace(input, lambda t: combine.clamp(t, min, max), "clamp_")


clip_ = clamp_


def clamp_min_(input: Tensor, min: Any) -> Tensor:
    """In-place ``clamp_min``. Mirrors ``torch.Tensor.clamp_min_``."""
    return inplace(input, lambda t: combine.clamp(t, min, None), "clamp_min_")


def clamp_max_(input: Tensor, max: Any) -> Tensor:
    """In-place ``clamp_max``. Mirrors ``torch.Tensor.clamp_max_``."""
    return inplace(input, lambda t: combine.clamp(t, None, max), "clamp_max_")


def lerp_(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """In-place ``lerp``. Mirrors ``torch.Tensor.lerp_``."""
    return inplace(input, lambda t: combine.lerp(t, end, weight), "lerp_")


def addcmul_(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In-place ``addcmul``. Mirrors ``torch.Tensor.addcmul_``."""
    return inplace(input, lambda t: combine.addcmul(t, tensor1, tensor2, value=value), "addcmul_")


def addcdiv_(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In-place ``addcdiv``. Mirrors ``torch.Tensor.addcdiv_``."""
    return inplace(input, lambda t: combine.addcdiv(t, tensor1, tensor2, value=value), "addcdiv_")


def fmod_(input: Tensor, other: Any) -> Tensor:
    """In-place ``fmod``. Mirrors ``torch.Tensor.fmod_``."""
    return inplace(input, lambda t: ew.fmod(t, other), "fmod_")


def remainder_(input: Tensor, other: Any) -> Tensor:
    """In-place ``remainder``. Mirrors ``torch.Tensor.remainder_``."""
    return inplace(input, lambda t: ew.remainder(t, other), "remainder_")


def nan_to_num_(input: Tensor, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Tensor:
    """In-place ``nan_to_num``. Mirrors ``torch.Tensor.nan_to_num_``."""
    return inplace(input, lambda t: combine.nan_to_num(t, nan, posinf, neginf), "nan_to_num_")


def masked_fill_(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """In-place ``masked_fill``. Mirrors ``torch.Tensor.masked_fill_``."""
    return inplace(input, lambda t: _ops().masked_fill(t, mask, value), "masked_fill_")


def index_fill_(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """In-place ``index_fill``. Mirrors ``torch.Tensor.index_fill_``."""
    return inplace(input, lambda t: _ops().index_fill(t, dim, index, value), "index_fill_")


def index_add_(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """In-place ``index_add``. Mirrors ``torch.Tensor.index_add_``."""
    return inplace(
        input, lambda t: _ops().index_add(t, dim, index, source, alpha=alpha), "index_add_"
    )


def index_copy_(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place ``index_copy``. Mirrors ``torch.Tensor.index_copy_``."""
    return inplace(input, lambda t: _ops().index_copy(t, dim, index, source), "index_copy_")


def scatter_(input: Tensor, dim: int, index: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """In-place ``scatter``. Mirrors ``torch.Tensor.scatter_``."""
    return inplace(input, lambda t: _ops().scatter(t, dim, index, *args, **kwargs), "scatter_")


def scatter_add_(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place ``scatter_add``. Mirrors ``torch.Tensor.scatter_add_``."""
    return inplace(input, lambda t: _ops().scatter_add(t, dim, index, src), "scatter_add_")


def scatter_reduce_(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """In-place ``scatter_reduce``. Mirrors ``torch.Tensor.scatter_reduce_``."""
    return inplace(
        input,
        lambda t: _ops().scatter_reduce(t, dim, index, src, reduce, include_self=include_self),
        "scatter_reduce_",
    )


def masked_scatter_(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place ``masked_scatter``. Mirrors ``torch.Tensor.masked_scatter_``."""
    return inplace(input, lambda t: _ops().masked_scatter(t, mask, source), "masked_scatter_")


def tril_(input: Tensor, diagonal: int = 0) -> Tensor:
    """In-place ``tril``. Mirrors ``torch.Tensor.tril_``."""
    return inplace(input, lambda t: _ops().tril(t, diagonal), "tril_")


def triu_(input: Tensor, diagonal: int = 0) -> Tensor:
    """In-place ``triu``. Mirrors ``torch.Tensor.triu_``."""
    return inplace(input, lambda t: _ops().triu(t, diagonal), "triu_")


def _ops() -> Any:
    """The ops package, looked up at call time (indexing and scatter sit beside this module)."""
    from ember import ops

    return ops
