"""Triangular, LU and Cholesky solvers vs PyTorch: values, dtypes, gradients, errors."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ember
import ember.linalg as elinalg
from ember.ops import solvers
from ember.ops.lu import lu, lu_solve, lu_unpack
from tests.helpers import assert_same, check_gradcheck, check_op

# The torch.* functions under test (ops/solvers.py and ops/lu.py).
OURS = SimpleNamespace(
    **{name: getattr(solvers, name) for name in solvers.__all__},
    lu=lu,
    lu_solve=lu_solve,
    lu_unpack=lu_unpack,
)


def top(m):
    """The torch.* namespace of the modules under test."""
    return OURS if m is ember else m


def well_conditioned(*shape, seed=0, dtype="float32"):
    """Random matrices plus n * I, so that solves and LU are well conditioned."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    return (rng.uniform(-1, 1, shape) + n * np.eye(shape[-2], n)).astype(dtype)


def sym_spd(m, a):
    """An SPD matrix built from any square a, differentiably (for gradcheck of full a)."""
    return a @ a.mT + a.shape[-1] * m.eye(a.shape[-1], dtype=a.dtype)


def spd(*shape, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


def rand(*shape, seed=1, dtype="float32"):
    return np.random.default_rng(seed).uniform(-2, 2, shape).astype(dtype)


# -- solve_triangular / triangular_solve ---------------------------------------------------------
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular(upper, left, unit):
    a, b = well_conditioned(2, 4, 4), rand(2, 4, 3) if left else rand(2, 3, 4)
    check_op(
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit),
        inputs=[a, b],
    )


def test_solve_triangular_broadcast_noncontiguous():
    a, b = well_conditioned(4, 4), rand(3, 2, 4)
    check_op(
        lambda m, a, b: m.linalg.solve_triangular(a.T, b.transpose(-1, -2)[..., 1:], upper=True),
        inputs=[a, b],
    )


def test_solve_triangular_float64_and_promotion():
    a, b = well_conditioned(3, 3, dtype="float64"), rand(3, 2, dtype="float64")
    check_op(
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False), inputs=[a, b], dtype="float64"
    )
    e = elinalg.solve_triangular(ember.tensor(a).float(), ember.tensor(b), upper=True)
    t = torch.linalg.solve_triangular(torch.tensor(a).float(), torch.tensor(b), upper=True)
    assert_same(e, t)


@pytest.mark.parametrize("left", [True, False])
def test_solve_triangular_gradcheck(left):
    a, b = well_conditioned(3, 3, dtype="float64"), rand(3, 2, dtype="float64")
    b = b if left else b.T.copy()
    check_gradcheck(
        lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True, left=left), inputs=[a, b]
    )


@pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")
@pytest.mark.parametrize("transpose", [True, False])
@pytest.mark.parametrize("upper", [True, False])
def test_triangular_solve(transpose, upper):
    a, b = well_conditioned(2, 3, 3), rand(2, 3, 2)
    check_op(
        lambda m, b, a: top(m).triangular_solve(b, a, upper=upper, transpose=transpose),
        inputs=[b, a],
    )


def test_triangular_solve_unitriangular_gradcheck():
    a, b = well_conditioned(3, 3, dtype="float64"), rand(3, 2, dtype="float64")
    check_gradcheck(
        lambda m, b, a: top(m).triangular_solve(b, a, unitriangular=True)[0], inputs=[b, a]
    )


@pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")
@pytest.mark.parametrize("upper", [True, False])
def test_solve_triangular_singular_gives_inf_nan(upper):
    a = well_conditioned(2, 3, 3)
    a[0, 1, 1] = 0.0  # one singular matrix in the batch
    a[1] = 0.0  # and an all-zero one
    b = rand(2, 3, 2)
    e = elinalg.solve_triangular(ember.tensor(a), ember.tensor(b), upper=upper)
    t = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=upper)
    assert_same(e, t)
    e = elinalg.solve_triangular(ember.tensor(a), ember.tensor(b).mT, upper=upper, left=False)
    t = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b).mT, upper=upper, left=False)
    assert_same(e, t)
    e = solvers.triangular_solve(ember.tensor(b), ember.tensor(a), upper=upper, transpose=True)
    t = torch.triangular_solve(torch.tensor(b), torch.tensor(a), upper=upper, transpose=True)
    assert_same(tuple(e), tuple(t))


