"""cartesian_prod, combinations, block_diag, diagflat, vander, isin, bucketize, unravel_index."""

import numpy as np
import pytest
import torch

import ember
from ember.ops.combinatorics import (
    block_diag,
    bucketize,
    cartesian_prod,
    combinations,
    diagflat,
    isin,
    unravel_index,
    vander,
)
from tests.helpers import assert_same, check_gradcheck, check_op

OPS = {
    "block_diag": block_diag,
    "bucketize": bucketize,
    "cartesian_prod": cartesian_prod,
    "combinations": combinations,
    "diagflat": diagflat,
    "isin": isin,
    "unravel_index": unravel_index,
    "vander": vander,
}


def op(m, name):
    return OPS[name] if m is ember else getattr(torch, name)


def both(fn, *arrays):
    e = fn(ember, *(ember.tensor(a) for a in arrays))
    t = fn(torch, *(torch.tensor(a) for a in arrays))
    assert_same(e, t)


# -- cartesian_prod ---------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((3,),), ((3,), (2,)), ((2,), (3,), (2,)), ((0,), (3,))])
def test_cartesian_prod(shapes):
    check_op(lambda m, *xs: op(m, "cartesian_prod")(*xs), *shapes)


def test_cartesian_prod_noncontiguous_and_ints():
    check_op(lambda m, x, y: op(m, "cartesian_prod")(x[:, 1], y[::2]), (3, 2), (5,))
    both(lambda m, x, y: op(m, "cartesian_prod")(x, y), np.arange(3), np.arange(4, 6))
    check_gradcheck(lambda m, x, y: op(m, "cartesian_prod")(x, y), (3,), (2,))


def test_cartesian_prod_errors():
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[2, 2\]"):
        cartesian_prod(ember.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[\]"):
        cartesian_prod(ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
        cartesian_prod()
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        cartesian_prod(ember.tensor([1]), ember.tensor([1.0]))


# -- combinations -----------------------------------------------------------------------------
@pytest.mark.parametrize("r", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("with_replacement", [False, True])
def test_combinations(r, with_replacement):
    check_op(lambda m, x: op(m, "combinations")(x, r, with_replacement), (4,))


def test_combinations_ints_noncontiguous_gradcheck():
    both(lambda m, x: op(m, "combinations")(x, r=3), np.arange(5))
    check_op(lambda m, x: op(m, "combinations")(x[1, ::2]), (2, 8))
    check_gradcheck(lambda m, x: op(m, "combinations")(x, 2, True), (3,))


def test_combinations_errors():
    with pytest.raises(RuntimeError, match="Expect a non-negative number, but got -1"):
        combinations(ember.tensor([1, 2]), -1)
    with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[2, 2\]"):
        combinations(ember.ones(2, 2))


# -- block_diag -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes", [((2, 3),), ((), (3,), (2, 2)), ((0, 2), (2, 0)), ((1, 1), (3, 2), (4,))]
)
def test_block_diag(shapes):
    check_op(lambda m, *xs: op(m, "block_diag")(*xs), *shapes)


def test_block_diag_noncontiguous_gradcheck():
    check_op(lambda m, x, y: op(m, "block_diag")(x.T, y[1:, ::2]), (3, 2), (3, 4))
    check_gradcheck(lambda m, x, y, z: op(m, "block_diag")(x, y, z), (), (2,), (2, 3))


@pytest.mark.parametrize(
    "dtypes",
    [("int64", "float16"), ("bool", "int32"), ("float64", "float32"), ("int8", "uint8")],
)
def test_block_diag_promotion(dtypes):
    a = np.array([[1, 0], [1, 1]]).astype(dtypes[0])
    b = np.array([1, 0, 1]).astype(dtypes[1])
    both(lambda m, x, y: op(m, "block_diag")(x, y), a, b)
    both(lambda m, x, y: op(m, "block_diag")(x[0, 0], y), a, b)  # 0-d takes part by category


def test_block_diag_empty_and_errors():
    assert_same(block_diag(), torch.block_diag())
    with pytest.raises(RuntimeError, match="Input 1 has 3 dimensions"):
        block_diag(ember.ones(2), ember.ones(1, 2, 2))
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0"):
        block_diag(ember.ones(2), 2)


# -- diagflat ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3,), (2, 2), (), (0,)])
@pytest.mark.parametrize("offset", [0, 1, -2])
def test_diagflat(shape, offset):
    check_op(lambda m, x: op(m, "diagflat")(x, offset), shape)


def test_diagflat_noncontiguous_gradcheck():
    check_op(lambda m, x: op(m, "diagflat")(x.T, 1), (2, 3))
    check_gradcheck(lambda m, x: op(m, "diagflat")(x, -1), (2, 2))


# -- vander -----------------------------------------------------------------------------------
def vander_grad_oracle(m, x, N=None, increasing=False):
    """torch.vander's own backward fails in torch 2.13 (an in-place version error), so the
    gradient oracle on the torch side is the same matrix built from powers."""
    if m is ember:
        return vander(x, N, increasing)
    N = x.shape[0] if N is None else N
    powers = range(N) if increasing else range(N - 1, -1, -1)
    return torch.stack([x**k for k in powers], 1) if N else x[:, None].expand(-1, 0)


@pytest.mark.parametrize("N", [None, 0, 1, 2, 5])
@pytest.mark.parametrize("increasing", [False, True])
def test_vander(N, increasing):
    check_op(lambda m, x: op(m, "vander")(x, N, increasing), (4,), grad=False)
    check_op(lambda m, x: vander_grad_oracle(m, x, N, increasing), (4,))


def test_vander_zero_input_grad_and_gradcheck():
    x = np.array([0.0, 1.5, -2.0], dtype=np.float32)
    check_op(lambda m, a: vander_grad_oracle(m, a, 4), inputs=[x])
    check_op(lambda m, a: op(m, "vander")(a[::2], N=3, increasing=True), (5,), grad=False)
    check_op(lambda m, a: vander_grad_oracle(m, a[::2], N=3, increasing=True), (5,))
    check_gradcheck(lambda m, a: op(m, "vander")(a, 4), (3,))


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "float64", "uint8"])
def test_vander_dtypes(dtype):
    both(lambda m, x: op(m, "vander")(x, 3), np.array([1, 0, 2]).astype(dtype))


