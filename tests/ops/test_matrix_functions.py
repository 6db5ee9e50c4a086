"""matrix_power, matrix_exp, pinv, lstsq, matrix_rank, cond, vander, tensor solves and small
products vs PyTorch: values, dtypes, gradients, errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
import ember.linalg as elinalg
from ember.ops import matrix_functions
from tests.helpers import assert_same, check_gradcheck, check_op


def top(m):
    """The torch.* namespace of the module under test (ember's lives in ops/matrix_functions)."""
    return matrix_functions if m is ember else m


def rand(*shape, seed=1, dtype="float32", low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def well_conditioned(*shape, seed=0, dtype="float32"):
    n = shape[-1]
    return (rand(*shape, seed=seed) + n * np.eye(shape[-2], n)).astype(dtype)


# -- matrix_power --------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n):
    a = well_conditioned(2, 3, 3) / 3
    check_op(lambda m, a: m.linalg.matrix_power(a, n), inputs=[a], rtol=1e-4, atol=1e-5)
    check_op(lambda m, a: top(m).matrix_power(a.mT, n), inputs=[a], rtol=1e-4, atol=1e-5)


def test_matrix_power_int_and_gradcheck():
    x = np.random.default_rng(0).integers(-3, 3, (2, 3, 3))
    e = elinalg.matrix_power(ember.tensor(x), 3)
    assert_same(e, torch.linalg.matrix_power(torch.tensor(x), 3))
    a = well_conditioned(3, 3, dtype="float64") / 3
    check_gradcheck(lambda m, a: m.linalg.matrix_power(a, 3), inputs=[a])
    check_gradcheck(lambda m, a: m.linalg.matrix_power(a, -2), inputs=[a])


def test_matrix_power_errors():
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2"):
        elinalg.matrix_power(ember.tensor(rand(2, 3)), 2)
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        elinalg.matrix_power(ember.tensor(rand(2)), -1)
    with pytest.raises(RuntimeError, match=r"linalg\.inv: Expected a floating point"):
        elinalg.matrix_power(ember.ones(2, 2, dtype=ember.int64), -1)


# -- matrix_exp ----------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [0.1, 1.0, 20.0])
def test_matrix_exp(scale):
    a = rand(2, 4, 4, seed=2) * scale
    tol = 1e-4 * max(1.0, scale)
    check_op(lambda m, a: m.linalg.matrix_exp(a), inputs=[a], rtol=tol, atol=tol)


def test_matrix_exp_float64_noncontiguous_and_mixed_norms():
    a = np.stack([rand(3, 3, seed=3) * 10, rand(3, 3, seed=4) * 0.01, np.zeros((3, 3))])
    a = a.astype("float64")
    check_op(lambda m, a: top(m).matrix_exp(a.mT), inputs=[a], dtype="float64", rtol=1e-9)


def test_matrix_exp_gradcheck():
    check_gradcheck(lambda m, a: m.linalg.matrix_exp(a), inputs=[rand(3, 3, dtype="float64")])


def test_matrix_exp_errors():
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        elinalg.matrix_exp(ember.tensor(rand(2, 3)))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        elinalg.matrix_exp(ember.ones(2, 2, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        elinalg.matrix_exp(ember.tensor(rand(3)))


# -- pinv ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
def test_pinv(shape):
    a = rand(*shape, seed=5)
    check_op(lambda m, a: m.linalg.pinv(a), inputs=[a], rtol=1e-3, atol=1e-4)


def test_pinv_hermitian_and_pinverse():
    a = rand(2, 4, 4, seed=6)
    sym = a + np.swapaxes(a, -1, -2)
    check_op(lambda m, a: m.linalg.pinv(a, hermitian=True), inputs=[sym], rtol=1e-3, atol=1e-4)
    check_op(lambda m, a: top(m).pinverse(a.mT[..., 1:]), inputs=[a], rtol=1e-3, atol=1e-4)


def test_pinv_rank_deficient_tolerances():
    u = rand(5, 2, seed=7)
    low_rank = (u @ u.T).astype("float32")  # rank 2
    for kw in [{}, {"rtol": 0.1}, {"atol": 0.5}, {"atol": 0.1, "rtol": 0.2}]:
        e = elinalg.pinv(ember.tensor(low_rank), **kw)
        t = torch.linalg.pinv(torch.tensor(low_rank), **kw)
        assert_same(e, t, rtol=1e-3, atol=1e-4)
        e = elinalg.pinv(ember.tensor(low_rank), hermitian=True, **kw)
        t = torch.linalg.pinv(torch.tensor(low_rank), hermitian=True, **kw)
        assert_same(e, t, rtol=1e-3, atol=1e-4)
    assert_same(
        matrix_functions.pinverse(ember.tensor(low_rank), rcond=0.3),
        torch.pinverse(torch.tensor(low_rank), rcond=0.3),
        rtol=1e-3,
        atol=1e-4,
    )


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_pinv_gradcheck(shape):
    check_gradcheck(lambda m, a: m.linalg.pinv(a), inputs=[rand(*shape, seed=8, dtype="float64")])


def test_pinv_errors():
    with pytest.raises(RuntimeError, match=r"linalg.pinv\(Float\{\[3\]\}\): expected a tensor"):
        elinalg.pinv(ember.tensor(rand(3)))
    with pytest.raises(RuntimeError, match=r"linalg.pinv\(Long\{\[2, 2\]\}\)"):
        elinalg.pinv(ember.ones(2, 2, dtype=ember.int64))


# -- matrix_rank ---------------------------------------------------------------------------------
def test_matrix_rank():
    u = rand(2, 5, 2, seed=9)
    low_rank = (u @ np.swapaxes(u, -1, -2)).astype("float64")
    for x in [low_rank, rand(4, 6, seed=10), rand(2, 3, 3, seed=11), np.zeros((3, 3), "float32")]:
        for kw in [{}, {"rtol": 0.5}, {"atol": 1.0}, {"atol": 0.2, "rtol": 0.3}]:
            assert_same(
                elinalg.matrix_rank(ember.tensor(x), **kw),
                torch.linalg.matrix_rank(torch.tensor(x), **kw),
            )
    kw = {"hermitian": True}
    e, t = ember.tensor(low_rank), torch.tensor(low_rank)
    assert_same(elinalg.matrix_rank(e, **kw), torch.linalg.matrix_rank(t, **kw))
    with pytest.raises(RuntimeError, match="The input tensor input must have at least 2"):
        elinalg.matrix_rank(ember.tensor(rand(3)))
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        elinalg.matrix_rank(ember.tensor(rand(2, 3)), hermitian=True)


# -- lstsq ---------------------------------------------------------------------------------------
def _lstsq_fields(m, a, b, **kw):
    """The fields of lstsq, with the empty ones (which torch marks as requiring grad) dropped
    from the gradient check; their shapes, dtypes and values are compared separately."""
    return tuple(f for f in m.linalg.lstsq(a, b, **kw) if f.numel() and f.is_floating_point())


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("shape", [(5, 3), (3, 3), (2, 4, 3), (2, 3, 4)])
def test_lstsq(driver, shape):
    a, b = rand(*shape, seed=12), rand(*shape[:-1], 2, seed=13)
    kw = {"driver": driver}
    check_op(lambda m, a, b: _lstsq_fields(m, a, b, **kw), inputs=[a, b], rtol=1e-3, atol=1e-4)
    e = elinalg.lstsq(ember.tensor(a), ember.tensor(b), **kw)
    t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), **kw)
    assert_same(tuple(e), tuple(t), rtol=1e-3, atol=1e-4)


def test_lstsq_vector_rhs_and_rcond():
    a, b = rand(5, 3, seed=14), rand(5, seed=15)
    kw = {"driver": "gelsd"}
    check_op(lambda m, a, b: _lstsq_fields(m, a, b, **kw), inputs=[a, b], rtol=1e-3, atol=1e-4)
    e = elinalg.lstsq(ember.tensor(a), ember.tensor(b), **kw)
    t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), **kw)
    assert_same(tuple(e), tuple(t), rtol=1e-3, atol=1e-4)
    u = rand(5, 2, seed=16)
    low_rank = (u @ rand(2, 3, seed=17)).astype("float64")
    e = elinalg.lstsq(ember.tensor(low_rank), ember.tensor(a.astype("float64")), rcond=1e-8)
    t = torch.linalg.lstsq(torch.tensor(low_rank), torch.tensor(a.astype("float64")), rcond=1e-8)
    assert_same(e.rank, t.rank)
    assert_same(e.residuals, t.residuals)


