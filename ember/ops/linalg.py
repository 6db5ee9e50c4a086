"""Matrix products: matmul and its fixed-rank relatives (mm, bmm, mv, dot, addmm, ...).

Every product here runs through one primitive, ``MatMul`` (a single ``xp.matmul`` call, so BLAS
does the work); the others are thin validating wrappers that compose it with Ember ops. Einsum,
tensordot and friends live in ``ops/einsum.py``; decompositions in ``ops/decomposition.py``.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import CPP_NAMES, SCALAR_NAMES
from ember.ops.elementwise import add, mul
from ember.ops.shape import permute, reshape, sum_to, transpose
from ember.tensor import Tensor

__all__ = [
    "addbmm",
    "addmm",
    "addmv",
    "baddbmm",
    "bmm",
    "dot",
    "ger",
    "matmul",
    "mm",
    "mv",
    "outer",
    "vdot",
]


def scalar_name(x: Tensor) -> str:
    """PyTorch's ScalarType name of x's dtype ("Float", "Long"), for error messages."""
    return SCALAR_NAMES[x.data.dtype.name]


def matmul_arrays(x: Array, y: Array) -> Array:
    """Return x @ y in one BLAS call; float16/bfloat16 accumulate in float32, as in PyTorch."""
    dtype = x.dtype
    if dtype.itemsize == 2 and dtype.kind in "fV":
        xp = array_module(x)
        return xp.matmul(x.astype(xp.float32), y.astype(xp.float32)).astype(dtype)
    return x @ y


class MatMul(Function):
    """x @ y with matmul's rules: 1-D operands are promoted to matrices, batch dims broadcast."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return matmul_arrays(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        x_shape, y_shape = x.data.shape, y.data.shape
        if len(x_shape) == 2 and len(y_shape) == 2:  # the hot path: plain GEMMs
            grad_x = MatMul.apply(grad, transpose(y, 0, 1)) if ctx.needs_input_grad[0] else None
            grad_y = MatMul.apply(transpose(x, 0, 1), grad) if ctx.needs_input_grad[1] else None
            return grad_x, grad_y
        # Promote 1-D operands (and the gradient with them) to matrices, as forward did.
        g_shape = grad.data.shape
        if len(x_shape) == 1:
            x = reshape(x, (1, x_shape[0]))
            g_shape = (*g_shape[:-1], 1, g_shape[-1]) if len(y_shape) > 1 else (1, *g_shape)
        if len(y_shape) == 1:
            y = reshape(y, (y_shape[0], 1))
            g_shape = (*g_shape, 1)
        grad = reshape(grad, g_shape)
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = sum_to(MatMul.apply(grad, transpose(y, -1, -2)), x.data.shape)
            grad_x = reshape(grad_x, x_shape)
        if ctx.needs_input_grad[1]:
            if y.data.ndim == 2:  # one GEMM over the folded batch instead of a batch, then a sum
                k, n = x.data.shape[-1], grad.data.shape[-1]
                flat_x, flat_g = reshape(x, (-1, k)), reshape(grad, (-1, n))
                grad_y = MatMul.apply(transpose(flat_x, 0, 1), flat_g)
            else:
                grad_y = sum_to(MatMul.apply(transpose(x, -1, -2), grad), y.data.shape)
            grad_y = reshape(grad_y, y_shape)
        return grad_x, grad_y


def _numel(shape: tuple) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def _dims(shape: tuple) -> str:
    return "x".join(str(n) for n in shape)


def _check_dtypes(x: Tensor, y: Tensor, op: str) -> None:
    dx, dy = x.data.dtype, y.data.dtype
    if dx != dy:
        if op == "dot":
            raise RuntimeError(
                "dot : expected both vectors to have same dtype, but found "
                f"{SCALAR_NAMES[dx.name]} and {SCALAR_NAMES[dy.name]}"
            )
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {CPP_NAMES[dx.name]} != "
            f"{CPP_NAMES[dy.name]}"
        )
    if dx.kind == "b":
        raise NotImplementedError(f"\"{op}\" not implemented for 'Bool'")


def check_broadcast(a: tuple, b: tuple) -> tuple:
    """Broadcast two shapes, with PyTorch's message when they don't."""
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    out = []
    for i, (m, n) in enumerate(zip(a, b)):
        if m != n and m != 1 and n != 1:
            raise RuntimeError(
                f"The size of tensor a ({m}) must match the size of tensor b ({n}) at "
                f"non-singleton dimension {i}"
            )
        out.append(max(m, n) if m and n else 0)
    return tuple(out)