def test_solve_triangular_errors():
    a, b = ember.tensor(well_conditioned(3, 3)), ember.tensor(rand(4, 2))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B .* \(3x3 and 4x2\)"):
        elinalg.solve_triangular(a, b, upper=True)
    with pytest.raises(RuntimeError, match="B must have at least 2 dimensions"):
        elinalg.solve_triangular(a, ember.tensor(rand(3)), upper=True)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        elinalg.solve_triangular(ember.tensor(rand(2, 3)), b, upper=True)
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for triangular_solve"):
        solvers.triangular_solve(b, a)
    with pytest.raises(RuntimeError, match="Expected b to have at least 2 dimensions"):
        solvers.triangular_solve(ember.tensor(rand(3)), a)
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype"):
        solvers.triangular_solve(ember.tensor(rand(3, 2, dtype="float64")), a)
    with pytest.raises(NotImplementedError, match="triangular_solve_cpu"):
        elinalg.solve_triangular(ember.eye(3, dtype=ember.int64), ember.ones(3, 2), upper=True)
    with pytest.raises(NotImplementedError, match="triangular_solve_cpu"):
        solvers.triangular_solve(
            ember.ones(3, 2, dtype=ember.int64), ember.eye(3, dtype=ember.int64)
        )


# -- LU ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5), (2, 1, 4, 2)])
def test_lu(shape):
    a = rand(*shape, seed=3)
    check_op(lambda m, a: tuple(m.linalg.lu(a)), inputs=[a], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3), (5, 3), (3, 5)])
def test_lu_factor(shape):
    a = rand(*shape, seed=4)
    check_op(lambda m, a: tuple(m.linalg.lu_factor(a)), inputs=[a], rtol=1e-3, atol=1e-4)


def test_lu_factor_noncontiguous_float64():
    a = rand(5, 4, seed=5, dtype="float64")
    check_op(lambda m, a: tuple(m.linalg.lu_factor(a.T[:, 1:])), inputs=[a], dtype="float64")


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_lu_gradcheck(shape):
    a = rand(*shape, seed=6, dtype="float64")
    check_gradcheck(lambda m, a: tuple(m.linalg.lu(a))[1:], inputs=[a])
    check_gradcheck(lambda m, a: m.linalg.lu_factor(a)[0], inputs=[a], second_order=False)


@pytest.mark.parametrize("which", [1, 2])
def test_lu_single_output_grads(which):
    """Only L, or only U, used: the other gradient is missing (None) in backward."""
    a = rand(3, 4, seed=7)
    check_op(lambda m, a: m.linalg.lu(a)[which], inputs=[a], rtol=1e-3, atol=1e-4)
    check_op(lambda m, a: m.linalg.lu(a.T)[which], inputs=[a], rtol=1e-3, atol=1e-4)


def test_lu_factor_ex_singular_info():
    s = np.array([[[1, 2, 3], [2, 4, 6], [1, 1, 1]], [[2, 0, 0], [0, 1, 0], [0, 0, 1]]], "float32")
    e, t = elinalg.lu_factor_ex(ember.tensor(s)), torch.linalg.lu_factor_ex(torch.tensor(s))
    assert_same(tuple(e), tuple(t))
    assert_same(tuple(elinalg.lu(ember.tensor(s))), tuple(torch.linalg.lu(torch.tensor(s))))
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 0\): U\[3,3\] is zero"):
        elinalg.lu_factor(ember.tensor(s))
    with pytest.raises(ember.linalg.LinAlgError, match=r"lu_factor_ex: .*U\[3,3\] is zero"):
        elinalg.lu_factor_ex(ember.tensor(s), check_errors=True)


@pytest.mark.filterwarnings("ignore:torch.lu is deprecated")
def test_lu_top_level():
    a = rand(2, 4, 3, seed=11)
    check_op(lambda m, a: top(m).lu(a), inputs=[a], rtol=1e-3, atol=1e-4)
    s = np.stack([rand(3, 3, seed=12), SINGULAR])
    e = OURS.lu(ember.tensor(s), get_infos=True)
    t = torch.lu(torch.tensor(s), get_infos=True)
    assert_same(tuple(e), tuple(t))
    with pytest.raises(RuntimeError, match="LU without pivoting is not implemented"):
        OURS.lu(ember.tensor(s), pivot=False)


