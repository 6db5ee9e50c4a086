"""Index-notation products: einsum, and tensordot, inner, kron, trace and cross.

``Einsum`` is the one primitive here: its gradient with respect to an operand is another
einsum (of the output gradient with the other operands), so it is differentiable to any order.
The rest compose ``MatMul``, ``Einsum`` and elementwise ops.
"""

from __future__ import annotations

import string
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import wrap_dim
from ember.ops.dims import stack
from ember.ops.elementwise import mul, sub
from ember.ops.indexing import getitem
from ember.ops.linalg import MatMul, check_broadcast
from ember.ops.reduction import sum as reduce_sum
from ember.ops.shape import broadcast_to, permute, reshape
from ember.tensor import Tensor

__all__ = ["cross", "einsum", "inner", "kron", "tensordot", "trace"]

_LETTERS = string.ascii_letters


class Einsum(Function):
    """Sum of products over the subscripts in terms, keeping those of output.

    The terms use letters only (ellipses are spelled out) and every subscript has one size
    across operands (broadcasting is done before, with ``broadcast_to``).
    """

    @staticmethod
    def forward(ctx: Context, terms: tuple, output: str, *xs: Array) -> Array:
        ctx.terms, ctx.output = terms, output
        ctx.save_for_backward(*xs)
        xp = array_module(*xs)
        equation = ",".join(terms) + "->" + output
        dtype = xs[0].dtype
        if dtype.itemsize == 2 and dtype.kind in "fV":  # float16/bfloat16: accumulate in float32
            xs = tuple(x.astype(xp.float32) for x in xs)
            return xp.asarray(xp.einsum(equation, *xs, optimize=len(xs) > 1)).astype(dtype)
        return xp.einsum(equation, *xs, optimize=len(xs) > 1)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        xs = ctx.saved_tensors
        grads = [
            _operand_grad(grad, xs, ctx.terms, ctx.output, k)
            if ctx.needs_input_grad[k + 2]
            else None
            for k in range(len(xs))
        ]
        return (None, None, *grads)


def _operand_grad(grad: Tensor, xs: tuple, terms: tuple, output: str, k: int) -> Tensor:
    """d(einsum)/d(xs[k]): an einsum of grad with the other operands.

    A subscript repeated in xs[k]'s term (a diagonal) is renamed, and an identity matrix ties the
    new name to the old, so the gradient lands on the diagonal. A subscript that only xs[k] has
    (summed away in forward) cannot be produced by einsum: we broadcast along it afterwards.
    """
    x = xs[k]
    xp = array_module(x.data)
    fresh = (c for c in _LETTERS if c not in "".join(terms))
    renamed: list[str] = []
    eyes_terms, eyes = [], []
    for c, n in zip(terms[k], x.data.shape):
        if c in renamed:
            new = next(fresh)
            eyes_terms.append(c + new)
            eyes.append(Tensor(xp.eye(n, dtype=x.data.dtype)))
            c = new
        renamed.append(c)
    in_terms = (output, *(t for j, t in enumerate(terms) if j != k), *eyes_terms)
    seen = set("".join(in_terms))
    out_term = "".join(c for c in renamed if c in seen)
    others = (xj for j, xj in enumerate(xs) if j != k)
    result = Einsum.apply(in_terms, out_term, grad, *others, *eyes)
    if len(out_term) < len(renamed):
        shape = tuple(n if c in seen else 1 for c, n in zip(renamed, x.data.shape))
        result = broadcast_to(reshape(result, shape), x.data.shape)
    return result