def test_vander_errors():
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor"):
        vander(ember.ones(2, 2))
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor"):
        vander(ember.tensor(1.0))
    with pytest.raises(RuntimeError, match="N must be non-negative"):
        vander(ember.ones(2), -1)


# -- isin -------------------------------------------------------------------------------------
@pytest.mark.parametrize("invert", [False, True])
@pytest.mark.parametrize(
    "dtypes", [("int64", "int64"), ("float32", "float64"), ("int32", "float32")]
)
def test_isin(invert, dtypes):
    a = np.array([[1, 2, 3], [4, 5, 6]]).astype(dtypes[0])
    b = np.array([[2, 6, 9]]).astype(dtypes[1])
    both(lambda m, x, y: op(m, "isin")(x, y, invert=invert), a, b)
    both(lambda m, x, y: op(m, "isin")(x.T, y[0, 1:], invert=invert), a, b)
    both(lambda m, x, y: op(m, "isin")(x, 2, invert=invert), a, b)
    both(lambda m, x, y: op(m, "isin")(5, x, invert=invert), a, b)
    both(lambda m, x, y: op(m, "isin")(x, 2.5, invert=invert), a, b)


def test_isin_errors():
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        isin(2, 3)
    with pytest.raises(RuntimeError, match="Unsupported input type encountered for isin"):
        isin(ember.tensor([True]), ember.tensor([1]))


# -- bucketize --------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:torch.searchsorted")  # torch warns on the .T input
@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
def test_bucketize(right, out_int32):
    b = np.array([1.0, 3.0, 5.0, 7.0], dtype=np.float32)
    x = np.array([[0.0, 1.0, 3.0], [4.0, 7.0, 9.0]], dtype=np.float32)
    kw = {"right": right, "out_int32": out_int32}
    both(lambda m, v, bd: op(m, "bucketize")(v, bd, **kw), x, b)
    both(lambda m, v, bd: op(m, "bucketize")(v.T, bd, **kw), x, b)
    both(lambda m, v, bd: op(m, "bucketize")(3, bd, **kw), x, b)
    both(lambda m, v, bd: op(m, "bucketize")(v.long(), bd, **kw), x, b)


def test_bucketize_errors():
    with pytest.raises(
        RuntimeError, match=r"boundaries tensor must be 1 dimension, but got dim\(2\)"
    ):
        bucketize(ember.tensor([1.0]), ember.ones(2, 2))
    with pytest.raises(RuntimeError, match=r"but got dim\(0\)"):
        bucketize(ember.tensor([1.0]), ember.tensor(1.0))


# -- unravel_index ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3), (4,), 6, (2, 1, 3), ()])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_unravel_index(shape, dtype):
    idx = np.array([[0, 5], [3, 1]]).astype(dtype)
    if shape == ():
        idx = np.zeros((2, 2), dtype)
    both(lambda m, i: op(m, "unravel_index")(i, shape), idx)
    both(lambda m, i: op(m, "unravel_index")(i[0, 1], shape), idx)


def test_unravel_index_wraps_as_torch():
    both(lambda m, i: op(m, "unravel_index")(i, (2, 3)), np.array([7, -1, -7, 6]))


def test_unravel_index_errors():
    with pytest.raises(TypeError, match="expected 'indices' to be integer dtype"):
        unravel_index(ember.tensor([1.0]), (2, 3))
    with pytest.raises(TypeError, match="expected 'indices' to be integer dtype"):
        unravel_index(ember.tensor([True]), (2, 3))
    with pytest.raises(ValueError, match=r"'shape' cannot have negative values, but got \(2, -3\)"):
        unravel_index(ember.tensor([1]), (2, -3))
    with pytest.raises(TypeError, match="expected 'shape' sequence to only contain ints"):
        unravel_index(ember.tensor([1]), (2.0, 2))
    with pytest.raises(TypeError, match="expected 'shape' to be int or sequence of ints"):
        unravel_index(ember.tensor([1]), 2.0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        unravel_index(ember.tensor([1]), (2, 0))
