"""select_scatter, slice_scatter, diagonal_scatter, index_reduce and put vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops.scatter_views import (
    diagonal_scatter,
    index_reduce,
    put,
    select_scatter,
    slice_scatter,
)
from tests.helpers import check_gradcheck, check_op

OPS = {
    "diagonal_scatter": diagonal_scatter,
    "index_reduce": index_reduce,
    "put": put,
    "select_scatter": select_scatter,
    "slice_scatter": slice_scatter,
}

pytestmark = pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")


def op(m, name):
    return OPS[name] if m is ember else getattr(torch, name)


def tensor(m, values, dtype=None):
    return m.tensor(values, dtype=dtype) if dtype is not None else m.tensor(values)


# -- select_scatter ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,src,dim,index",
    [((3, 4), (4,), 0, 1), ((3, 4), (3,), 1, -1), ((2, 3, 4), (2, 4), 1, 2), ((5,), (), 0, 3)],
)
def test_select_scatter(shape, src, dim, index):
    check_op(lambda m, x, s: op(m, "select_scatter")(x, s, dim, index), shape, src)


def test_select_scatter_noncontiguous_gradcheck_dtype():
    check_op(lambda m, x, s: op(m, "select_scatter")(x.T, s[::2], 0, 2), (4, 3), (8,))
    check_op(lambda m, x, s: op(m, "select_scatter")(x, s.double(), 0, 0), (3, 4), (4,))
    check_op(lambda m, x, s: op(m, "select_scatter")(x, s, 1, 0), (2, 3), (2,), dtype="int64")
    check_gradcheck(lambda m, x, s: op(m, "select_scatter")(x, s, 1, 1), (2, 3), (2,))


def test_select_scatter_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"src size = \[3\], slice size = \[4\]"):
        select_scatter(x, ember.ones(3), 0, 1)
    with pytest.raises(IndexError, match=r"select\(\): index 5 out of range for tensor of size"):
        select_scatter(x, ember.ones(4), 0, 5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        select_scatter(x, ember.ones(4), 2, 0)
    with pytest.raises(IndexError, match="cannot be applied to a 0-dim tensor"):
        select_scatter(ember.zeros(()), ember.ones(()), 0, 0)


# -- slice_scatter ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,src,kwargs",
    [
        ((3, 4), (1, 4), {"start": 1, "end": 2}),
        ((3, 4), (3, 2), {"dim": 1, "step": 2}),
        ((3, 4), (3, 4), {"dim": -1, "start": -10, "end": 100}),
        ((3, 4), (3, 1), {"dim": 1, "start": -1}),
        ((2, 5, 3), (2, 2, 3), {"dim": 1, "start": 1, "end": 5, "step": 3}),
        ((3, 4), (0, 4), {"start": 2, "end": 1}),
    ],
)
def test_slice_scatter(shape, src, kwargs):
    check_op(lambda m, x, s: op(m, "slice_scatter")(x, s, **kwargs), shape, src)


def test_slice_scatter_noncontiguous_gradcheck_dtype():
    check_op(lambda m, x, s: op(m, "slice_scatter")(x.T, s.T, 1, 0, 2), (4, 3), (2, 3))
    check_op(lambda m, x, s: op(m, "slice_scatter")(x, s.long(), 1), (3, 4), (3, 4), grad=False)
    check_gradcheck(lambda m, x, s: op(m, "slice_scatter")(x, s, 1, step=2), (2, 3), (2, 2))


def test_slice_scatter_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        slice_scatter(x, ember.ones(3, 4), 1, step=0)
    with pytest.raises(RuntimeError, match="slice step must be positive"):
        slice_scatter(x, ember.ones(3, 4), 1, step=-1)
    with pytest.raises(RuntimeError, match=r"src size = \[3, 3\], slice size = \[3, 2\]"):
        slice_scatter(x, ember.ones(3, 3), 1, step=2)


# -- diagonal_scatter -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,src,args",
    [
        ((3, 4), (3,), (0, 0, 1)),
        ((3, 4), (3,), (1, 0, 1)),
        ((3, 4), (2,), (-1,)),
        ((3, 4), (3,), (0, 1, 0)),
        ((2, 3, 4), (3, 2), (0, 0, 2)),
        ((2, 3, 4), (2, 2), (1, -1, 1)),
        ((2, 3, 4), (4, 0), (5, 0, 1)),
    ],
)
def test_diagonal_scatter(shape, src, args):
    check_op(lambda m, x, s: op(m, "diagonal_scatter")(x, s, *args), shape, src)


def test_diagonal_scatter_noncontiguous_gradcheck():
    check_op(lambda m, x, s: op(m, "diagonal_scatter")(x.T, s[1:], -1), (3, 4), (4,))
    check_gradcheck(lambda m, x, s: op(m, "diagonal_scatter")(x, s, 1, 2, 0), (3, 2, 2), (2, 2))


def test_diagonal_scatter_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"src size = \[2\], slice size = \[3\]"):
        diagonal_scatter(x, ember.ones(2), 1)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 1, 1"):
        diagonal_scatter(x, ember.ones(3), 0, 1, -1)


# -- index_reduce -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    idx = np.array([0, 2, 0, 3])

    def fn(m, x, s):
        return op(m, "index_reduce")(x, 1, tensor(m, idx), s, reduce, include_self=include_self)

    check_op(fn, (3, 5), (3, 4))


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_ties_and_zeros(reduce, include_self):
    # NOTE: with include_self=False PyTorch still counts ties with the (excluded) self value
    # when it splits an amax/amin gradient; Ember splits among the sources only, so here
    # self never ties with the result when it is excluded.
    self_value = 2.0 if include_self else (-9.0 if reduce == "amax" else 9.0)
    x = np.array([[1.0, self_value], [3.0, 0.0], [5.0, 6.0]], dtype=np.float32)
    s = np.array([[2.0, 2.0], [0.0, 3.0], [4.0, 2.0]], dtype=np.float32)
    idx = np.array([0, 2, 0])

    def fn(m, a, b):
        return op(m, "index_reduce")(a, 0, tensor(m, idx), b, reduce, include_self=include_self)

    check_op(fn, inputs=[x, s])


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax"])
def test_index_reduce_gradcheck(reduce):
    idx = np.array([1, 0, 1])

    def fn(m, x, s):
        return op(m, "index_reduce")(x, 0, tensor(m, idx), s, reduce)

    check_gradcheck(fn, (2, 3), (3, 3), low=0.5, high=2, second_order=reduce != "amax")


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce_ints_noncontiguous_scalar(reduce, include_self):
    x = np.array([[1, -2, 3], [4, 5, -6]])
    s = np.array([[5, 6], [-7, 2]])

    def fn(m, a, b):
        idx = tensor(m, [2, 2], dtype=m.int32)
        return op(m, "index_reduce")(a, -1, idx, b, reduce, include_self=include_self)

    check_op(fn, inputs=[x, s], dtype="int64")
    check_op(
        lambda m, a, b: op(m, "index_reduce")(a.T, 0, tensor(m, [1, 0]), b.T, reduce),
        (3, 2),
        (3, 2),
    )
    check_op(
        lambda m, a, b: op(m, "index_reduce")(a, 0, tensor(m, 0), b, reduce),
        inputs=[np.float32(2.0), np.float32(5.0)],
    )


def test_index_reduce_errors():
    x, s, i = ember.ones(3, 2), ember.ones(3, 2), ember.tensor([0, 2, 0])
    with pytest.raises(RuntimeError, match="Expected reduce to be one of prod, mean, amax or amin"):
        index_reduce(x, 0, i, s, "sum")
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index but got: Float"):
        index_reduce(x, 0, i.float(), s, "prod")
    with pytest.raises(IndexError, match="Index is supposed to be a vector, but got dim: 2"):
        index_reduce(x, 0, ember.tensor([[0]]), s, "prod")
    with pytest.raises(IndexError, match="index out of range in self"):
        index_reduce(x, 0, ember.tensor([0, 5, 1]), s, "prod")
    with pytest.raises(IndexError, match="index out of range in self"):
        index_reduce(x, 0, ember.tensor([0, -1, 1]), s, "prod")
    with pytest.raises(RuntimeError, match=r"Number of indices \(2\) should be equal to"):
        index_reduce(x, 0, ember.tensor([0, 1]), s, "prod")
    with pytest.raises(RuntimeError, match=r"self \(Float\) and source \(Double\) must have"):
        index_reduce(x, 0, i, s.double(), "prod")
    with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
        index_reduce(x, 0, i, s[:, :1], "prod")
    with pytest.raises(NotImplementedError, match="\"index_func_\" not implemented for 'Bool'"):
        index_reduce(ember.tensor([True]), 0, ember.tensor([0]), ember.tensor([False]), "amax")


# -- put --------------------------------------------------------------------------------------
@pytest.mark.parametrize("accumulate", [False, True])
def test_put(accumulate):
    idx = np.array([[0, -1], [4, 7]])

    def fn(m, x, s):
        return op(m, "put")(x, tensor(m, idx), s, accumulate)

    check_op(fn, (2, 4), (4,))
    check_op(lambda m, x, s: op(m, "put")(x.T, tensor(m, idx), s.T, accumulate), (4, 2), (2, 2))


def test_put_accumulate_repeats_gradcheck_ints():
    idx = np.array([1, 1, -5, 3])

    def fn(m, x, s):
        return op(m, "put")(x, tensor(m, idx), s, accumulate=True)

    check_op(fn, (5,), (4,))
    check_op(fn, (5,), (4,), dtype="int64", low=-9, high=9)
    check_gradcheck(fn, (5,), (4,))
    check_gradcheck(
        lambda m, x, s: op(m, "put")(x, tensor(m, [0, 3]), s), (2, 2), (2,)
    )  # distinct indices: the overwrite is well defined


def test_put_scalar_and_empty():
    check_op(lambda m, x, s: op(m, "put")(x, tensor(m, [0, 0]), s, True), (), (2,))
    check_op(lambda m, x, s: op(m, "put")(x, tensor(m, [], dtype=m.int64), s), (0,), (0,))


def test_put_errors():
    x = ember.zeros(2, 3)
    v = ember.tensor([1.0, 2.0])
    with pytest.raises(IndexError, match="tried to access index 6 on a tensor of 6 elements"):
        put(x, ember.tensor([0, 6]), v)
    with pytest.raises(IndexError, match="tried to access index -7 on a tensor of 6 elements"):
        put(x, ember.tensor([0, -7]), v)
    with pytest.raises(IndexError, match=r"source.numel\(\) = 3, index.numel\(\) = 2"):
        put(x, ember.tensor([0, 1]), ember.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(RuntimeError, match="Expected a long tensor for index, but got Int"):
        put(x, ember.tensor([0, 1], dtype=ember.int32), v)
    with pytest.raises(RuntimeError, match=r"self\.dtype = Float and source\.dtype = Double"):
        put(x, ember.tensor([0, 1]), v.double())
    with pytest.raises(IndexError, match="Tried to put elements into an empty tensor"):
        put(ember.zeros(0), ember.tensor([0]), ember.tensor([1.0]))
    with pytest.raises(TypeError, match=r"argument 'index' \(position 2\) must be Tensor"):
        put(x, 1, ember.tensor([1.0]))