def _check_matmul(x: Tensor, y: Tensor) -> None:
    """Raise PyTorch's error for operands that matmul cannot multiply."""
    xs, ys = x.data.shape, y.data.shape
    if not xs or not ys:
        raise RuntimeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{len(xs)}D and {len(ys)}D"
        )
    _check_dtypes(x, y, "dot" if len(xs) == len(ys) == 1 else "addmm_impl_cpu_")
    k = xs[-1]
    k2 = ys[-2] if len(ys) > 1 else ys[0]
    if len(ys) == 1:
        if k != k2:
            if len(xs) == 1:
                _raise_dot_size(k, k2)
            m = _numel(xs[:-1])
            raise RuntimeError(f"size mismatch, got input ({m}), mat ({m}x{k}), vec ({k2})")
    elif len(ys) == 2:
        if k != k2:
            rows = _numel(xs[:-1])
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {k2}x{ys[-1]})"
            )
    else:
        batch = _numel(check_broadcast(xs[:-2], ys[:-2]))
        if k != k2:
            raise RuntimeError(
                "Expected size for first two dimensions of batch2 tensor to be: "
                f"[{batch}, {k}] but got: [{batch}, {k2}]."
            )


def _raise_dot_size(n: int, m: int) -> None:
    raise RuntimeError(
        f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
        f"of elements, but got {n} and {m} elements respectively"
    )


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Multiply matrices, vectors or batches of them with broadcasting. Mirrors ``torch.matmul``.

    Shapes: 1-D . 1-D is a dot product; a 1-D operand is promoted to a matrix and the added
    dim removed afterwards; batch dims broadcast. Runs as one ``xp.matmul`` call.
    Differences from PyTorch: no type promotion (neither has it); bool operands raise.
    """
    x, y = input.data, other.data
    if x.ndim == 0 or y.ndim == 0 or x.dtype != y.dtype or x.dtype.kind == "b":
        _check_matmul(input, other)
    k2 = y.shape[-2] if y.ndim > 1 else y.shape[0]
    if x.shape[-1] != k2 or (x.ndim > 2 and y.ndim > 2 and x.shape[:-2] != y.shape[:-2]):
        _check_matmul(input, other)
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Multiply two matrices. Mirrors ``torch.mm``.

    Shapes: (n, m) @ (m, p) -> (n, p).
    """
    if input.data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_matmul(input, mat2)
    return MatMul.apply(input, mat2)


def _check_bmm(batch1: Tensor, batch2: Tensor) -> None:
    if batch1.data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if batch2.data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    d1, d2 = batch1.data.dtype, batch2.data.dtype
    if d1 != d2:
        raise RuntimeError(
            f"expected scalar type {SCALAR_NAMES[d1.name]} but found {SCALAR_NAMES[d2.name]}"
        )
    if d1.kind == "b":
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Multiply two batches of matrices, without broadcasting. Mirrors ``torch.bmm``.

    Shapes: (b, n, m) @ (b, m, p) -> (b, n, p).
    """
    _check_bmm(input, mat2)
    (b, _, k), (b2, k2, _) = input.data.shape, mat2.data.shape
    if (b, k) != (b2, k2):
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{b}, {k}] but got: [{b2}, {k2}]."
        )
    return MatMul.apply(input, mat2)


def _check_mv(input: Tensor | None, mat: Tensor, vec: Tensor) -> None:
    ndims = (1 if input is None else input.data.ndim, mat.data.ndim, vec.data.ndim)
    if ndims[1:] != (2, 1) or (input is not None and ndims[0] > 1):
        raise RuntimeError(f"vector + matrix @ vector expected, got {', '.join(map(str, ndims))}")
    dtypes = [t.data.dtype for t in (input, mat, vec) if t is not None]
    if len(set(dtypes)) > 1:
        names = [SCALAR_NAMES[d.name] for d in dtypes]
        if input is None:
            names = [names[1], *names]  # PyTorch names the (implicit) result first
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {names[0]}, {names[1]}, "
            f"and {names[2]}"
        )
    (m, k), k2 = mat.data.shape, vec.data.shape[0]
    n = m if input is None or input.data.ndim == 0 else input.data.shape[0]
    if k != k2 or n not in (m, 1):
        raise RuntimeError(f"size mismatch, got input ({n}), mat ({m}x{k}), vec ({k2})")


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Multiply a matrix by a vector. Mirrors ``torch.mv``.

    Shapes: (n, m) @ (m,) -> (n,).
    """
    _check_mv(None, input, vec)
    _check_dtypes(input, vec, "addmv_impl_cpu")
    return MatMul.apply(input, vec)


def _check_vectors(x: Tensor, y: Tensor) -> None:
    if x.data.ndim != 1 or y.data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {x.data.ndim}D and {y.data.ndim}D tensors"
        )
    if x.data.shape != y.data.shape:
        _raise_dot_size(x.data.shape[0], y.data.shape[0])
    _check_dtypes(x, y, "dot")


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Return the dot product of two 1-D tensors. Mirrors ``torch.dot``."""
    _check_vectors(input, tensor)
    return MatMul.apply(input, tensor)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """Return the dot product of two 1-D tensors, conjugating the first. Mirrors ``torch.vdot``.

    For real dtypes (all Ember has) this equals ``dot``.
    """
    _check_vectors(input, other)
    return MatMul.apply(input, other)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Return the outer product of two vectors, with type promotion. Mirrors ``torch.outer``.

    Shapes: (n,), (m,) -> (n, m).
    """
    for name, t in (("self", input), ("vec2", vec2)):
        if t.data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.data.ndim}-D")
    return mul(reshape(input, (-1, 1)), reshape(vec2, (1, -1)))


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """Return the outer product of two vectors (alias of ``outer``). Mirrors ``torch.ger``."""
    return outer(input, vec2)


