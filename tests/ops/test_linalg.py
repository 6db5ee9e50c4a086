"""Linear algebra against PyTorch: products, einsum, decompositions and torch.linalg."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
import ember.linalg
from ember.ops import decomposition
from ember.ops import einsum as einsum_ops
from tests.helpers import assert_same, check_gradcheck, check_op, to_numpy


class _EmberTop:
    """``ember``, falling back to the new op modules until ``ember.ops`` re-exports them."""

    def __getattr__(self, name: str):
        for module in (ember, decomposition, einsum_ops):
            if name in getattr(module, "__all__", ()) or hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(name)


_EMBER = _EmberTop()


def top(m):
    return _EMBER if m is ember else m


def rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)


def well_conditioned(*shape, seed=0, dtype=np.float32):
    """Random square matrices pushed away from singular: A + n I."""
    n = shape[-1]
    return (rand(*shape, seed=seed, dtype=np.float64) + n * np.eye(n)).astype(dtype)


def spd(*shape, seed=0, dtype=np.float32):
    """Symmetric positive-definite matrices with distinct eigenvalues: X X^T + I."""
    x = rand(*shape, seed=seed, dtype=np.float64)
    return (x @ np.swapaxes(x, -1, -2) + np.eye(shape[-1])).astype(dtype)


def e_t(array, requires_grad=False):
    return ember.tensor(array, requires_grad=requires_grad), torch.tensor(
        array, requires_grad=requires_grad
    )


# -- matmul ---------------------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),  # dot
    ((3,), (3, 4)),  # vector @ matrix
    ((2, 3), (3,)),  # matrix @ vector
    ((2, 3), (3, 4)),
    ((2, 3, 4), (4, 5)),  # batch @ matrix (the Linear layer case)
    ((3, 4), (2, 4, 5)),  # matrix @ batch
    ((4,), (2, 4, 5)),  # vector @ batch
    ((2, 3, 4), (4,)),  # batch @ vector
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),  # broadcast batch dims
    ((1, 3, 4), (2, 4, 5)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul(shapes):
    check_op(lambda m, x, y: m.matmul(x, y), *shapes)
    check_op(lambda m, x, y: x @ y, *shapes)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul_gradcheck(shapes):
    check_gradcheck(lambda m, x, y: m.matmul(x, y), *shapes)


@settings(max_examples=30, deadline=None)
@given(
    batch=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
    sizes=st.tuples(*[st.integers(1, 4)] * 3),
    vectors=st.tuples(st.booleans(), st.booleans()),
)
def test_matmul_hypothesis(batch, sizes, vectors):
    m, k, n = sizes
    x_shape = (k,) if vectors[0] else (*batch.input_shapes[0], m, k)
    y_shape = (k,) if vectors[1] else (*batch.input_shapes[1], k, n)
    check_op(lambda m, x, y: m.matmul(x, y), x_shape, y_shape)


def test_matmul_noncontiguous():
    check_op(lambda m, x, y: m.matmul(x.T, y[:, 1:]), (4, 3), (4, 6))
    check_op(lambda m, x, y: m.matmul(x.mT, y.mT), (2, 4, 3), (2, 5, 4))
    check_op(lambda m, x, y: m.matmul(x[:, 1:], y[::2]), (3, 5), (8, 2))


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32"])
def test_matmul_dtypes(dtype):
    check_op(lambda m, x, y: m.matmul(x, y), (2, 3, 4), (4, 5), dtype=dtype, low=-5, high=5)
    check_op(lambda m, x, y: m.mm(x, y), (3, 4), (4, 5), dtype=dtype, low=-5, high=5)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_matmul_low_precision(dtype):
    check_op(lambda m, x, y: m.matmul(x, y), (3, 4), (4, 5), dtype=dtype, rtol=2e-2, atol=2e-2)


def test_matmul_methods_and_empty():
    check_op(lambda m, x, y: x.matmul(y) + x.mm(y), (2, 3), (3, 4))
    check_op(lambda m, x, y: m.matmul(x, y), (0, 3), (3, 2))
    check_op(lambda m, x, y: m.matmul(x, y), (2, 0), (0, 2))


def test_matmul_second_derivative_through_broadcast():
    check_gradcheck(lambda m, x, y: m.matmul(x, y) * m.matmul(x, y), (2, 2, 3), (3, 2))


MATMUL_ERRORS = [
    ((64, 100), (50, 10), r"mat1 and mat2 shapes cannot be multiplied \(64x100 and 50x10\)"),
    ((3,), (4,), r"inconsistent tensor size, expected tensor \[3\] and src \[4\]"),
    ((3,), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x5\)"),
    ((3, 4), (5,), r"size mismatch, got input \(3\), mat \(3x4\), vec \(5\)"),
    ((2, 3, 4), (5,), r"size mismatch, got input \(6\), mat \(6x4\), vec \(5\)"),
    ((2, 3, 4), (5, 6), r"shapes cannot be multiplied \(6x4 and 5x6\)"),
    ((2, 3, 4), (2, 5, 6), r"batch2 tensor to be: \[2, 4\] but got: \[2, 5\]\."),
    ((3, 4), (2, 5, 6), r"batch2 tensor to be: \[2, 4\] but got: \[2, 5\]\."),
    ((3,), (2, 4, 5), r"batch2 tensor to be: \[2, 3\] but got: \[2, 4\]\."),
    ((2, 3, 4), (3, 4, 6), r"size of tensor a \(2\) must match the size of tensor b \(3\) at non"),
    ((), (2, 2), r"at least 1D, but they are 0D and 2D"),
    ((2, 2), (), r"at least 1D, but they are 2D and 0D"),
]


@pytest.mark.parametrize("x_shape, y_shape, message", MATMUL_ERRORS)
def test_matmul_errors(x_shape, y_shape, message):
    for m in (ember, torch):
        x, y = m.zeros(x_shape), m.zeros(y_shape)
        with pytest.raises(RuntimeError, match=message):
            m.matmul(x, y)


def test_matmul_dtype_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=r"expected m1 and m2 to have the same dtype, but "):
            m.matmul(m.zeros(2, 2), m.zeros(2, 2, dtype=m.float64))
        with pytest.raises(RuntimeError, match=r"but got: float != double"):
            m.mm(m.zeros(2, 2), m.zeros(2, 2, dtype=m.float64))
        with pytest.raises(RuntimeError, match=r"dot : expected both vectors to have same dtype"):
            m.matmul(m.zeros(2), m.zeros(2, dtype=m.float64))
        with pytest.raises(RuntimeError, match=r"but got: long int != float"):
            m.matmul(m.zeros(2, 2, dtype=m.int64), m.zeros(2, 2))
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            m.matmul(m.zeros(2, 2, dtype=m.bool), m.zeros(2, 2, dtype=m.bool))


# -- fixed-rank products --------------------------------------------------------------------------
def test_mm_bmm_mv_dot():
    check_op(lambda m, x, y: m.mm(x, y), (3, 4), (4, 2))
    check_op(lambda m, x, y: m.mm(x.T, y), (4, 3), (4, 2))
    check_op(lambda m, x, y: m.bmm(x, y), (2, 3, 4), (2, 4, 5))
    check_op(lambda m, x, y: m.bmm(x.mT, y), (2, 4, 3), (2, 4, 5))
    check_op(lambda m, x, y: m.mv(x, y), (3, 4), (4,))
    check_op(lambda m, x, y: m.mv(x.T, y[1:]), (5, 3), (6,))
    check_op(lambda m, x, y: m.dot(x, y) + m.vdot(x, y), (5,), (5,))
    check_op(lambda m, x, y: x.dot(y[::2]), (3,), (6,))
    check_op(lambda m, x, y: m.dot(x, y), (4,), (4,), dtype="int64", low=-9, high=9)


def test_products_gradcheck():
    check_gradcheck(lambda m, x, y: m.mm(x, y), (2, 3), (3, 2))
    check_gradcheck(lambda m, x, y: m.bmm(x, y), (2, 2, 3), (2, 3, 2))
    check_gradcheck(lambda m, x, y: m.mv(x, y), (2, 3), (3,))
    check_gradcheck(lambda m, x, y: m.dot(x, y), (3,), (3,))


def test_outer_inner():
    check_op(lambda m, x, y: m.outer(x, y), (3,), (4,))
    check_op(lambda m, x, y: m.ger(x, y), (3,), (4,))
    check_op(lambda m, x, y: x.outer(y), (3,), (4,), dtype="float64")
    check_op(lambda m, x, y: top(m).inner(x, y), (2, 3), (4, 3))
    check_op(lambda m, x, y: top(m).inner(x, y), (3,), (3,))
    check_op(lambda m, x, y: top(m).inner(x, y), (), (4, 3))
    check_op(lambda m, x, y: top(m).inner(x, y.T), (2, 2, 3), (3, 5))
    check_gradcheck(lambda m, x, y: top(m).inner(x, y), (2, 3), (2, 3))


def test_outer_promotes():
    for m in (ember, torch):
        assert str(m.outer(m.ones(2), m.ones(3, dtype=m.float64)).dtype).endswith("float64")
        assert str(m.outer(m.ones(2), m.arange(3)).dtype).endswith("float32")


@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, 2.0), (0, 1.5)])
def test_addmm_family(beta, alpha):
    kw = {"beta": beta, "alpha": alpha}
    check_op(lambda m, i, x, y: m.addmm(i, x, y, **kw), (2, 3), (2, 4), (4, 3))
    check_op(lambda m, i, x, y: m.addmm(i, x, y, **kw), (3,), (2, 4), (4, 3))
    check_op(lambda m, i, x, y: i.addmm(x.T, y, **kw), (2, 1), (4, 2), (4, 3))
    check_op(lambda m, i, x, y: m.addmv(i, x, y, **kw), (2,), (2, 4), (4,))
    check_op(lambda m, i, x, y: m.addmv(i, x, y, **kw), (), (2, 4), (4,))
    check_op(lambda m, i, x, y: m.addbmm(i, x, y, **kw), (2, 3), (5, 2, 4), (5, 4, 3))
    check_op(lambda m, i, x, y: m.baddbmm(i, x, y, **kw), (5, 2, 3), (5, 2, 4), (5, 4, 3))
    check_op(lambda m, i, x, y: i.baddbmm(x, y, **kw), (3,), (5, 2, 4), (5, 4, 3))


def test_addmm_beta_zero_ignores_nan():
    for m in (ember, torch):
        out = m.addmm(m.full((2, 2), float("nan")), m.ones(2, 3), m.ones(3, 2), beta=0)
        assert not np.isnan(to_numpy(out)).any()


def test_addmm_family_gradcheck():
    check_gradcheck(lambda m, i, x, y: m.addmm(i, x, y, beta=0.5, alpha=2), (3,), (2, 2), (2, 3))
    check_gradcheck(lambda m, i, x, y: m.addbmm(i, x, y), (2, 2), (3, 2, 2), (3, 2, 2))
    check_gradcheck(lambda m, i, x, y: m.baddbmm(i, x, y, alpha=3), (2, 2), (2, 2, 3), (2, 3, 2))
    check_gradcheck(lambda m, i, x, y: m.addmv(i, x, y, beta=2), (2,), (2, 3), (3,))


PRODUCT_ERRORS = [
    (lambda m: m.mm(m.zeros(2), m.zeros(2, 2)), RuntimeError, "self must be a matrix"),
    (lambda m: m.mm(m.zeros(2, 2), m.zeros(2)), RuntimeError, "mat2 must be a matrix"),
    (lambda m: m.mm(m.zeros(2, 3), m.zeros(2, 2)), RuntimeError, r"\(2x3 and 2x2\)"),
    (lambda m: m.bmm(m.zeros(3, 4), m.zeros(3, 4, 6)), RuntimeError, "batch1 must be a 3D tensor"),
    (lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(4, 6)), RuntimeError, "batch2 must be a 3D tensor"),
    (
        lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(3, 4, 6)),
        RuntimeError,
        r"first two dimensions of batch2 tensor to be: \[2, 4\] but got: \[3, 4\]",
    ),
    (
        lambda m: m.bmm(m.zeros(2, 3, 4), m.zeros(2, 4, 6, dtype=m.float64)),
        RuntimeError,
        "expected scalar type Float but found Double",
    ),
    (
        lambda m: m.mv(m.zeros(3, 4), m.zeros(5)),
        RuntimeError,
        r"size mismatch, got input \(3\), mat \(3x4\), vec \(5\)",
    ),
    (
        lambda m: m.mv(m.zeros(3, 4), m.zeros(5, 1)),
        RuntimeError,
        "vector \\+ matrix @ vector expected, got 1, 2, 2",
    ),
    (
        lambda m: m.mv(m.zeros(3, 4), m.zeros(4, dtype=m.float64)),
        RuntimeError,
        "addmv input tensors must have the same dtype, but got Double, Float, and Double",
    ),
    (
        lambda m: m.dot(m.zeros(3), m.zeros(4)),
        RuntimeError,
        r"expected tensor \[3\] and src \[4\] to have the same number of elements, but got 3 and 4",
    ),
    (lambda m: m.dot(m.zeros(3, 1), m.zeros(3)), RuntimeError, "1D tensors expected, but got 2D"),
    (
        lambda m: m.dot(m.zeros(3), m.zeros(3, dtype=m.float64)),
        RuntimeError,
        "dot : expected both vectors to have same dtype, but found Float and Double",
    ),
    (lambda m: m.vdot(m.zeros(2), m.zeros(2, 2)), RuntimeError, "1D tensors expected"),
    (
        lambda m: m.outer(m.zeros(3, 2), m.zeros(4)),
        RuntimeError,
        "outer: Expected 1-D argument self, but got 2-D",
    ),
    (
        lambda m: top(m).inner(m.zeros(2, 3), m.zeros(4, 4)),
        RuntimeError,
        r"inner\(\) the last dimension must match on both input tensors but got shapes \[2, 3\]",
    ),
    (
        lambda m: m.addmm(m.zeros(5), m.zeros(2, 4), m.zeros(4, 3)),
        RuntimeError,
        r"The expanded size of the tensor \(3\) must match the existing size \(5\) at non-single",
    ),
    (
        lambda m: m.addmm(m.zeros(2, 3), m.zeros(4), m.zeros(4, 3)),
        RuntimeError,
        "mat1 must be a matrix, got 1-D tensor",
    ),
    (
        lambda m: m.addmm(m.zeros(2, 3, dtype=m.float64), m.zeros(2, 4), m.zeros(4, 3)),
        RuntimeError,
        "self and mat2 must have the same dtype, but got Double and Float",
    ),
    (
        lambda m: m.addmv(m.zeros(3), m.zeros(2, 4), m.zeros(4)),
        RuntimeError,
        r"size mismatch, got input \(3\), mat \(2x4\), vec \(4\)",
    ),
    (
        lambda m: m.addbmm(m.zeros(2, 3), m.zeros(5, 2, 4), m.zeros(4, 4, 3)),
        RuntimeError,
        "batch1 and batch2 must have same number of batches, got 5 and 4",
    ),
    (
        lambda m: m.addbmm(m.zeros(2, 3), m.zeros(5, 2, 4), m.zeros(5, 5, 3)),
        RuntimeError,
        r"Incompatible matrix sizes for bmm \(2x4 and 5x3\)",
    ),
    (
        lambda m: m.baddbmm(m.zeros(4, 2, 3), m.zeros(5, 2, 4), m.zeros(5, 4, 3)),
        RuntimeError,
        r"The expanded size of the tensor \(5\) must match the existing size \(4\) at non-single",
    ),
    (
        lambda m: m.baddbmm(m.zeros(5, 2, 3, dtype=m.float64), m.zeros(5, 2, 4), m.zeros(5, 4, 3)),
        RuntimeError,
        "Input dtypes must be the same, got: input double, batch1: float, batch2: float",
    ),
]


@pytest.mark.parametrize("fn, error, message", PRODUCT_ERRORS)
def test_product_errors(fn, error, message):
    for m in (ember, torch):
        with pytest.raises(error, match=message):
            fn(m)


# -- einsum ---------------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ii", [(3, 3)]),  # trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("bii->bi", [(2, 3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("i,j->ij", [(3,), (4,)]),  # outer
    ("ij->", [(2, 3)]),  # sum
    ("ij->j", [(2, 3)]),  # a dim summed away that only one operand has
    ("ij->ji", [(2, 3)]),
    ("...ij,...jk", [(5, 2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("b...->...", [(2, 3, 4)]),
    ("...ij->ij", [(5, 2, 3)]),
    ("ij,ij->ij", [(1, 3), (4, 3)]),  # size-1 broadcasting
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # size-1 broadcasting of a contracted dim
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 4)]),
    ("Ab,bC->AC", [(2, 3), (3, 2)]),
    ("i i , i -> i", [(3, 3), (3,)]),  # spaces
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES)
def test_einsum(equation, shapes):
    check_op(lambda m, *xs: top(m).einsum(equation, *xs), *shapes)


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES[:16])
def test_einsum_gradcheck(equation, shapes):
    check_gradcheck(lambda m, *xs: top(m).einsum(equation, *xs), *shapes)


def test_einsum_list_form_and_dtypes():
    check_op(lambda m, x, y: top(m).einsum("ij,jk", [x, y]), (2, 3), (3, 4))
    check_op(lambda m, x, y: top(m).einsum("ij,jk->ik", x.T, y), (3, 2), (3, 4))
    check_op(lambda m, x, y: top(m).einsum("i,i->", x, y), (4,), (4,), dtype="int64", high=9)
    check_op(lambda m, x, y: top(m).einsum("ij,jk", x, y), (2, 3), (3, 4), dtype="float64")
    check_op(
        lambda m, x, y: top(m).einsum("ij,jk", x, y), (2, 3), (3, 4), dtype="bfloat16", rtol=2e-2
    )


def test_einsum_repeated_operand():
    check_op(lambda m, x: top(m).einsum("ij,ij->", x, x), (2, 3))
    check_gradcheck(lambda m, x: top(m).einsum("ij,jk->ik", x, x), (3, 3))


EINSUM_ERRORS = [
    ("ij,jk->ik", [(2, 3), (4, 5)], r"subscript j has size 4 for operand 1 which does not broadc"),
    ("ij,jk->ik", [(2, 3)], "fewer operands were provided than specified in the equation"),
    ("i", [(2,), (3,)], "more operands were provided than specified in the equation"),
    ("ij->ik", [(2, 3)], "output subscript k does not appear in the equation for any input"),
    ("i->ii", [(2,)], "output subscript i appears more than once in the output"),
    ("ijk->ij", [(2, 3)], r"number of subscripts in the equation \(3\) does not match the number"),
    ("ijk...->ij", [(2, 3)], r"number of subscripts in the equation \(3\) is more than the number"),
    ("ii->i", [(2, 3)], r"subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("i$", [(2, 3)], "invalid subscript given at index 1 in the equation string"),
    ("..i.", [(2,)], "found '.' for operand 0 that is not part of any ellipsis"),
    ("i...,...->i", [(2, 3), (4,)], "covered by ellipsis in operand 1"),
]


@pytest.mark.parametrize("equation, shapes, message", EINSUM_ERRORS)
def test_einsum_errors(equation, shapes, message):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=message):
            top(m).einsum(equation, *(m.zeros(s) for s in shapes))


def test_einsum_dtype_error():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
            top(m).einsum("ij,jk", m.zeros(2, 3), m.zeros(3, 2, dtype=m.float64))
        with pytest.raises(ValueError, match="must specify the equation string"):
            top(m).einsum("ij->i")


# -- tensordot, kron, trace, cross ----------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes, dims",
    [
        (((2, 3, 4), (3, 4, 5)), 2),
        (((2, 3), (3, 5)), 1),
        (((2, 3), (4, 5)), 0),
        (((2, 3), (5, 3)), ([1], [1])),
        (((3, 4, 2), (2, 4, 3)), ([0, 1], [2, 1])),
        (((2, 3), (3, 5)), ([-1], [0])),
    ],
)
def test_tensordot(shapes, dims):
    check_op(lambda m, x, y: top(m).tensordot(x, y, dims=dims), *shapes)
    check_gradcheck(lambda m, x, y: top(m).tensordot(x, y, dims=dims), *shapes)


TENSORDOT_ERRORS = [
    (1, "contracted dimensions need to match, but first has size 3 in dim -1 and second has size"),
    (-1, "tensordot expects dims >= 0, but got dims=-1"),
    (3, "tensordot expects dims < ndim_a or ndim_b, but got dims=3"),
    ([[1, 0], [0]], "both dimension lists should have same length"),
]


@pytest.mark.parametrize("dims, message", TENSORDOT_ERRORS)
def test_tensordot_errors(dims, message):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=message):
            top(m).tensordot(m.zeros(2, 3), m.zeros(4, 5), dims=dims)
        with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
            top(m).tensordot(m.zeros(2, 3), m.zeros(3, 2, dtype=m.float64), dims=1)


@pytest.mark.parametrize("shapes", [((2, 3), (4, 5)), ((2, 3), (4,)), ((), (3,)), ((2,), (2, 2))])
def test_kron(shapes):
    check_op(lambda m, x, y: top(m).kron(x, y), *shapes)
    check_gradcheck(lambda m, x, y: top(m).kron(x, y), *shapes)


def test_kron_promotes():
    check_op(lambda m, x: top(m).kron(x, x.double()), (2, 2))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_trace(shape):
    check_op(lambda m, x: top(m).trace(x), shape)
    check_op(lambda m, x: top(m).trace(x.T), shape)
    check_op(lambda m, x: top(m).trace(x), shape, dtype="int32", low=-9, high=9)
    check_gradcheck(lambda m, x: top(m).trace(x) * top(m).trace(x), shape)


def test_trace_errors():
    for m in (ember, torch):
        with pytest.raises(
            RuntimeError, match="trace: expected a matrix, but got tensor with dim 1"
        ):
            top(m).trace(m.zeros(3))
        with pytest.raises(NotImplementedError, match="\"trace\" not implemented for 'Bool'"):
            top(m).trace(m.zeros(2, 2, dtype=m.bool))


def test_cross():
    check_op(lambda m, x, y: m.linalg.cross(x, y), (4, 3), (4, 3))
    check_op(lambda m, x, y: m.linalg.cross(x, y), (4, 3), (1, 3))
    check_op(lambda m, x, y: m.linalg.cross(x, y, dim=0), (3, 2), (3, 2))
    check_op(lambda m, x, y: top(m).cross(x, y, dim=1), (2, 3), (2, 3))
    check_gradcheck(lambda m, x, y: m.linalg.cross(x, y), (2, 3), (2, 3))
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=r"inputs dimension -1 must have length 3\. Got 2"):
            m.linalg.cross(m.zeros(3, 2), m.zeros(3, 2))
        with pytest.raises(RuntimeError, match="inputs must have the same number of dimensions"):
            m.linalg.cross(m.zeros(2, 3), m.zeros(3))
        with pytest.raises(IndexError, match="Dimension out of range"):
            top(m).cross(m.zeros(2, 3), m.zeros(2, 3), dim=2)


def test_multi_dot_and_vecdot():
    check_op(lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), (2, 3), (3, 4), (4, 2))
    check_op(lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), (3,), (3, 4), (4,))
    check_op(lambda m, x, y: m.linalg.vecdot(x, y), (2, 3), (3,))
    check_op(lambda m, x, y: m.linalg.vecdot(x, y, dim=0), (3, 2), (3, 1))
    check_op(lambda m, x, y: m.linalg.matmul(x, y), (2, 3), (3, 2))
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="expected at least 2 tensors but got 1"):
            m.linalg.multi_dot([m.zeros(2, 3)])
        with pytest.raises(
            RuntimeError, match=r"tensors 0 and 1 with shapes \[2, 3\] and \[4, 3\]"
        ):
            m.linalg.multi_dot([m.zeros(2, 3), m.zeros(4, 3)])


# -- inverse, determinants, solve -----------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (1, 1)])
def test_inv_det(shape):
    a = well_conditioned(*shape)
    check_op(lambda m, x: m.linalg.inv(x), inputs=[a])
    check_op(lambda m, x: top(m).inverse(x.mT), inputs=[a])
    check_op(lambda m, x: m.linalg.det(x), inputs=[a], rtol=1e-3)
    check_op(lambda m, x: top(m).det(x), inputs=[-a], rtol=1e-3)
    check_op(lambda m, x: top(m).logdet(x), inputs=[a])
    check_op(lambda m, x: m.linalg.slogdet(x), inputs=[-a])
    check_op(lambda m, x: top(m).slogdet(x), inputs=[a])


def test_inv_det_gradcheck():
    a = well_conditioned(3, 3, dtype=np.float64)
    check_gradcheck(lambda m, x: m.linalg.inv(x), inputs=[a])
    check_gradcheck(lambda m, x: m.linalg.det(x), inputs=[a])
    check_gradcheck(lambda m, x: m.linalg.slogdet(x).logabsdet, inputs=[-a])
    check_gradcheck(lambda m, x: top(m).logdet(x), inputs=[a])
    check_gradcheck(lambda m, x: m.linalg.inv(x), inputs=[well_conditioned(2, 2, 2, seed=1)])


def test_logdet_negative_and_singular():
    for m in (ember, torch):
        assert np.isnan(top(m).logdet(-m.eye(3)).item())
        assert top(m).logdet(m.ones(3, 3)).item() == -np.inf
        assert top(m).det(m.ones(3, 3)).item() == 0


def test_slogdet_sign_has_zero_gradient():
    check_op(lambda m, x: m.linalg.slogdet(x).sign, inputs=[well_conditioned(3, 3)])
    e = ember.tensor(well_conditioned(3, 3), requires_grad=True)
    assert_same(ember.autograd.grad(ember.linalg.slogdet(e).sign, e)[0], torch.zeros(3, 3))


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((3, 3), (3,)),
        ((3, 3), (3, 2)),
        ((2, 3, 3), (3, 2)),
        ((2, 3, 3), (2, 3)),
        ((3, 3), (2, 3, 1)),
    ],
)
def test_solve(a_shape, b_shape):
    inputs = [well_conditioned(*a_shape), rand(*b_shape, seed=1)]
    check_op(lambda m, a, b: m.linalg.solve(a, b), inputs=inputs, rtol=1e-3)
    inputs64 = [x.astype(np.float64) for x in inputs]
    check_gradcheck(lambda m, a, b: m.linalg.solve(a, b), inputs=inputs64)


def test_solve_left_false_and_noncontiguous():
    inputs = [well_conditioned(3, 3), rand(4, 3, seed=1)]
    check_op(lambda m, a, b: m.linalg.solve(a, b, left=False), inputs=inputs, rtol=1e-3)
    check_op(lambda m, a, b: m.linalg.solve(a.mT, b.mT), inputs=[inputs[0], rand(2, 3)])


LINALG_ERRORS = [
    (lambda m: m.linalg.inv(m.zeros(3, 4)), "linalg.inv: A must be batches of square matrices, bu"),
    (lambda m: m.linalg.inv(m.zeros(3)), "linalg.inv: The input tensor A must have at least 2 dim"),
    (
        lambda m: m.linalg.inv(m.zeros(3, 3, dtype=m.int64)),
        "linalg.inv: Expected a floating point or complex tensor as input. Got Long",
    ),
    (
        lambda m: m.linalg.inv(m.zeros(3, 3, dtype=m.float16)),
        "linalg.inv: Low precision dtypes not supported. Got Half",
    ),
    (lambda m: m.linalg.det(m.zeros(3, 4)), "linalg.det: A must be batches of square matrices"),
    (lambda m: top(m).logdet(m.zeros(3, 3, dtype=m.int64)), "logdet: Expected a floating point"),
    (lambda m: m.linalg.slogdet(m.zeros(2, 3)), "linalg.slogdet: A must be batches of square"),
    (
        lambda m: m.linalg.solve(m.eye(3), m.zeros(4)),
        r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x1\)",
    ),
    (
        lambda m: m.linalg.solve(m.eye(3), m.zeros(4, 2)),
        r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 4x2\)",
    ),
    (
        lambda m: m.linalg.solve(m.eye(3), m.zeros(3, 4), left=False),
        r"Incompatible shapes of A and B for the equation XA = B \(3x3 and 3x4\)",
    ),
    (
        lambda m: m.linalg.solve(m.eye(3), m.zeros(3, 2, dtype=m.float64)),
        "linalg.solve: Expected A and B to have the same dtype, but found A of type Float and B of",
    ),
    (
        lambda m: m.linalg.solve(m.zeros(2, 3, 3), m.zeros(4, 3, 1)),
        r"The size of tensor a \(4\) must match the size of tensor b \(2\) at non-singleton",
    ),
    (lambda m: m.linalg.cholesky(m.zeros(3, 4)), "linalg.cholesky: A must be batches of square"),
    (lambda m: m.linalg.qr(m.zeros(3)), "linalg.qr: The input tensor A must have at least 2 dim"),
    (lambda m: m.linalg.qr(m.zeros(3, 4), mode="foo"), "qr received unrecognized mode 'foo' but"),
    (lambda m: m.linalg.svd(m.zeros(3)), "linalg.svd: The input tensor A must have at least 2 d"),
    (lambda m: m.linalg.eigh(m.zeros(3, 4)), "linalg.eigh: A must be batches of square matrices"),
    (
        lambda m: m.linalg.eigh(m.eye(3), UPLO="X"),
        "Expected UPLO argument to be 'L' or 'U', but got X",
    ),
]


@pytest.mark.parametrize("fn, message", LINALG_ERRORS)
def test_linalg_errors(fn, message):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=message):
            fn(m)


def test_singular_errors():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    singular = ember.ones(3, 3)
    with pytest.raises(ember.linalg.LinAlgError, match=r"linalg\.inv: .*input matrix is singular"):
        ember.linalg.inv(singular)
    with pytest.raises(RuntimeError, match=r"linalg.inv: \(Batch element 1\): .*singular"):
        ember.linalg.inv(ember.stack([ember.eye(3), singular]))
    with pytest.raises(ember.linalg.LinAlgError, match="The solver failed because the input matr"):
        ember.linalg.solve(singular, ember.ones(3))
    for m in (ember, torch):  # the same cases raise in torch
        with pytest.raises(m.linalg.LinAlgError):
            m.linalg.inv(m.ones(3, 3))
        with pytest.raises(m.linalg.LinAlgError, match="input matrix is singular"):
            m.linalg.solve(m.ones(3, 3), m.ones(3))


def test_not_positive_definite_errors():
    for m in (ember, torch):
        with pytest.raises(m.linalg.LinAlgError, match=r"leading minor of order 1 is not positive"):
            m.linalg.cholesky(-m.eye(3))
        diag = m.tensor([[1.0, 0, 0], [0, -1, 0], [0, 0, 1]])
        with pytest.raises(m.linalg.LinAlgError, match=r"linalg.cholesky: The factorization could"):
            m.linalg.cholesky(diag)
        with pytest.raises(
            RuntimeError, match=r"leading minor of order 2 is not positive-definite"
        ):
            m.linalg.cholesky(diag)
        batch = m.stack([m.eye(2), -m.eye(2)])
        with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The factorization could not"):
            m.linalg.cholesky(batch)


# -- factorizations -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_cholesky(shape):
    a = spd(*shape)
    check_op(lambda m, x: m.linalg.cholesky(x), inputs=[a], rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.cholesky(x, upper=True), inputs=[a], rtol=1e-3, atol=1e-4)
    # Through a symmetric construction, so the whole input matters.
    x = rand(*shape, seed=2)
    check_op(lambda m, x: m.linalg.cholesky(x @ x.mT + 2 * m.eye(shape[-1])), inputs=[x], rtol=1e-3)


@pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated")
def test_torch_cholesky():
    a = spd(3, 3)
    check_op(lambda m, x: top(m).cholesky(x), inputs=[a], rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: top(m).cholesky(x, upper=True), inputs=[a], rtol=1e-3, atol=1e-4)


def test_cholesky_gradcheck():
    def fn(m, x):
        return m.linalg.cholesky(x @ x.mT + m.eye(3, dtype=m.float64))

    check_gradcheck(fn, inputs=[rand(3, 3, dtype=np.float64)])


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4, 3), (3, 5)])
def test_qr(shape):
    check_op(lambda m, x: m.linalg.qr(x), shape, rtol=1e-3, atol=1e-4)
    check_gradcheck(lambda m, x: m.linalg.qr(x), shape)


def test_qr_modes():
    check_op(lambda m, x: m.linalg.qr(x, mode="complete"), (3, 5), rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.qr(x, mode="complete"), (5, 3), grad=False, rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.qr(x, mode="r").R, (5, 3), grad=False, rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.qr(x, mode="r").Q, (5, 3), grad=False)
    for m in (ember, torch):
        x = m.ones(4, 3, requires_grad=True) + m.eye(4, 3)
        with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows"):
            m.autograd.grad(m.linalg.qr(x, mode="complete").Q.sum(), x)
        with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
            m.autograd.grad(m.linalg.qr(x, mode="r").R.sum(), x)


@pytest.mark.filterwarnings("ignore:torch.qr is deprecated")
def test_torch_qr():
    check_op(lambda m, x: top(m).qr(x), (4, 3), rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: top(m).qr(x, some=False), (3, 4), rtol=1e-3, atol=1e-4)


def _svd_gauge_free(result):
    """Squares of the singular vectors: invariant to the sign each LAPACK picks per vector."""
    u, s, vh = result
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, vh[..., :k, :] * vh[..., :k, :]


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
@pytest.mark.parametrize("full_matrices", [False, True])
def test_svd(shape, full_matrices):
    check_op(
        lambda m, x: _svd_gauge_free(m.linalg.svd(x, full_matrices=full_matrices)),
        shape,
        rtol=1e-3,
        atol=1e-4,
    )


@pytest.mark.parametrize("shape", [(3, 3), (3, 2), (2, 3)])
def test_svd_gradcheck(shape):
    check_gradcheck(lambda m, x: _svd_gauge_free(m.linalg.svd(x, full_matrices=False)), shape)
    check_gradcheck(lambda m, x: m.linalg.svdvals(x), shape)


def test_torch_svd_and_svdvals():
    check_op(lambda m, x: _svd_gauge_free(top(m).svd(x)), (4, 3), rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: _svd_gauge_free(top(m).svd(x, some=False)), (3, 4), rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: top(m).svd(x, compute_uv=False), (4, 3), rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.svdvals(x), (2, 3, 4), rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.svdvals(x.mT), (2, 3, 4), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(uplo):
    a = spd(2, 3, 3)
    a[..., 0, 2] += 0.5  # asymmetric: which triangle is read matters

    def fn(m, x):
        values, vectors = m.linalg.eigh(x, UPLO=uplo)
        return values, vectors * vectors

    check_op(fn, inputs=[a], rtol=1e-3, atol=1e-4)
    check_op(lambda m, x: m.linalg.eigvalsh(x, UPLO=uplo), inputs=[a], rtol=1e-3, atol=1e-4)


def test_eigh_gradcheck():
    def fn(m, x):
        values, vectors = m.linalg.eigh(x + x.mT)
        return values, vectors * vectors

    check_gradcheck(fn, (3, 3))
    check_gradcheck(lambda m, x: m.linalg.eigvalsh(x + x.mT), (3, 3))


# -- norms ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("ord", ["nuc", 2, -2])
def test_matrix_norm_svd_orders(ord):
    check_op(lambda m, x: m.linalg.matrix_norm(x, ord=ord), (2, 3, 4), rtol=1e-3, atol=1e-4)
    check_op(
        lambda m, x: m.linalg.matrix_norm(x, ord=ord, dim=(0, 2), keepdim=True),
        (3, 2, 4),
        rtol=1e-3,
        atol=1e-4,
    )
    check_op(lambda m, x: m.linalg.norm(x, ord=ord), (3, 4), rtol=1e-3, atol=1e-4)


def test_norms_delegate():
    check_op(lambda m, x: m.linalg.norm(x), (3, 4))
    check_op(lambda m, x: m.linalg.norm(x, dim=1), (3, 4))
    check_op(lambda m, x: m.linalg.vector_norm(x, ord=3), (3, 4))
    check_op(lambda m, x: m.linalg.matrix_norm(x), (2, 3, 4))
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=r"the input must be 1D or 2D\. Got 3D"):
            m.linalg.norm(m.zeros(2, 3, 4), ord=2)


def test_results_are_assert_same_structures():
    e, t = e_t(well_conditioned(3, 3))
    assert_same(ember.linalg.slogdet(e), torch.linalg.slogdet(t))
    assert type(ember.linalg.qr(e)).__name__ == type(torch.linalg.qr(t)).__name__
    assert type(ember.linalg.eigh(e + e.mT)).__name__ == type(torch.linalg.eigh(t + t.mT)).__name__