def test_lstsq_gradcheck():
    a, b = rand(4, 3, seed=18, dtype="float64"), rand(4, 2, seed=19, dtype="float64")
    check_gradcheck(lambda m, a, b: m.linalg.lstsq(a, b).solution, inputs=[a, b])


def test_lstsq_errors():
    a = ember.tensor(rand(5, 3))
    with pytest.raises(RuntimeError, match=r"input\.size\(-2\) should match other\.size\(-2\)"):
        elinalg.lstsq(a, ember.tensor(rand(4, 2)))
    with pytest.raises(RuntimeError, match=r"input\.dim\(\) must be greater or equal"):
        elinalg.lstsq(a, ember.tensor(rand(2, 5, 2, 2)))
    with pytest.raises(RuntimeError, match="parameter `driver` should be one of"):
        elinalg.lstsq(a, ember.tensor(rand(5, 2)), driver="foo")
    with pytest.raises(RuntimeError, match="Expected input and other to have the same dtype"):
        elinalg.lstsq(a, ember.tensor(rand(5, 2, dtype="float64")))
    with pytest.raises(RuntimeError, match="input must have at least 2 dimensions"):
        elinalg.lstsq(ember.tensor(rand(3)), ember.tensor(rand(3, 2)))
    ints = ember.ones(3, 3, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="doesn't handle types other than float and double"):
        elinalg.lstsq(ints, ints)
    with pytest.raises(RuntimeError, match="doesn't handle types other than float and double"):
        elinalg.matrix_rank(ints)


