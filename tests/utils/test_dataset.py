"""Datasets and random_split against torch.utils.data."""

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from tests.helpers import assert_same


class Squares(edata.Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self):
        return self.n


class Count(edata.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_dataset_base_needs_getitem():
    with pytest.raises(NotImplementedError):
        edata.Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(edata.IterableDataset())


def test_tensor_dataset_matches_torch():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 2, 3)).astype("float32"), np.arange(6)
    e = edata.TensorDataset(ember.tensor(x), ember.tensor(y))
    t = tdata.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(e) == len(t) == 6
    for i in (0, 5, -1):
        assert_same(list(e[i]), list(t[i]))
    assert_same(list(e[1:4]), list(t[1:4]))


def test_tensor_dataset_getitems_gathers_rows():
    x = ember.randn(8, 3)
    ds = edata.TensorDataset(x, ember.arange(8))
    batch = ds.__getitems__([5, 0, 5, -1])
    np.testing.assert_array_equal(batch.columns[0].data, x.data[[5, 0, 5, -1]])
    with pytest.raises(IndexError, match="index 8 is out of bounds for dimension 0 with size 8"):
        ds.__getitems__([1, 8])


def test_tensor_dataset_getitems_keeps_grad():
    x = ember.randn(4, 2, requires_grad=True)
    (rows,) = edata.TensorDataset(x).__getitems__([2, 2, 0]).columns
    g = ember.randn(3, 2)
    (grad,) = ember.autograd.grad(rows, [x], g)
    xt = torch.tensor(x.data, requires_grad=True)
    (tgrad,) = torch.autograd.grad(xt[[2, 2, 0]], [xt], torch.tensor(g.data))
    assert_same(grad, tgrad)


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        edata.TensorDataset(ember.zeros(3), ember.zeros(4))


def test_concat_dataset_matches_torch():
    parts = [Squares(3), Squares(0), Squares(4)]
    e = edata.ConcatDataset(parts)
    t = tdata.ConcatDataset(parts)
    assert len(e) == len(t) == 7 and e.cumulative_sizes == t.cumulative_sizes
    assert [e[i] for i in range(-7, 7)] == [t[i] for i in range(-7, 7)]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset"):
        e[-8]
    assert len(Squares(2) + Squares(3)) == 5


def test_concat_dataset_errors():
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        edata.ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        edata.ConcatDataset([Squares(2), Count(0, 2)])


def test_chain_dataset():
    e = edata.ChainDataset([Count(0, 3), Count(10, 12)])
    assert list(e) == [0, 1, 2, 10, 11] and len(e) == 5
    assert list(Count(0, 2) + Count(5, 6)) == [0, 1, 5]
    with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
        list(edata.ChainDataset([Squares(2)]))


def test_subset():
    ds = edata.Subset(Squares(10), [3, 1, 4])
    assert len(ds) == 3 and [ds[i] for i in range(3)] == [9, 1, 16]
    assert ds.__getitems__([2, 0]) == [16, 9]
    tensors = edata.TensorDataset(ember.arange(10) * 2)
    sub = edata.Subset(tensors, [7, 2])
    (col,) = sub.__getitems__([1, 0]).columns
    assert col.data.tolist() == [4, 14]


def test_stack_dataset_tuple_and_dict():
    a, b = Squares(4), edata.TensorDataset(ember.arange(4))
    e = edata.StackDataset(a, b)
    t = tdata.StackDataset(a, b)
    assert len(e) == len(t) == 4
    assert e[2][0] == t[2][0] == 4
    kw = edata.StackDataset(sq=a, ten=b)
    assert kw[3]["sq"] == 9 and int(kw[3]["ten"][0].item()) == 3
    items = kw.__getitems__([1, 2])
    assert [s["sq"] for s in items] == [1, 4]
    assert [int(s["ten"][0].item()) for s in items] == [1, 2]
    assert [s[0] for s in e.__getitems__([3, 0])] == [9, 0]


def test_stack_dataset_errors():
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        edata.StackDataset(Squares(2), Squares(3))
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        edata.StackDataset(a=Squares(2), b=Squares(3))
    with pytest.raises(ValueError, match="Supported either ``tuple``- \\(via ``args``\\)"):
        edata.StackDataset(Squares(2), b=Squares(2))


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [1, 1, 8]])
def test_random_split_partitions(lengths):
    ember.manual_seed(3)
    e = edata.random_split(Squares(10), lengths)
    t = tdata.random_split(Squares(10), lengths, generator=torch.Generator().manual_seed(3))
    assert [len(s) for s in e] == [len(s) for s in t]
    flat = [i for s in e for i in s.indices]
    assert sorted(flat) == list(range(10))


def test_random_split_fraction_rounding_matches_torch():
    fractions = [0.33, 0.33, 0.34]
    e = edata.random_split(Squares(11), fractions)
    t = tdata.random_split(Squares(11), fractions)
    assert [len(s) for s in e] == [len(s) for s in t]


def test_random_split_is_reproducible():
    a = edata.random_split(Squares(20), [10, 10], generator=ember.Generator().manual_seed(1))
    b = edata.random_split(Squares(20), [10, 10], generator=ember.Generator().manual_seed(1))
    c = edata.random_split(Squares(20), [10, 10], generator=ember.Generator().manual_seed(2))
    assert a[0].indices == b[0].indices != c[0].indices
    ember.manual_seed(5)
    d = edata.random_split(Squares(20), [10, 10])
    ember.manual_seed(5)
    assert edata.random_split(Squares(20), [10, 10])[0].indices == d[0].indices


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        edata.random_split(Squares(10), [3, 3])
    for m in (edata, tdata):
        with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
            m.random_split(Squares(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        edata.random_split(Squares(2), [0.9, 0.1])
