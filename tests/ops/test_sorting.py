"""sort, argsort, msort, topk, unique, searchsorted, bincount and histc against PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_op


def mod(m):
    return m


def check(fn, *shapes, **kwargs):
    check_op(lambda m, *xs: fn(mod(m), *xs), *shapes, **kwargs)


def ties(shape, seed=0):
    """Float data with many ties (stable order matters) and a NaN."""
    data = np.random.default_rng(seed).integers(0, 4, shape).astype(np.float32)
    data.reshape(-1)[1] = np.nan
    return data


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(dim, descending):
    check(lambda m, x: tuple(m.sort(x, dim, descending)), (3, 5))
    check(lambda m, x: tuple(m.sort(x.T[1:], dim=dim, descending=descending)), (5, 4))
    check(
        lambda m, x: m.sort(x, dim=dim, descending=descending, stable=True), inputs=[ties((4, 6))]
    )


def test_sort_dtypes_and_0d():
    ints = [np.random.default_rng(0).integers(-5, 5, (3, 6))]
    for dtype in ("int32", "int64", "uint8", "bool"):
        data = [(ints[0] % 2 == 0) if dtype == "bool" else ints[0].astype(dtype) % 7]
        check(lambda m, x: m.sort(x, stable=True, descending=True), inputs=data, dtype=dtype)
    check(lambda m, x: tuple(m.sort(x[0, 0])), (2, 2))


def test_sort_returns_named_tuple():
    out = ember.sort(ember.tensor([3.0, 1.0]))
    assert type(out).__name__ == "sort"
    assert out.values.tolist() == [1.0, 3.0] and out.indices.tolist() == [1, 0]


def test_argsort_and_msort():
    for descending in (False, True):
        check(
            lambda m, x, d=descending: m.argsort(x, dim=0, descending=d, stable=True),
            inputs=[ties((5, 3))],
        )
    check(lambda m, x: m.argsort(x, dim=-1), (3, 4))
    check(lambda m, x: m.msort(x.T), (3, 4))


def test_sort_and_topk_gradcheck():
    check_gradcheck(lambda m, x: ember.sort(x, 1, True).values, (3, 4))
    check_gradcheck(lambda m, x: ember.topk(x, 2, 0).values * x[0], (3, 4))


@pytest.mark.parametrize(("k", "dim", "largest"), [(2, -1, True), (3, 0, False), (0, 1, True)])
def test_topk(k, dim, largest):
    check(lambda m, x: tuple(m.topk(x, k, dim, largest)), (4, 5))
    check(lambda m, x: tuple(m.topk(x.T, k, dim, largest=largest, sorted=True)), (5, 4))


def test_topk_unsorted_nan_and_0d():
    def sorted_values(m, x):
        values, _ = m.topk(x, 3, sorted=False)
        return m.sort(values).values

    check(sorted_values, (2, 6))
    nan = [np.array([1.0, np.nan, 2.0, 0.5], dtype=np.float32)]
    check(lambda m, x: tuple(m.topk(x, 2)), inputs=nan)
    check(lambda m, x: tuple(m.topk(x, 2, largest=False)), inputs=nan)
    check(lambda m, x: tuple(m.topk(x[0, 0], 1)), (2, 2))


def test_sort_topk_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            m.topk(m.zeros(2), 3)
        with pytest.raises(RuntimeError, match="selected index k out of range"):
            m.topk(m.zeros(2), -1)
        with pytest.raises(TypeError, match="argument 'k' \\(position 2\\) must be int, not float"):
            m.topk(m.zeros(3), 1.5)
        with pytest.raises(RuntimeError, match="topk does not support bool dtypes"):
            m.topk(m.zeros(3, dtype=m.bool), 1)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.sort(m.zeros(3), dim=1)


# -- unique ----------------------------------------------------------------------------------
INTS = np.array([[3, 1, 3, 0], [1, 1, 2, 0], [3, 1, 3, 0]])


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize(("inverse", "counts"), [(False, False), (True, False), (True, True)])
def test_unique(dim, inverse, counts):
    def fn(m, x):
        return m.unique(x, return_inverse=inverse, return_counts=counts, dim=dim)

    check(fn, inputs=[INTS], dtype="int64")
    check(fn, inputs=[INTS.astype(np.float32).T], grad=False)
    check(
        lambda m, x: m.unique(x, sorted=False, return_counts=counts), inputs=[INTS], dtype="int64"
    )


def test_unique_bool_0d_and_empty():
    check(lambda m, x: m.unique(x, return_counts=True), inputs=[INTS > 1], dtype="bool")
    check(lambda m, x: m.unique(x, return_inverse=True), inputs=[np.array(3)], dtype="int64")
    check(lambda m, x: m.unique(x, dim=0), inputs=[np.zeros((0, 2))], grad=False)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_unique_consecutive(dim):
    data = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 1, 1, 1], [3, 1, 1, 1]])
    for flags in ((False, False), (True, True), (False, True)):
        check(
            lambda m, x, f=flags: m.unique_consecutive(
                x, return_inverse=f[0], return_counts=f[1], dim=dim
            ),
            inputs=[data],
            dtype="int64",
        )
    check(
        lambda m, x: m.unique_consecutive(x, return_inverse=True),
        inputs=[np.array(3)],
        dtype="int64",
    )


def test_unique_dim_error():
    for m in (ember, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.unique(m.tensor([[1, 2]]), dim=2)


# -- searchsorted ----------------------------------------------------------------------------
SEQ = np.array([0.5, 1.0, 1.0, 2.0, 3.5], dtype=np.float32)
VALUES = np.array([[1.0, 0.0, 3.5], [4.0, 1.0, 2.0]], dtype=np.float32)


@pytest.mark.parametrize("kwargs", [{}, {"right": True}, {"side": "right"}, {"out_int32": True}])
def test_searchsorted_1d(kwargs):
    check(lambda m, s, v: m.searchsorted(s, v, **kwargs), inputs=[SEQ, VALUES], grad=False)
    check(lambda m, s: m.searchsorted(s, 1.0, **kwargs), inputs=[SEQ], grad=False)


def test_searchsorted_nd_and_sorter():
    seq = np.sort(np.random.default_rng(0).integers(0, 6, (2, 3, 5)), axis=-1)
    values = np.random.default_rng(1).integers(0, 7, (2, 3, 4))
    for right in (False, True):
        check(
            lambda m, s, v, r=right: m.searchsorted(s, v, right=r),
            inputs=[seq, values],
            dtype="int64",
        )
    unsorted = np.array([3, 1, 2, 0])
    order = np.argsort(unsorted)
    check(
        lambda m, s, v: m.searchsorted(s, v, sorter=m.tensor(order)),
        inputs=[unsorted, np.array([2, 0, 5])],
        dtype="int64",
    )
    nan = [np.array([1.0, 2.0, 4.0], dtype=np.float32), np.array([np.nan, 3.0], np.float32)]
    check(lambda m, s, v: m.searchsorted(s, v), inputs=nan, grad=False)


def test_searchsorted_errors():
    for m in (ember, torch):
        seq = m.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="side and right can't be set to opposites"):
            m.searchsorted(seq, m.tensor([1]), right=True, side="left")
        with pytest.raises(RuntimeError, match="side can only be 'left' or 'right' but got mid"):
            m.searchsorted(seq, m.tensor([1]), side="mid")
        with pytest.raises(RuntimeError, match="first N-1 dimensions of boundaries tensor"):
            m.searchsorted(m.zeros(2, 3), m.zeros(3, 4))
        with pytest.raises(RuntimeError, match="input value can be a scalar only when boundar"):
            m.searchsorted(m.zeros(1, 2), 2)
        with pytest.raises(RuntimeError, match="boundaries tensor should have positive dimension"):
            m.searchsorted(m.tensor(1), m.tensor([1]))
        with pytest.raises(RuntimeError, match="sorter must be a tensor of long dtype but got"):
            m.searchsorted(seq, m.tensor([2]), sorter=m.tensor([0, 1, 2], dtype=m.int32))
        with pytest.raises(RuntimeError, match="boundary and sorter must have the same size"):
            m.searchsorted(seq, m.tensor([2]), sorter=m.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="sorter index out of range"):
            m.searchsorted(seq, m.tensor([2]), sorter=m.tensor([1, 2, 3]))


# -- bincount, histc -------------------------------------------------------------------------
@pytest.mark.parametrize("weights", [None, "float32", "float64", "int64"])
@pytest.mark.parametrize("minlength", [0, 9])
def test_bincount(weights, minlength):
    data = np.array([0, 3, 3, 1, 5, 3])
    for dtype in ("int64", "int32", "uint8"):
        e, t = ember.tensor(data.astype(dtype)), torch.tensor(data.astype(dtype))
        if weights is None:
            assert_same(
                ember.bincount(e, minlength=minlength), torch.bincount(t, minlength=minlength)
            )
            continue
        w = np.linspace(-1, 2, 6).astype(weights)
        assert_same(
            ember.bincount(e, ember.tensor(w), minlength),
            torch.bincount(t, torch.tensor(w), minlength),
        )
    empty = np.zeros(0, dtype=np.int64)
    check(lambda m, x: m.bincount(x, minlength=minlength), inputs=[empty], dtype="int64")


def test_bincount_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral"):
            m.bincount(m.tensor([0, -2]))
        with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral"):
            m.bincount(m.tensor([[0, 2]]))
        with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
            m.bincount(m.tensor([0.0, 2.0]))
        with pytest.raises(RuntimeError, match="minlength should be >= 0"):
            m.bincount(m.tensor([0, 2]), minlength=-1)
        with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length"):
            m.bincount(m.tensor([0, 2]), m.tensor([1.0]))


@pytest.mark.parametrize(("bins", "low", "high"), [(4, 0, 3), (7, -1.5, 1.0), (5, 0, 0), (1, 2, 2)])
def test_histc(bins, low, high):
    check(lambda m, x: m.histc(x, bins=bins, min=low, max=high), (4, 6), grad=False)
    check(lambda m, x: m.histc(x, bins, low, high), (13,), dtype="float64", grad=False)
    edges = [np.array([0.0, 1.0, 1.5, 3.0, 3.0, 4.0], dtype=np.float32)]
    check(lambda m, x: m.histc(x, bins=bins, min=low, max=high), inputs=edges, grad=False)


def test_histc_constant_and_empty():
    check(lambda m, x: m.histc(x, bins=4), inputs=[np.ones(3, np.float32)], grad=False)
    check(lambda m, x: m.histc(x, bins=3), inputs=[np.zeros(0, np.float32)], grad=False)


def test_histc_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=r"torch\.histc: max must be larger than min"):
            m.histc(m.tensor([1.0, 2.0]), bins=4, min=3, max=0)
        with pytest.raises(RuntimeError, match="bins must be > 0, but got 0 for dimension 0"):
            m.histc(m.tensor([1.0, 2.0]), bins=0)
        with pytest.raises(RuntimeError, match=r"torch\.histc: range of \[1, inf\] is not finite"):
            m.histc(m.tensor([1.0, float("inf")]), bins=4)
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            m.histc(m.tensor([1, 2]), bins=4)