# -- cond ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1])
def test_cond(p):
    """Values for every p; gradients against torch where torch can differentiate (its cond
    through inv_ex fails in backward for the norms other than 2), else by gradcheck."""
    a = well_conditioned(2, 3, 3, seed=20)
    spectral = p in (None, 2, -2)
    check_op(lambda m, a: m.linalg.cond(a, p), inputs=[a], rtol=1e-3, atol=1e-4, grad=spectral)
    if not spectral:
        check_gradcheck(lambda m, a: m.linalg.cond(a, p), inputs=[well_conditioned(3, 3)])


def test_cond_singular_is_inf():
    a = np.stack([well_conditioned(3, 3), np.array([[1, 2, 3], [0, 0, 0], [1, 1, 1]])])
    a = a.astype("float32")
    for p in ["fro", "nuc", math.inf, 1]:
        assert_same(elinalg.cond(ember.tensor(a), p), torch.linalg.cond(torch.tensor(a), p))


def test_cond_rectangular_gradcheck_and_errors():
    check_op(lambda m, a: m.linalg.cond(a), inputs=[rand(4, 2, seed=21)], rtol=1e-3)
    check_gradcheck(lambda m, a: m.linalg.cond(a), inputs=[rand(3, 2, seed=22)])
    with pytest.raises(RuntimeError, match=r"linalg.cond\(ord=fro\): A must be batches of square"):
        elinalg.cond(ember.tensor(rand(2, 3)), "fro")
    with pytest.raises(RuntimeError, match=r"linalg\.cond got an invalid norm type: 3"):
        elinalg.cond(ember.tensor(rand(3, 3)), 3)
    with pytest.raises(RuntimeError, match="The input tensor must have at least 2 dimensions"):
        elinalg.cond(ember.tensor(rand(3)))
    ints = ember.ones(3, 3, dtype=ember.int64)
    with pytest.raises(RuntimeError, match=r"linalg\.svd: Expected a floating point"):
        elinalg.cond(ints)
    with pytest.raises(RuntimeError, match=r"linalg\.inv: Expected a floating point"):
        elinalg.cond(ints, "fro")