def test_lu_errors():
    a = ember.tensor(rand(3, 3))
    for fn in (elinalg.lu, elinalg.lu_factor, elinalg.lu_factor_ex):
        with pytest.raises(RuntimeError, match="LU without pivoting is not implemented"):
            fn(a, pivot=False)
    with pytest.raises(RuntimeError, match=r"linalg\.lu: Expected tensor with 2 or more dim"):
        elinalg.lu(ember.tensor(rand(3)))
    for fn in (elinalg.lu_factor, elinalg.lu_factor_ex, OURS.lu):
        with pytest.raises(RuntimeError, match=r"torch\.lu_factor: Expected tensor with 2 or more"):
            fn(ember.tensor(rand(3)))
        with pytest.raises(NotImplementedError, match="\"lu_cpu\" not implemented for 'Long'"):
            fn(ember.ones(2, 2, dtype=ember.int64))


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(left, adjoint):
    a, b = rand(2, 4, 4, seed=8), rand(2, 4, 3) if left else rand(2, 3, 4)

    def fn(m, a, b):
        lu, piv = m.linalg.lu_factor(a)
        return m.linalg.lu_solve(lu, piv, b, left=left, adjoint=adjoint)

    check_op(fn, inputs=[a, b], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_gradcheck(left, adjoint):
    a, b = well_conditioned(3, 3, dtype="float64"), rand(3, 2, dtype="float64")
    b = b if left else b.T.copy()
    piv = elinalg.lu_factor(ember.tensor(a))[1]

    def fn(m, lu, b):
        return m.linalg.lu_solve(lu, piv, b, left=left, adjoint=adjoint)

    check_gradcheck(fn, inputs=[a, b], second_order=left and not adjoint)


@pytest.mark.filterwarnings("ignore:torch.lu_solve is deprecated")
def test_lu_solve_top_level_and_unpack():
    a, b = rand(2, 3, 3, seed=9), rand(2, 3, 2)

    def fn(m, a, b):
        lu, piv = m.linalg.lu_factor(a)
        return top(m).lu_solve(b, lu, piv), *top(m).lu_unpack(lu, piv)

    check_op(fn, inputs=[a, b], rtol=1e-3, atol=1e-4)
    for shape in [(4, 2), (2, 4)]:
        x = rand(*shape, seed=10)

        def unpack(m, x):
            return tuple(top(m).lu_unpack(*m.linalg.lu_factor(x)))

        check_op(unpack, inputs=[x], rtol=1e-3, atol=1e-4)


def test_lu_unpack_flags():
    lu, piv = elinalg.lu_factor(ember.tensor(rand(3, 3)))
    tlu, tpiv = torch.tensor(lu.data), torch.tensor(piv.data)
    for data, pivots in [(False, True), (True, False)]:
        e = OURS.lu_unpack(lu, piv, unpack_data=data, unpack_pivots=pivots)
        t = torch.lu_unpack(tlu, tpiv, unpack_data=data, unpack_pivots=pivots)
        assert_same(tuple(e), tuple(t))


def test_lu_solve_errors():
    lu, piv = elinalg.lu_factor(ember.tensor(rand(3, 3)))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes .* \(3x3 and 4x2\)"):
        elinalg.lu_solve(lu, piv, ember.tensor(rand(4, 2)))
    with pytest.raises(RuntimeError, match="Expected LU and B to have the same dtype"):
        elinalg.lu_solve(lu, piv, ember.tensor(rand(3, 2, dtype="float64")))
    with pytest.raises(RuntimeError, match="LU_pivots is expected to be a contiguous tensor"):
        elinalg.lu_solve(lu, piv.long(), ember.tensor(rand(3, 2)))
    with pytest.raises(RuntimeError, match=r"must be between 1 and LU\.size"):
        OURS.lu_unpack(lu, ember.tensor(np.array([1, 2, 7], "int32")))
    with pytest.raises(RuntimeError, match="Expected tensor with 2 or more dimensions"):
        OURS.lu_unpack(ember.tensor(rand(3)), piv)


# -- Cholesky solves -----------------------------------------------------------------------------
@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_solve(upper):
    a, b = spd(2, 4, 4), rand(2, 4, 3)

    def fn(m, a, b):
        factor = m.linalg.cholesky(a, upper=upper)
        return top(m).cholesky_solve(b, factor, upper=upper)

    check_op(fn, inputs=[a, b], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_solve_factor_grad(upper):
    """The gradient of the factor itself (a leaf), PyTorch's unmasked formula; broadcasting B."""
    factor = np.linalg.cholesky(spd(3, 3))
    factor = (factor.T if upper else factor).copy()
    check_op(
        lambda m, b, f: top(m).cholesky_solve(b, f, upper=upper),
        inputs=[rand(2, 3, 2), factor],
        rtol=1e-3,
        atol=1e-4,
    )


def test_cholesky_solve_gradcheck():
    a, b = rand(3, 3, dtype="float64"), rand(3, 2, dtype="float64")

    def fn(m, a, b):
        return top(m).cholesky_solve(b, m.linalg.cholesky(sym_spd(m, a)))

    check_gradcheck(fn, inputs=[a, b])


@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_inverse(upper):
    a = spd(2, 3, 3)
    check_op(
        lambda m, a: top(m).cholesky_inverse(m.linalg.cholesky(a, upper=upper), upper=upper),
        inputs=[a],
        rtol=1e-3,
        atol=1e-4,
    )
    check_gradcheck(
        lambda m, a: top(m).cholesky_inverse(
            m.linalg.cholesky(sym_spd(m, a), upper=upper), upper=upper
        ),
        inputs=[rand(3, 3, dtype="float64")],
    )


def test_cholesky_solve_errors():
    f = ember.tensor(np.linalg.cholesky(spd(4, 4)))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes for cholesky_solve"):
        solvers.cholesky_solve(ember.tensor(rand(3, 2)), f)
    with pytest.raises(RuntimeError, match="b should have at least 2 dimensions"):
        solvers.cholesky_solve(ember.tensor(rand(4)), f)
    with pytest.raises(RuntimeError, match="Expected b and A to have the same dtype"):
        solvers.cholesky_solve(ember.tensor(rand(4, 2, dtype="float64")), f)
    with pytest.raises(RuntimeError, match="A must be batches of square matrices"):
        solvers.cholesky_inverse(ember.tensor(rand(2, 3)))
    ints = ember.ones(3, 3, dtype=ember.int64)
    with pytest.raises(NotImplementedError, match="cholesky_solve_cpu"):
        solvers.cholesky_solve(ints, ints)
    with pytest.raises(NotImplementedError, match="cholesky_inverse_out_cpu"):
        solvers.cholesky_inverse(ints)


# -- the _ex variants ----------------------------------------------------------------------------
SINGULAR = np.array([[1, 2, 3], [2, 4, 6], [1, 1, 1]], "float32")


def test_inv_ex():
    a = well_conditioned(2, 3, 3)
    check_op(lambda m, a: tuple(m.linalg.inv_ex(a)), inputs=[a], rtol=1e-4, atol=1e-5)
    batch = np.stack([a[0], SINGULAR])
    e, t = elinalg.inv_ex(ember.tensor(batch)), torch.linalg.inv_ex(torch.tensor(batch))
    assert_same(e.info, t.info)
    assert_same(e.inverse[0], t.inverse[0])
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 1\): The diagonal elem"):
        elinalg.inv_ex(ember.tensor(batch), check_errors=True)


def test_solve_ex():
    a, b = well_conditioned(2, 3, 3), rand(2, 3, 2)
    check_op(lambda m, a, b: tuple(m.linalg.solve_ex(a, b)), inputs=[a, b])
    check_op(lambda m, a, b: m.linalg.solve_ex(a, b.mT, left=False)[0], inputs=[a, b])
    batch = np.stack([a[0], SINGULAR])
    e = elinalg.solve_ex(ember.tensor(batch), ember.tensor(b))
    t = torch.linalg.solve_ex(torch.tensor(batch), torch.tensor(b))
    assert_same(e.info, t.info)
    with pytest.raises(ember.linalg.LinAlgError, match=r"\(Batch element 1\): The solver failed"):
        elinalg.solve_ex(ember.tensor(batch), ember.tensor(b), check_errors=True)


@pytest.mark.parametrize("upper", [True, False])
def test_cholesky_ex(upper):
    a = spd(2, 3, 3)
    check_op(lambda m, a: tuple(m.linalg.cholesky_ex(a, upper=upper)), inputs=[a], rtol=1e-3)
    batch = np.stack([a[0], SINGULAR, -a[1]])
    e = elinalg.cholesky_ex(ember.tensor(batch), upper=upper)
    t = torch.linalg.cholesky_ex(torch.tensor(batch), upper=upper)
    assert_same(e.info, t.info)
    assert_same(e.L[0], t.L[0])
    with pytest.raises(ember.linalg.LinAlgError, match=r"cholesky_ex: \(Batch element 1\)"):
        elinalg.cholesky_ex(ember.tensor(batch), check_errors=True)


def test_ex_errors():
    ints = ember.ones(3, 3, dtype=ember.int64)
    with pytest.raises(RuntimeError, match=r"linalg\.inv: Expected a floating point"):
        elinalg.inv_ex(ints)
    with pytest.raises(RuntimeError, match=r"linalg\.cholesky: Expected a floating point"):
        elinalg.cholesky_ex(ints)
    with pytest.raises(RuntimeError, match=r"linalg\.solve: The input tensor A must have at least"):
        elinalg.solve_ex(ember.tensor(rand(3)), ember.tensor(rand(3)))
