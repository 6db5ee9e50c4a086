"""default_collate and default_convert against torch.utils.data's, container by container."""

import collections
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from tests.helpers import assert_same

Point = namedtuple("Point", ["x", "y"])


def same_structure(e, t):
    """Compare a collated Ember batch with torch's: types of containers, then leaves."""
    if isinstance(t, torch.Tensor):
        assert_same(e, t, rtol=0, atol=0)
    elif isinstance(t, collections.abc.Mapping):
        assert type(e) is type(t) and list(e) == list(t)
        for key in t:
            same_structure(e[key], t[key])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t), f"{type(e).__name__} != {type(t).__name__}"
        assert len(e) == len(t)
        for ei, ti in zip(e, t):
            same_structure(ei, ti)
    elif isinstance(t, np.ndarray):
        np.testing.assert_array_equal(e, t)
    else:
        assert type(e) is type(t) and e == t


def arrays(shape, n=3, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(n)]


SAMPLES = {
    "tensors": lambda m: [m.tensor(a) for a in arrays((2, 3))],
    "noncontiguous tensors": lambda m: [m.tensor(a).T[1:] for a in arrays((4, 3))],
    "int64 tensors": lambda m: [m.tensor(a) for a in arrays((2,), dtype="int64")],
    "scalar tensors": lambda m: [m.tensor(1.5), m.tensor(2.5)],
    "numpy arrays": lambda m: arrays((2, 2)),
    "numpy float64 arrays": lambda m: arrays((3,), dtype="float64"),
    "numpy scalars f32": lambda m: [np.float32(1.5), np.float32(-2.0)],
    "numpy scalars i32": lambda m: [np.int32(1), np.int32(7)],
    "numpy bools": lambda m: [np.bool_(True), np.bool_(False)],
    "ints": lambda m: [1, 2, 3],
    "floats": lambda m: [1.0, 2.5, -3.0],
    "bools": lambda m: [True, False, True],
    "strings": lambda m: ["a", "bc", "d"],
    "bytes": lambda m: [b"a", b"bc"],
    "tuples": lambda m: [(m.tensor(a), i) for i, a in enumerate(arrays((2,)))],
    "lists": lambda m: [[m.tensor(a), float(i), "s"] for i, a in enumerate(arrays((2,)))],
    "dicts": lambda m: [{"x": m.tensor(a), "y": i} for i, a in enumerate(arrays((2,)))],
    "ordered dicts": lambda m: [collections.OrderedDict(b=1.0, a=2) for _ in range(2)],
    "nested": lambda m: [
        {"img": m.tensor(a), "meta": {"id": i, "name": f"n{i}"}, "pair": (i, 2.0 * i)}
        for i, a in enumerate(arrays((2, 2)))
    ],
    "namedtuples": lambda m: [Point(m.tensor(a), i) for i, a in enumerate(arrays((3,)))],
    "namedtuple of dicts": lambda m: [Point({"k": i}, [i, i + 1]) for i in range(3)],
}


@pytest.mark.parametrize("name", SAMPLES)
def test_default_collate_matches_torch(name):
    make = SAMPLES[name]
    same_structure(edata.default_collate(make(ember)), tdata.default_collate(make(torch)))


@pytest.mark.parametrize("name", SAMPLES)
def test_default_convert_matches_torch(name):
    make = SAMPLES[name]
    for e, t in zip(make(ember), make(torch)):
        same_structure(edata.default_convert(e), tdata.default_convert(t))


def test_default_convert_numpy_array_and_strings():
    a = arrays((2, 3), n=1)[0]
    out = edata.default_convert(a)
    assert isinstance(out, ember.Tensor) and np.shares_memory(out.data, a)
    strings = np.array(["a", "b"])
    assert edata.default_convert(strings) is strings
    same_structure(edata.default_convert(("x", a)), tdata.default_convert(("x", a)))


def test_collate_float_is_float64_int_is_int64():
    assert edata.default_collate([1.0, 2.0]).dtype == ember.float64
    assert edata.default_collate([1, 2]).dtype == ember.int64


def test_collate_mismatched_tensor_sizes():
    batch = [ember.zeros(2), ember.zeros(3)]
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size"):
        edata.default_collate(batch)


def test_collate_mismatched_sequence_lengths():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        edata.default_collate([[1, 2], [3]])


@pytest.mark.parametrize(
    "batch",
    [[object(), object()], [np.array(["a", "b"]), np.array(["c", "d"])], [None, None]],
    ids=["object", "string array", "None"],
)
def test_collate_unsupported_types(batch):
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        edata.default_collate(batch)
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        tdata.default_collate(batch)


def test_collate_fn_map_extends_the_default():
    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return sum(b.v for b in batch)

    fn_map = {**edata.collate.default_collate_fn_map, Box: collate_box}
    out = edata.collate.collate([(Box(1), 1.0), (Box(2), 2.0)], collate_fn_map=fn_map)
    assert out[0] == 3
    assert_same(out[1], torch.tensor([1.0, 2.0], dtype=torch.float64))


def test_tensor_dataset_batch_fast_path_equals_per_sample_collate():
    x, y = ember.randn(10, 3), ember.arange(10)
    ds = edata.TensorDataset(x, y)
    fast = edata.default_collate(ds.__getitems__([3, 1, 7]))
    slow = edata.default_collate([ds[i] for i in [3, 1, 7]])
    assert type(fast) is list and len(fast) == 2
    for f, s in zip(fast, slow):
        assert f.dtype == s.dtype
        np.testing.assert_array_equal(f.data, s.data)
    # a custom collate_fn sees ordinary per-sample tuples
    samples = ds.__getitems__([3, 1])
    assert len(samples) == 2 and isinstance(samples[0], tuple)
    np.testing.assert_array_equal(samples[1][0].data, x.data[1])
    assert int(samples[1][1].item()) == 1