def _split_terms(equation: str, operands: tuple) -> tuple[list[str], str | None]:
    """The input terms and the output term (None when implicit), checked as PyTorch does."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    for i, c in enumerate(equation):
        inside_arrow = arrow and i in (len(lhs), len(lhs) + 1)
        if not (c in _LETTERS or c in ".," or inside_arrow):
            raise RuntimeError(
                f"einsum(): invalid subscript given at index {i} in the equation string, "
                "subscripts must be in [a-zA-Z]"
            )
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for i, term in enumerate(terms + ([rhs] if arrow else [])):
        if term.count(".") != (3 if "..." in term else 0) or "...." in term:
            raise RuntimeError(
                f"einsum(): found '.' for operand {i} that is not part of any ellipsis"
            )
    return terms, rhs if arrow else None


def _expand_ellipses(terms: list[str], output: str | None, operands: tuple) -> tuple:
    """Spell out ellipses with fresh letters; build the implicit output when there is none."""
    n_ellipsis = []
    for i, (term, x) in enumerate(zip(terms, operands)):
        ndim, labels = x.data.ndim, len(term.replace("...", ""))
        if "..." not in term and labels != ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({labels}) does not match "
                f"the number of dimensions ({ndim}) for operand {i} and no ellipsis was given"
            )
        if labels > ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({labels}) is more than "
                f"the number of dimensions ({ndim}) for operand {i}"
            )
        n_ellipsis.append(ndim - labels if "..." in term else 0)
    used = "".join(terms) + (output or "")
    ell = "".join(c for c in _LETTERS if c not in used)[: max(n_ellipsis, default=0)]
    terms = [t.replace("...", ell[len(ell) - n :]) for t, n in zip(terms, n_ellipsis)]
    if output is None:
        letters = "".join(terms)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        return terms, ell + "".join(once), ell
    output = output.replace("...", ell)
    for c in output:
        if output.count(c) > 1:
            raise RuntimeError(
                f"einsum(): output subscript {c} appears more than once in the output"
            )
        if not any(c in t for t in terms):
            raise RuntimeError(
                f"einsum(): output subscript {c} does not appear in the equation for any input "
                "operand"
            )
    return terms, output, ell


def _subscript_sizes(terms: list[str], operands: tuple, ell: str) -> dict[str, int]:
    """The size of each subscript, broadcasting size-1 dims; PyTorch's errors when they clash."""
    sizes: dict[str, int] = {}
    for i, (term, x) in enumerate(zip(terms, operands)):
        own: dict[str, int] = {}
        for c, n in zip(term, x.data.shape):
            if c in own and own[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                    f"match, {n} != {own[c]}"
                )
            own[c] = n
            seen = sizes.get(c, 1)
            if n != 1 and seen != 1 and n != seen:
                if c in ell:
                    raise RuntimeError(
                        f"einsum(): dimension {ell.index(c)} covered by ellipsis in operand {i} "
                        f"has size {n} which does not broadcast with previously seen ellipsis "
                        f"with size {seen} for the respective dimension"
                    )
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                    f"broadcast with previously seen size {seen}"
                )
            sizes[c] = n if seen == 1 else seen
    return sizes