# -- vander, diagonal, tensorinv, tensorsolve, eig ------------------------------------------------
def test_vander():
    check_op(lambda m, x: m.linalg.vander(x), (2, 4))
    check_op(lambda m, x: m.linalg.vander(x[:, 1:], N=5), (3, 3))
    x = np.array([0.0, 1.5, -2.0], "float64")
    check_op(lambda m, x: m.linalg.vander(x, N=3), inputs=[x], dtype="float64")
    check_gradcheck(lambda m, x: m.linalg.vander(x, N=4), inputs=[x])
    ints = np.array([1, 2, 3], "int32")
    assert_same(elinalg.vander(ember.tensor(ints)), torch.linalg.vander(torch.tensor(ints)))
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        elinalg.vander(ember.tensor(rand(3)), N=1)


def test_diagonal():
    check_op(lambda m, a: m.linalg.diagonal(a), (2, 3, 4))
    check_op(lambda m, a: m.linalg.diagonal(a, offset=1, dim1=0, dim2=2), (3, 2, 4))


def test_tensorinv():
    a = well_conditioned(6, 6, seed=23).reshape(2, 3, 6)
    check_op(lambda m, a: m.linalg.tensorinv(a, ind=2), inputs=[a], rtol=1e-3, atol=1e-4)
    b = well_conditioned(4, 4, seed=24).reshape(4, 2, 2)
    check_op(lambda m, a: m.linalg.tensorinv(a, ind=1), inputs=[b], rtol=1e-3, atol=1e-4)
    with pytest.raises(RuntimeError, match=r"prod\(self\.shape\[ind:\]\) == prod"):
        elinalg.tensorinv(ember.tensor(rand(2, 3, 6)), ind=1)
    with pytest.raises(RuntimeError, match="Expected a strictly positive integer for 'ind'"):
        elinalg.tensorinv(ember.tensor(rand(2, 3, 6)), ind=0)


def test_tensorsolve():
    a = well_conditioned(6, 6, seed=25).reshape(2, 3, 6)
    b = rand(2, 3, seed=26)
    check_op(lambda m, a, b: m.linalg.tensorsolve(a, b), inputs=[a, b], rtol=1e-3, atol=1e-4)
    moved = np.moveaxis(a, 2, 1).copy()  # (2, 6, 3): dims=(1,) moves the 6 back to the end
    check_op(
        lambda m, a, b: m.linalg.tensorsolve(a, b, dims=(1,)),
        inputs=[moved, b],
        rtol=1e-3,
        atol=1e-4,
    )
    with pytest.raises(RuntimeError, match=r"prod\(self\.shape\[other\.ndim:\]\)"):
        elinalg.tensorsolve(ember.tensor(rand(2, 3, 6)), ember.tensor(rand(2, 2)))


def test_eig_not_supported():
    for fn in (elinalg.eig, elinalg.eigvals):
        with pytest.raises(NotImplementedError, match="complex results are not supported yet"):
            fn(ember.tensor(rand(3, 3)))


# -- chain_matmul, addr --------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
def test_chain_matmul():
    check_op(lambda m, a, b, c: top(m).chain_matmul(a, b, c), (2, 3), (3, 4), (4, 2))
    check_op(lambda m, a: top(m).chain_matmul(a.T), (2, 3))
    with pytest.raises(RuntimeError, match="tensors 0 and 1 with shapes \\[3, 2\\] and \\[3, 2\\]"):
        matrix_functions.chain_matmul(ember.tensor(rand(3, 2)), ember.tensor(rand(3, 2)))


@pytest.mark.parametrize("kw", [{}, {"beta": 0.5, "alpha": 2.0}, {"beta": 0}])
def test_addr(kw):
    check_op(lambda m, x, u, v: top(m).addr(x, u, v, **kw), (3, 2), (3,), (2,))
    check_op(lambda m, x, u, v: top(m).addr(x, u, v, **kw), (2,), (3,), (2,))
    check_gradcheck(lambda m, x, u, v: top(m).addr(x, u, v, **kw), (3, 2), (3,), (2,))


