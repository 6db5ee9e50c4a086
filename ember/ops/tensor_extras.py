"""In-place twins of existing ops (``acos_``, ``eq_``, ``addmm_``, ...) and view-like extras.

Each ``NAME_`` runs the functional ``NAME`` through ``ops.inplace.inplace`` (write-back, version
bump, autograd rebasing), so it obeys PyTorch's in-place rules. Comparison and logical results
(bool) are written back as 0/1 in the tensor's dtype, with a zero gradient, as PyTorch does.
Also here: ``select``, ``index_put_``, ``fill_diagonal_`` and the metadata-changing in-place ops
(``squeeze_``, ``unsqueeze_``, ``transpose_``, ``t_``, ``resize_``, ...), which give the tensor a
new shape over the same memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.autograd.grad_mode import grad_mode
from ember.backend import array_module, view_geometry
from ember.ops import comparison, floatmath, linalg, magnitude, powers, rounding, scan, trig
from ember.ops import dims as dm
from ember.ops import elementwise as ew
from ember.ops import shape as sh
from ember.ops.common import cast, wrap_dim
from ember.ops.indexing import getitem, index_put
from ember.ops.inplace import CopyFrom, check_inplace, inplace
from ember.ops.masking import masked_fill
from ember.tensor import Tensor

__all__ = [
    "absolute_",
    "acos_",
    "acosh_",
    "addbmm_",
    "adjoint",
    "addmm_",
    "addmv_",
    "arccos_",
    "arccosh_",
    "arcsin_",
    "arcsinh_",
    "arctan2_",
    "arctan_",
    "arctanh_",
    "asin_",
    "asinh_",
    "atan2_",
    "atan_",
    "atanh_",
    "baddbmm_",
    "bitwise_and_",
    "bitwise_left_shift_",
    "bitwise_not_",
    "bitwise_or_",
    "bitwise_right_shift_",
    "bitwise_xor_",
    "cosh_",
    "cumprod_",
    "cumsum_",
    "divide_",
    "eq_",
    "erf_",
    "erfc_",
    "erfinv_",
    "exp2_",
    "expm1_",
    "fill_diagonal_",
    "fix_",
    "float_power_",
    "floor_divide_",
    "ge_",
    "greater_",
    "greater_equal_",
    "gt_",
    "hypot_",
    "index_put_",
    "le_",
    "less_",
    "less_equal_",
    "log10_",
    "log1p_",
    "log2_",
    "logical_and_",
    "logical_not_",
    "logical_or_",
    "logical_xor_",
    "logit_",
    "lt_",
    "multiply_",
    "ne_",
    "negative_",
    "not_equal_",
    "resize_",
    "resize_as_",
    "select",
    "sgn_",
    "sinh_",
    "squeeze_",
    "subtract_",
    "swapaxes_",
    "swapdims_",
    "t_",
    "tan_",
    "transpose_",
    "true_divide_",
    "unsqueeze_",
]


def _inplace_twin(fn: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """The in-place twin ``name_`` of the differentiable op fn."""
    op = name + "_"

    def twin(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return inplace(input, lambda t: fn(t, *args, **kwargs), op)

    twin.__name__ = twin.__qualname__ = op
    twin.__doc__ = f"In-place ``{name}``. Mirrors ``torch.Tensor.{op}``."
    return twin


def _nondiff_twin(fn: Callable[..., Tensor], name: str) -> Callable[..., Tensor]:
    """The in-place twin of a comparison: 0/1 in self's dtype, a zero gradient in the graph."""
    op = name + "_"

    def twin(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if grad_mode.enabled and input._requires_grad:
            return inplace(
                input,
                lambda t: CopyFrom.apply(t, cast(fn(t.detach(), *args, **kwargs), t.dtype).data),
                op,
            )
        return inplace(input, lambda t: fn(t, *args, **kwargs), op)

    twin.__name__ = twin.__qualname__ = op
    twin.__doc__ = (
        f"In-place ``{name}``: writes 0/1 in self's dtype. Mirrors ``torch.Tensor.{op}``."
    )
    return twin


acos_ = _inplace_twin(trig.acos, "acos")
arccos_ = _inplace_twin(trig.acos, "arccos")
acosh_ = _inplace_twin(trig.acosh, "acosh")
arccosh_ = _inplace_twin(trig.acosh, "arccosh")
asin_ = _inplace_twin(trig.asin, "asin")
arcsin_ = _inplace_twin(trig.asin, "arcsin")
asinh_ = _inplace_twin(trig.asinh, "asinh")
arcsinh_ = _inplace_twin(trig.asinh, "arcsinh")
atan_ = _inplace_twin(trig.atan, "atan")
arctan_ = _inplace_twin(trig.atan, "arctan")
atanh_ = _inplace_twin(trig.atanh, "atanh")
arctanh_ = _inplace_twin(trig.atanh, "arctanh")
atan2_ = _inplace_twin(trig.atan2, "atan2")
arctan2_ = _inplace_twin(trig.atan2, "arctan2")
cosh_ = _inplace_twin(trig.cosh, "cosh")
sinh_ = _inplace_twin(trig.sinh, "sinh")
tan_ = _inplace_twin(trig.tan, "tan")
hypot_ = _inplace_twin(trig.hypot, "hypot")
erf_ = _inplace_twin(floatmath.erf, "erf")
erfc_ = _inplace_twin(floatmath.erfc, "erfc")
erfinv_ = _inplace_twin(floatmath.erfinv, "erfinv")
exp2_ = _inplace_twin(floatmath.exp2, "exp2")
expm1_ = _inplace_twin(floatmath.expm1, "expm1")
log10_ = _inplace_twin(floatmath.log10, "log10")
log1p_ = _inplace_twin(floatmath.log1p, "log1p")
log2_ = _inplace_twin(floatmath.log2, "log2")
logit_ = _inplace_twin(floatmath.logit, "logit")
fix_ = _inplace_twin(rounding.fix, "fix")
sgn_ = _inplace_twin(magnitude.sgn, "sgn")
absolute_ = _inplace_twin(magnitude.absolute, "absolute")
negative_ = _inplace_twin(ew.negative, "negative")
floor_divide_ = _inplace_twin(ew.floor_divide, "floor_divide")
true_divide_ = _inplace_twin(ew.true_divide, "true_divide")
divide_ = _inplace_twin(ew.divide, "divide")
multiply_ = _inplace_twin(ew.multiply, "multiply")
subtract_ = _inplace_twin(ew.subtract, "subtract")
cumsum_ = _inplace_twin(scan.cumsum, "cumsum")
cumprod_ = _inplace_twin(scan.cumprod, "cumprod")
addmm_ = _inplace_twin(linalg.addmm, "addmm")
addmv_ = _inplace_twin(linalg.addmv, "addmv")
addbmm_ = _inplace_twin(linalg.addbmm, "addbmm")
baddbmm_ = _inplace_twin(linalg.baddbmm, "baddbmm")

eq_ = _nondiff_twin(comparison.eq, "eq")
ne_ = _nondiff_twin(comparison.ne, "ne")
not_equal_ = _nondiff_twin(comparison.ne, "not_equal")
lt_ = _nondiff_twin(comparison.lt, "lt")
less_ = _nondiff_twin(comparison.lt, "less")
le_ = _nondiff_twin(comparison.le, "le")
less_equal_ = _nondiff_twin(comparison.le, "less_equal")
gt_ = _nondiff_twin(comparison.gt, "gt")
greater_ = _nondiff_twin(comparison.gt, "greater")
ge_ = _nondiff_twin(comparison.ge, "ge")
greater_equal_ = _nondiff_twin(comparison.ge, "greater_equal")
logical_and_ = _nondiff_twin(comparison.logical_and, "logical_and")
logical_or_ = _nondiff_twin(comparison.logical_or, "logical_or")
logical_xor_ = _nondiff_twin(comparison.logical_xor, "logical_xor")
logical_not_ = _nondiff_twin(comparison.logical_not, "logical_not")
bitwise_and_ = _nondiff_twin(comparison.bitwise_and, "bitwise_and")
bitwise_or_ = _nondiff_twin(comparison.bitwise_or, "bitwise_or")
bitwise_xor_ = _nondiff_twin(comparison.bitwise_xor, "bitwise_xor")
bitwise_not_ = _nondiff_twin(comparison.bitwise_not, "bitwise_not")
bitwise_left_shift_ = _nondiff_twin(comparison.bitwise_left_shift, "bitwise_left_shift")
bitwise_right_shift_ = _nondiff_twin(comparison.bitwise_right_shift, "bitwise_right_shift")


def float_power_(input: Tensor, exponent: Any) -> Tensor:
    """In-place ``float_power``; self must be float64. Mirrors ``torch.Tensor.float_power_``."""
    if input.dtype.name != "float64":
        raise RuntimeError(
            f"the base given to float_power_ has dtype {_type_name(input)} but the operation's "
            "result requires dtype Double"
        )
    return inplace(input, lambda t: powers.float_power(t, exponent), "float_power_")


def index_put_(
    input: Tensor, indices: tuple | list, values: Tensor, accumulate: bool = False
) -> Tensor:
    """Put (or add) values at the index tensors' positions in place. Mirrors ``index_put_``."""
    return inplace(input, lambda t: index_put(t, indices, values, accumulate), "index_put_")


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """Return the slice at index along dim, as a view without that dim. Mirrors ``torch.select``."""
    ndim = input.data.ndim
    if ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, ndim)
    size = input.data.shape[dim]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {dim}"
        )
    return getitem(input, (slice(None),) * dim + (index,))