def einsum(equation: Any, *operands: Any) -> Tensor:
    """Sum products of operands over subscripts in Einstein notation. Mirrors ``torch.einsum``.

    Accepts ``einsum("ij,jk->ik", a, b)`` and ``einsum("ij,jk", [a, b])``; ellipses, repeated
    subscripts (diagonals) and size-1 broadcasting work as in PyTorch. Forward is
    ``xp.einsum(..., optimize=True)``, which hands contractions to BLAS.
    Differences from PyTorch: the sublist form ``einsum(a, [0, 1], b, [1, 2])`` is not supported.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str) or not operands:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least "
            "one operand and its subscripts list"
        )
    terms, output = _split_terms(equation, operands)
    dtype = operands[0].data.dtype
    for x in operands[1:]:
        if x.data.dtype != dtype:
            raise RuntimeError(
                f"expected scalar type {SCALAR_NAMES[dtype.name]} but found "
                f"{SCALAR_NAMES[x.data.dtype.name]}"
            )
    terms, output, ell = _expand_ellipses(terms, output, operands)
    sizes = _subscript_sizes(terms, operands, ell)
    operands = tuple(
        broadcast_to(x, tuple(sizes[c] for c in term)) for term, x in zip(terms, operands)
    )
    return Einsum.apply(tuple(terms), output, *operands)


def _product(shape: Any) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def _tensordot_dims(a: Tensor, b: Tensor, dims: Any) -> tuple[list[int], list[int]]:
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.data.ndim, b.data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        return list(range(-dims, 0)), list(range(dims))
    dims_a, dims_b = dims
    dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
    dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    return dims_a, dims_b


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Any = None) -> Tensor:
    """Contract dims of a with dims of b. Mirrors ``torch.tensordot``.

    ``dims`` is an int (the last dims of a with the first of b) or a pair of dim lists. Runs as
    one GEMM on the permuted, flattened operands.
    """
    if out is not None:
        raise NotImplementedError("tensordot: out= is not supported")
    dims_a, dims_b = _tensordot_dims(a, b, dims)
    if a.data.dtype != b.data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    wrapped_a = [wrap_dim(d, a.data.ndim) for d in dims_a]
    wrapped_b = [wrap_dim(d, b.data.ndim) for d in dims_b]
    for da, db, wa, wb in zip(dims_a, dims_b, wrapped_a, wrapped_b):
        if a.data.shape[wa] != b.data.shape[wb]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.data.shape[wa]} in "
                f"dim {da} and second has size {b.data.shape[wb]} in dim {db}"
            )
    free_a = [d for d in range(a.data.ndim) if d not in wrapped_a]
    free_b = [d for d in range(b.data.ndim) if d not in wrapped_b]
    shape_a = [a.data.shape[d] for d in free_a]
    shape_b = [b.data.shape[d] for d in free_b]
    k = _product(a.data.shape[d] for d in wrapped_a)
    flat_a = reshape(permute(a, *free_a, *wrapped_a), (_product(shape_a), k))  # (free_a, k)
    flat_b = reshape(permute(b, *wrapped_b, *free_b), (k, _product(shape_b)))  # (k, free_b)
    return reshape(MatMul.apply(flat_a, flat_b), (*shape_a, *shape_b))


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Contract the last dims of input and other. Mirrors ``torch.inner``.

    Shapes: (*a, n), (*b, n) -> (*a, *b); a 0-d operand multiplies elementwise.
    """
    if input.data.ndim == 0 or other.data.ndim == 0:
        return mul(input, other)
    if input.data.shape[-1] != other.data.shape[-1]:
        raise RuntimeError(
            "inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.data.shape)} and {list(other.data.shape)}"
        )
    return tensordot(input, other, dims=([-1], [-1]))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """Return the Kronecker product, with type promotion. Mirrors ``torch.kron``.

    Shapes: the shorter shape is padded with leading ones; out[i] has size a[i] * b[i].
    """
    ndim = max(input.data.ndim, other.data.ndim)
    shape_a = (1,) * (ndim - input.data.ndim) + input.data.shape
    shape_b = (1,) * (ndim - other.data.ndim) + other.data.shape
    a = reshape(input, tuple(v for n in shape_a for v in (n, 1)))  # (a0, 1, a1, 1, ...)
    b = reshape(other, tuple(v for n in shape_b for v in (1, n)))  # (1, b0, 1, b1, ...)
    return reshape(mul(a, b), tuple(m * n for m, n in zip(shape_a, shape_b)))


def trace(input: Tensor) -> Tensor:
    """Return the sum of the main diagonal of a matrix. Mirrors ``torch.trace``.

    Integer and bool inputs sum to int64, as PyTorch does (bool raises there, as here).
    """
    if input.data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.data.ndim}")
    if input.data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    xp = array_module(input.data)
    index = xp.arange(min(input.data.shape))
    return reduce_sum(getitem(input, (index, index)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Return the cross product of 3-vectors along dim, with broadcasting. Mirrors ``torch.cross``.

    ``dim=None`` picks the first dim of size 3. Differences from PyTorch: no deprecation warning
    for ``dim=None``.
    """
    if dim is None:
        dim = next((i for i, n in enumerate(input.data.shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Return the cross product of 3-vectors along dim. Mirrors ``torch.linalg.cross``."""
    if input.data.ndim != other.data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.data.dtype != other.data.dtype:
        raise RuntimeError(
            f"expected scalar type {SCALAR_NAMES[input.data.dtype.name]} but found "
            f"{SCALAR_NAMES[other.data.dtype.name]}"
        )
    wrapped = wrap_dim(dim, input.data.ndim)
    if input.data.shape[wrapped] != 3 or other.data.shape[wrapped] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got "
            f"{input.data.shape[wrapped]} and {other.data.shape[wrapped]}"
        )
    check_broadcast(input.data.shape, other.data.shape)
    lead = (slice(None),) * wrapped
    a = [getitem(input, (*lead, i)) for i in range(3)]
    b = [getitem(other, (*lead, i)) for i in range(3)]
    parts = [sub(mul(a[i], b[j]), mul(a[j], b[i])) for i, j in ((1, 2), (2, 0), (0, 1))]
    return stack(parts, wrapped)