def _check_input_dtype(input: Tensor, mat: Tensor) -> None:
    if input.data.dtype != mat.data.dtype:
        raise RuntimeError(
            "self and mat2 must have the same dtype, but got "
            f"{scalar_name(input)} and {scalar_name(mat)}"
        )


def _check_expand(input: Tensor, shape: tuple) -> None:
    """PyTorch's message when input does not broadcast to the product's shape."""
    in_shape = input.data.shape
    if len(in_shape) > len(shape):
        raise RuntimeError(
            f"expand(torch.{scalar_name(input)}Tensor{{{list(in_shape)}}}, size={list(shape)}): "
            f"the number of sizes provided ({len(shape)}) must be greater or equal to the "
            f"number of dimensions in the tensor ({len(in_shape)})"
        )
    lead = len(shape) - len(in_shape)
    for i, n in enumerate(in_shape):
        if n != 1 and n != shape[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the existing "
                f"size ({n}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"{list(shape)}.  Tensor sizes: {list(in_shape)}"
            )


class Zeroed(Function):
    """0 * x that ignores nan and inf in x (addmm's beta == 0); its gradient is 0 * grad."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.shape = x.shape
        return array_module(x).zeros_like(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return mul(sum_to(grad, ctx.shape), 0)


def _scale_add(input: Tensor, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """Return beta * input + alpha * product; beta == 0 ignores input (nan and inf included)."""
    if alpha != 1:
        product = mul(product, alpha)
    if beta == 0:  # input still gets a (zero) gradient, as in PyTorch
        return add(product, Zeroed.apply(input)) if input.requires_grad else product
    return add(mul(input, beta) if beta != 1 else input, product)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """Return beta * input + alpha * (mat1 @ mat2). Mirrors ``torch.addmm``.

    Shapes: input broadcastable to (n, p); mat1 (n, m); mat2 (m, p).
    """
    for name, t in (("mat1", mat1), ("mat2", mat2)):
        if t.data.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {t.data.ndim}-D tensor")
    _check_input_dtype(input, mat2)
    _check_matmul(mat1, mat2)
    _check_expand(input, (mat1.data.shape[0], mat2.data.shape[1]))
    return _scale_add(input, MatMul.apply(mat1, mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """Return beta * input + alpha * (mat @ vec). Mirrors ``torch.addmv``.

    Shapes: input broadcastable to (n,); mat (n, m); vec (m,).
    """
    _check_mv(input, mat, vec)
    return _scale_add(input, MatMul.apply(mat, vec), beta, alpha)


def addbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
) -> Tensor:
    """Return beta * input + alpha * sum_b(batch1[b] @ batch2[b]). Mirrors ``torch.addbmm``.

    Shapes: input broadcastable to (n, p); batch1 (b, n, m); batch2 (b, m, p). The batch sum
    runs as one GEMM over the folded (b * m) dim.
    """
    for name, t in (("batch1", batch1), ("batch2", batch2)):
        if t.data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    (b, n, k), (b2, k2, p) = batch1.data.shape, batch2.data.shape
    if b != b2:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {b} and {b2}")
    if k != k2:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({n}x{k} and {k2}x{p})")
    _check_expand(input, (n, p))
    _check_input_dtype(input, batch1)
    _check_input_dtype(batch1, batch2)
    folded1 = reshape(permute(batch1, 1, 0, 2), (n, b * k))  # (n, b*k)
    folded2 = reshape(batch2, (b * k, p))  # (b*k, p)
    return _scale_add(input, MatMul.apply(folded1, folded2), beta, alpha)


def baddbmm(
    input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1
) -> Tensor:
    """Return beta * input + alpha * bmm(batch1, batch2). Mirrors ``torch.baddbmm``.

    Shapes: input broadcastable to (b, n, p); batch1 (b, n, m); batch2 (b, m, p).
    """
    product = bmm(batch1, batch2)
    if input.data.dtype != batch1.data.dtype:
        raise RuntimeError(
            f"Input dtypes must be the same, got: input {CPP_NAMES[input.data.dtype.name]}, "
            f"batch1: {CPP_NAMES[batch1.data.dtype.name]}, "
            f"batch2: {CPP_NAMES[batch2.data.dtype.name]}"
        )
    _check_expand(input, product.data.shape)
    return _scale_add(input, product, beta, alpha)