def test_addr_dtypes_and_errors():
    x = np.ones((3, 2), "int64")
    u, v = rand(3), rand(2)
    e = matrix_functions.addr(ember.tensor(x), ember.tensor(u), ember.tensor(v))
    assert_same(e, torch.addr(torch.tensor(x), torch.tensor(u), torch.tensor(v)))
    with pytest.raises(RuntimeError, match="addr: Expected 1-D argument vec1, but got 2-D"):
        matrix_functions.addr(ember.tensor(rand(3, 2)), ember.tensor(rand(3, 1)), ember.tensor(v))
    with pytest.raises(RuntimeError, match="The expanded size of the tensor \\(3\\) must match"):
        matrix_functions.addr(ember.tensor(rand(3, 2)), ember.tensor(u), ember.tensor(rand(3)))


# -- householder_product -------------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "k"), [((4, 3), 2), ((4, 4), 4), ((2, 5, 3), 3), ((3, 2), 0)])
def test_householder_product(shape, k):
    a, tau = rand(*shape, seed=28), rand(*shape[:-2], k, seed=29)
    kw = {"inputs": [a, tau], "rtol": 1e-4, "grad": k > 0}  # k = 0: the identity, no graph
    check_op(lambda m, a, t: m.linalg.householder_product(a, t), **kw)
    check_op(lambda m, a, t: top(m).orgqr(a, t), **kw)


def test_householder_product_from_qr_and_gradcheck():
    x = rand(5, 3, seed=30)
    e_q = elinalg.householder_product(*(ember.tensor(v) for v in torch.geqrf(torch.tensor(x))))
    assert_same(e_q, torch.linalg.qr(torch.tensor(x)).Q, rtol=1e-4, atol=1e-5)
    a, tau = rand(4, 3, seed=31, dtype="float64"), rand(2, seed=32, dtype="float64")
    check_gradcheck(lambda m, a, t: m.linalg.householder_product(a, t), inputs=[a, tau])


def test_householder_product_errors():
    a = ember.tensor(rand(4, 3))
    cases = [
        (ember.tensor(rand(4)), ember.tensor(rand(2)), "input must have at least 2 dimensions"),
        (ember.tensor(rand(3, 4)), ember.tensor(rand(2)), r"input\.shape\[-2\] must be greater"),
        (a, ember.tensor(rand(4)), r"input\.shape\[-1\] must be greater than or equal to tau"),
        (a, ember.tensor(rand(2, 2)), "Expected tau to have one dimension less than input"),
        (ember.tensor(rand(2, 4, 3)), ember.tensor(rand(3, 2)), "Expected batch dimensions"),
        (a, ember.tensor(rand(2, dtype="float64")), "tau dtype Double does not match input dtype"),
    ]
    for x, t, message in cases:
        with pytest.raises(RuntimeError, match=message):
            elinalg.householder_product(x, t)
    ints = ember.ones(3, 3, dtype=ember.int64)
    with pytest.raises(NotImplementedError, match="orgqr_cpu"):
        elinalg.householder_product(ints, ember.ones(2, dtype=ember.int64))


def test_empty_inputs():
    cases = [
        lambda m, x: m.linalg.matrix_power(x[:0], 2),
        lambda m, x: tuple(m.linalg.lu_factor(x[:0])),
        lambda m, x: tuple(m.linalg.lu_factor(x[0, :, :0])),
        lambda m, x: m.linalg.matrix_exp(x[:0]),
        lambda m, x: m.linalg.pinv(x[0, :, :0]),
        lambda m, x: m.linalg.solve_triangular(x[0, :0, :0], x[0, :0, :2], upper=True),
    ]
    for fn in cases:
        check_op(fn, (2, 3, 3), grad=False)


def test_tensor_tolerances():
    a = rand(2, 3, 2, seed=33)
    atol = np.array([0.1, 5.0], "float32")
    e = elinalg.matrix_rank(ember.tensor(a), atol=ember.tensor(atol))
    assert_same(e, torch.linalg.matrix_rank(torch.tensor(a), atol=torch.tensor(atol)))
    rtol = np.array(0.01, "float32")
    e = elinalg.pinv(ember.tensor(a), atol=ember.tensor(atol), rtol=ember.tensor(rtol))
    t = torch.linalg.pinv(torch.tensor(a), atol=torch.tensor(atol), rtol=torch.tensor(rtol))
    assert_same(e, t, rtol=1e-3, atol=1e-4)
