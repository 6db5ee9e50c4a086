"""gather, scatter*, index_select/add/copy/fill and take_along_dim against PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check_gradcheck, check_op


def mod(m):
    return m


def check(fn, *shapes, **kwargs):
    check_op(lambda m, *xs: fn(mod(m), *xs), *shapes, **kwargs)


def gradcheck(fn, *shapes, **kwargs):
    check_gradcheck(lambda m, *xs: fn(mod(m), *xs), *shapes, **kwargs)


IDX = np.array([[0, 2, 2, 1], [3, 0, 0, 0]])  # repeats on purpose


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    index = IDX % 3 if dim == 0 else IDX
    check(lambda m, x: m.gather(x, dim, m.tensor(index)), (3, 4))
    check(lambda m, x: m.gather(x.T.T[:, :], dim, m.tensor(index[:1, :2])), (3, 4))


def test_gather_noncontiguous_int32_and_0d():
    check(lambda m, x: m.gather(x.T, 0, m.tensor(IDX[:, :3], dtype=m.int32)), (3, 4))
    check(lambda m, x: m.gather(x[0, 0], 0, m.tensor(0)), (2, 2))


def test_gather_gradcheck():
    gradcheck(lambda m, x: m.gather(x, 1, m.tensor(IDX[:, :3] % 3)), (2, 3))


def test_gather_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(
            RuntimeError, match="index 4 is out of bounds for dimension 1 with size 3"
        ):
            m.gather(x, 1, m.tensor([[0, 4]]))
        with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 1"):
            m.gather(x, 1, m.tensor([[0, -1]]))
        with pytest.raises(
            RuntimeError, match="gather\\(\\): Expected dtype int32/int64 for index"
        ):
            m.gather(x, 1, m.tensor([[0.0]]))
        with pytest.raises(RuntimeError, match="Index tensor must have the same number of dim"):
            m.gather(x, 1, m.tensor([0]))
        with pytest.raises(
            RuntimeError, match=r"Size does not match at dimension 1 expected index"
        ):
            m.gather(x, 0, m.zeros(3, 4, dtype=m.int64))
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.gather(x, 2, m.zeros(2, 3, dtype=m.int64))


def test_scatter_src_and_value():
    index = np.array([[0, 1, 2], [2, 0, 1]])  # no repeated targets: the result is defined
    check(lambda m, x, s: m.scatter(x, 1, m.tensor(index), s), (2, 4), (2, 3))
    check(lambda m, x, s: m.scatter(x, 0, m.tensor(index % 2), s * 2), (2, 4), (2, 3))
    check(lambda m, x: m.scatter(x.T, 1, m.tensor(index[:, :2] % 2), -2.0), (3, 4))
    check(lambda m, x: m.scatter(x, 1, m.tensor(index), value=0.5), (2, 5))


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_argument():
    index = m_index = np.array([[0, 0, 2]])
    check(
        lambda m, x, s: m.scatter(x, 1, m.tensor(m_index), s, reduce="add"),
        (2, 3),
        (1, 3),
        grad=False,
    )
    check(
        lambda m, x, s: m.scatter(x, 1, m.tensor(index), s, reduce="multiply"),
        (2, 3),
        (1, 3),
        grad=False,
    )
    check(lambda m, x: m.scatter(x, 1, m.tensor(index), 2.0, reduce="multiply"), (2, 3), grad=False)


def test_scatter_gradcheck():
    index = np.array([[0, 1, 2], [2, 0, 1]])
    gradcheck(lambda m, x, s: m.scatter(x, 1, m.tensor(index), s), (2, 3), (2, 3))


def test_scatter_add():
    check(lambda m, x, s: m.scatter_add(x, 1, m.tensor(IDX), s), (2, 4), (2, 4))
    check(lambda m, x, s: m.scatter_add(x.T, 0, m.tensor(IDX[:1, :2] % 2), s), (3, 2), (1, 2))
    gradcheck(lambda m, x, s: m.scatter_add(x, 1, m.tensor(IDX), s), (2, 4), (2, 4))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    def fn(m, x, s):
        return m.scatter_reduce(x, 1, m.tensor(IDX), s, reduce, include_self=include_self)

    check(fn, (2, 5), (2, 4))


def test_scatter_reduce_ties_and_zeros():
    x = np.array([[1.0, 5.0, 0.0, 2.0]], dtype=np.float32)
    s = np.array([[5.0, 5.0, 0.0, 3.0]], dtype=np.float32)
    index = np.array([[1, 1, 3, 2]])
    for reduce in ("amax", "amin", "prod"):
        check(
            lambda m, a, b, r=reduce: m.scatter_reduce(a, 1, m.tensor(index), b, r), inputs=[x, s]
        )


def test_scatter_reduce_integer_mean_rounds_down():
    x, s = np.array([-1, 2, 3]), np.array([-4, -5, 6])
    check(
        lambda m, a, b: m.scatter_reduce(a, 0, m.tensor([0, 0, 1]), b, "mean"),
        inputs=[x, s],
        dtype="int64",
    )


def test_scatter_reduce_gradgradcheck():
    for reduce in ("sum", "mean", "prod"):
        gradcheck(
            lambda m, x, s, r=reduce: m.scatter_reduce(x, 1, m.tensor(IDX), s, r),
            (2, 4),
            (2, 4),
            low=0.5,
            high=2.0,
        )
    for reduce in ("amax", "amin"):
        gradcheck(
            lambda m, x, s, r=reduce: m.scatter_reduce(x, 1, m.tensor(IDX), s, r), (2, 4), (2, 4)
        )


def test_scatter_errors():
    for m in (ember, torch):
        x, ones = m.zeros(2, 3), m.ones(1, 2)
        with pytest.raises(
            RuntimeError, match="index 4 is out of bounds for dimension 1 with size"
        ):
            m.scatter(x, 1, m.tensor([[0, 4]]), ones)
        with pytest.raises(
            RuntimeError, match="scatter\\(\\): Expected dtype int32/int64 for index"
        ):
            m.scatter_add(x, 1, m.tensor([[0.0, 1.0]]), ones)
        with pytest.raises(RuntimeError, match=r"Expected self\.dtype to be equal to src\.dtype"):
            m.scatter(x, 1, m.tensor([[0, 1]]), m.ones(1, 2, dtype=m.float64))
        with pytest.raises(
            RuntimeError, match=r"Expected index \[1, 3\] to be no larger than self"
        ):
            m.scatter_add(x, 1, m.tensor([[0, 1, 2]]), ones)
        with pytest.raises(RuntimeError, match="same number of dimensions as self tensor"):
            m.scatter(x, 1, m.tensor([0, 1]), ones)
        with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
            m.scatter(x, 1, m.tensor([[0, 1]]), 1.0, reduce="max")
        with pytest.raises(RuntimeError, match="must be either sum, prod, mean, amax or amin"):
            m.scatter_reduce(x, 1, m.tensor([[0, 1]]), ones, "foo")


# -- index_select / index_add / index_copy / index_fill --------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim):
    check(lambda m, x: m.index_select(x, dim, m.tensor([2, 0, 2])), (3, 4))
    check(lambda m, x: m.index_select(x.T, dim, m.tensor([1], dtype=m.int32)), (3, 4))
    check(lambda m, x: m.index_select(x, dim, m.tensor(1)), (3, 4))
    gradcheck(lambda m, x: m.index_select(x, dim, m.tensor([1, 1, 0])), (2, 3))


def test_index_select_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="Expected dtype int32 or int64 for index"):
            m.index_select(x, 1, m.tensor([0.0]))
        with pytest.raises(IndexError, match="Index is supposed to be a vector"):
            m.index_select(x, 1, m.tensor([[0]]))
        with pytest.raises(RuntimeError, match="INDICES element is out of DATA bounds, id=3"):
            m.index_select(x, 1, m.tensor([3]))
        with pytest.raises(RuntimeError, match="out of DATA bounds, id=-1 axis_dim=3"):
            m.index_select(x, 1, m.tensor([-1]))


@pytest.mark.parametrize("alpha", [1, -2.5])
def test_index_add(alpha):
    check(lambda m, x, s: m.index_add(x, 1, m.tensor([0, 3, 0]), s, alpha=alpha), (2, 4), (2, 3))
    check(lambda m, x, s: m.index_add(x.T, 0, m.tensor([1, 1]), s.T), (3, 4), (3, 2))
    gradcheck(lambda m, x, s: m.index_add(x, 0, m.tensor([1, 1]), s, alpha=alpha), (2, 3), (2, 3))


def test_index_copy_and_fill():
    check(lambda m, x, s: m.index_copy(x, 1, m.tensor([3, 0]), s), (2, 4), (2, 2))
    check(lambda m, x: m.index_fill(x.T, 0, m.tensor([2, -1, 2]), -3.0), (4, 5))
    check(lambda m, x, v: m.index_fill(x, 1, m.tensor([0, 0, 2]), v.sum()), (2, 3), (2,))
    gradcheck(lambda m, x, s: m.index_copy(x, 1, m.tensor([2, 0]), s), (2, 3), (2, 2))


def test_index_add_copy_fill_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match=r"index_add_\(\): self \(Float\) and source \(Dou"):
            m.index_add(x, 1, m.tensor([0]), m.ones(2, 1, dtype=m.float64))
        with pytest.raises(RuntimeError, match=r"Number of indices \(1\) should be equal to sourc"):
            m.index_add(x, 1, m.tensor([0]), m.ones(2, 2))
        with pytest.raises(RuntimeError, match="source tensor shape must match self tensor shape"):
            m.index_add(x, 1, m.tensor([0]), m.ones(3, 1))
        with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1"):
            m.index_add(x, 1, m.tensor([3]), m.ones(2, 1))
        with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index but got: Flo"):
            m.index_add(x, 1, m.tensor([0.0]), m.ones(2, 1))
        with pytest.raises(RuntimeError, match="index_copy_\\(\\): self and source expected to"):
            m.index_copy(x, 1, m.tensor([0]), m.ones(2, 1, dtype=m.float64))
        with pytest.raises(IndexError, match="index_copy_\\(\\): Number of indices \\(1\\)"):
            m.index_copy(x, 1, m.tensor([0]), m.ones(2, 2))
        with pytest.raises(IndexError, match="index_copy_\\(\\): index -1 is out of bounds"):
            m.index_copy(x, 1, m.tensor([-1]), m.ones(2, 1))
        with pytest.raises(RuntimeError, match="Expected a long tensor for index, but got Int"):
            m.index_copy(x, 1, m.tensor([0], dtype=m.int32), m.ones(2, 1))
        with pytest.raises(IndexError, match="index -4 is out of bounds for dimension 1"):
            m.index_fill(x, 1, m.tensor([-4]), 1.0)
        with pytest.raises(IndexError, match="index_fill_\\(\\): Expected dtype int64 for index"):
            m.index_fill(x, 1, m.tensor([0], dtype=m.int32), 1.0)
        with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
            m.index_fill(x, 1, m.tensor([0]), m.ones(1))


# -- take_along_dim --------------------------------------------------------------------------
def test_take_along_dim():
    check(lambda m, x: m.take_along_dim(x, m.tensor([[0], [2], [1]]), 1), (3, 4))
    check(lambda m, x: m.take_along_dim(x.T, m.tensor([[0, 1, 1, 2, 0]]), 0), (5, 3))
    check(lambda m, x: m.take_along_dim(x, m.tensor([[5, 0, 5]])), (2, 3))
    check(lambda m, x: m.take_along_dim(x, m.zeros(1, 5, dtype=m.int64), 1), (2, 3))


def test_take_along_dim_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Int"):
            m.take_along_dim(x, m.tensor([[0]], dtype=m.int32), 1)
        with pytest.raises(RuntimeError, match="should have the same number of dimensions"):
            m.take_along_dim(x, m.tensor([0]), 1)
        with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of te"):
            m.take_along_dim(x, m.zeros(4, 1, dtype=m.int64), 1)