def adjoint(input: Tensor) -> Tensor:
    """Return the last two dims swapped, as a view (real dtypes). Mirrors ``torch.adjoint``."""
    if input.data.ndim < 2:
        raise RuntimeError(
            "tensor.adjoint() is only supported on matrices or batches of matrices. "
            f"Got {input.data.ndim}-D tensor."
        )
    return sh.transpose(input, -2, -1)


def fill_diagonal_(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    """Fill the main diagonal in place (every dim of equal length, or a matrix).

    Mirrors ``torch.Tensor.fill_diagonal_``: with ``wrap=True`` a tall matrix's diagonal starts
    again after each block of N columns plus one row.
    """
    shape = input.data.shape
    if len(shape) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(shape) > 2 and any(n != shape[0] for n in shape):
        raise RuntimeError("all dimensions of input must be of equal length")
    xp = array_module(input.data)
    numel, step, acc = input.data.size, 0, 1
    for n in reversed(shape):  # the C-contiguous strides of the logical layout, summed
        step, acc = step + acc, acc * n
    end = numel if len(shape) == 2 and wrap else min(shape) * step
    flat = xp.zeros(numel, dtype=bool)
    flat[0 : min(end, numel) : step] = True
    mask = Tensor(flat.reshape(shape))
    return inplace(input, lambda t: masked_fill(t, mask, fill_value), "fill_diagonal_")


def _reshape_inplace(input: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """Give input the shape and strides of the view fn(input), over the same memory."""
    check_inplace(input)
    alias = Tensor(input.data, input._requires_grad)
    alias.grad_fn, alias._output_nr = input.grad_fn, input._output_nr
    out = fn(alias)
    if out.grad_fn is not None:
        input.grad_fn, input._output_nr = out.grad_fn, out._output_nr
    input.data = out.data
    input._version[0] += 1
    return input


def squeeze_(input: Tensor, dim: Any = None) -> Tensor:
    """Drop size-1 dims in place. Mirrors ``torch.Tensor.squeeze_``."""
    return _reshape_inplace(input, lambda t: dm.squeeze(t) if dim is None else dm.squeeze(t, dim))


def unsqueeze_(input: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim in place. Mirrors ``torch.Tensor.unsqueeze_``."""
    return _reshape_inplace(input, lambda t: dm.unsqueeze(t, dim))


def transpose_(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims in place. Mirrors ``torch.Tensor.transpose_``."""
    return _reshape_inplace(input, lambda t: sh.transpose(t, dim0, dim1))


swapaxes_ = swapdims_ = transpose_


def t_(input: Tensor) -> Tensor:
    """Transpose a matrix (<= 2 dims) in place. Mirrors ``torch.Tensor.t_``."""
    if input.data.ndim > 2:
        raise RuntimeError(
            f"t_() expects a tensor with <= 2 dimensions, but self is {input.data.ndim}D"
        )
    return _reshape_inplace(input, sh.t)


def resize_(input: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give the tensor a new shape over its storage, growing it when needed.

    Mirrors ``torch.Tensor.resize_``: the elements are the storage's, in memory order, from the
    tensor's offset. Differences from PyTorch: grown memory is zero-filled, not uninitialised;
    when it grows, other views of the old memory keep the old memory.
    """
    if input._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = tuple(
        int(n) for n in (sizes[0] if len(sizes) == 1 and not _is_int(sizes[0]) else sizes)
    )
    if any(n < 0 for n in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension: {list(shape)}")
    data, xp = input.data, array_module(input.data)
    numel = 1
    for n in shape:
        numel *= n
    base = data.base if data.base is not None and hasattr(data.base, "reshape") else data
    geometry = view_geometry(data, base) if base is not data else None
    if base is data and data.flags.c_contiguous:
        flat, offset = data.reshape(-1), 0
    elif geometry is not None:
        flat, offset = base.reshape(-1), geometry[2]
    else:  # no storage to read in memory order: the logical order it is
        flat, offset = data.reshape(-1), 0
    if offset + numel <= flat.size:
        input.data = flat[offset : offset + numel].reshape(shape)
    else:
        grown = xp.zeros(numel, dtype=data.dtype)
        grown[: flat.size - offset] = flat[offset:]
        input.data = grown.reshape(shape)
    input._version[0] += 1
    return input


def resize_as_(input: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    """Resize to the template's shape. Mirrors ``torch.Tensor.resize_as_``."""
    return resize_(input, the_template.data.shape)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, Tensor) and value.data.ndim == 0)


def _type_name(t: Tensor) -> str:
    from ember.backend.dtypes import SCALAR_NAMES

    return SCALAR_NAMES[t.dtype.name]
