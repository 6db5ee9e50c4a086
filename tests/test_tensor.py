"""Tensor attributes, conversions, Python protocols and repr, against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember import printing
from tests.helpers import assert_same

MODULES = [ember, torch]


def both(fn):
    """fn(ember), fn(torch)."""
    return fn(ember), fn(torch)


# -- attributes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0, 4), (1, 2, 3, 4)], ids=str)
def test_shape_attributes(shape):
    e, t = both(lambda m: m.zeros(shape))
    assert tuple(e.shape) == tuple(t.shape) and isinstance(e.shape, tuple)
    assert e.size() == t.size() and e.shape == tuple(t.size())
    assert e.dim() == t.dim() and e.ndim == t.ndim and e.numel() == t.numel()
    assert e.is_contiguous() == t.is_contiguous()
    if e.numel():  # NOTE: NumPy gives empty arrays zero strides, torch contiguous ones
        assert e.stride() == t.stride()
    for d in range(-len(shape), len(shape)):
        assert e.size(d) == t.size(d)
    assert repr(e.shape) == repr(t.shape).replace("torch.", "ember.")
    assert e.dtype is ember.float32 and e.device == ember.device("cpu")
    assert str(e.device) == str(t.device)


def test_size_errors():
    for m in MODULES:
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.zeros(2, 3).size(2)


def test_transposes_and_strides():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    e, t = ember.tensor(a), torch.tensor(a)
    assert_same(e.T, t.permute(2, 1, 0))
    assert_same(e.mT, t.mT)
    assert e.T.stride() == t.permute(2, 1, 0).stride()
    assert not e.mT.is_contiguous() and e.mT.contiguous().is_contiguous()
    assert e[:, 1:].stride() == t[:, 1:].stride()
    c = e.mT.contiguous()
    assert_same(c, t.mT.contiguous())
    assert e.contiguous() is e
    for m in MODULES:
        with pytest.raises(RuntimeError, match=r"tensor\.mT is only supported on matrices"):
            _ = m.zeros(3).mT


def test_autograd_attributes():
    for m in MODULES:
        x = m.ones(2, requires_grad=True)
        assert x.is_leaf and x.requires_grad and x.grad is None and x.grad_fn is None
        y = x * 2
        assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
        y.sum().backward()
        assert x.grad is not None
        z = m.ones(2)
        assert z.is_leaf and not z.requires_grad
        z.requires_grad_()
        assert z.requires_grad
        with pytest.raises(RuntimeError, match="only Tensors of floating point"):
            m.ones(2, dtype=m.int64).requires_grad_()
        with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf"):
            y.requires_grad_(False)


# -- conversions ---------------------------------------------------------------------------------
def test_numpy_shares_memory_and_refuses_grad():
    e = ember.zeros(3)
    a = e.numpy()
    a[0] = 4
    assert e[0].item() == 4
    for m in MODULES:
        with pytest.raises(
            RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"
        ):
            m.ones(2, requires_grad=True).numpy()
    x = ember.ones(2, requires_grad=True)
    np.testing.assert_array_equal(x.detach().numpy(), [1, 1])


@pytest.mark.parametrize("data", [[2.5], 3, True, [[7]], [1.25]], ids=repr)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16", "bfloat16", "float64"])
def test_item_and_tolist(data, dtype):
    e, t = both(lambda m: m.tensor(data, dtype=getattr(m, dtype)))
    assert e.item() == t.item() and type(e.item()) is type(t.item())
    assert e.tolist() == t.tolist()
    assert float(e) == float(t) and int(e) == int(t) and bool(e) == bool(t)


def test_tolist_nested_and_errors():
    a = np.arange(6).reshape(2, 3)
    for dtype in ("float32", "int32", "bool", "bfloat16"):
        e, t = both(lambda m, dtype=dtype: m.tensor(a, dtype=getattr(m, dtype)))
        assert e.tolist() == t.tolist()
    for m in MODULES:
        with pytest.raises(
            RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"
        ):
            m.zeros(2).item()
        with pytest.raises(
            RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"
        ):
            bool(m.zeros(2))
        with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
            len(m.tensor(1.0))
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            iter(m.tensor(1.0))
        with pytest.raises(
            TypeError, match="only integer tensors of a single element can be converted to an index"
        ):
            [1, 2][m.tensor(1.0)]


def test_protocols():
    e, t = both(lambda m: m.tensor([[1, 2], [3, 4]]))
    assert len(e) == len(t) == 2
    for er, tr in zip(e, t):
        assert_same(er, tr)
    assert [1, 2, 3][ember.tensor(2)] == 3
    assert [1, 2, 3][ember.tensor([1])] == 2
    assert math.isclose(float(ember.tensor([2.5])), 2.5)
    assert int(ember.tensor(3.9)) == int(torch.tensor(3.9))
    assert bool(ember.tensor([0.0])) is False


CASTS = ["float", "double", "half", "bfloat16", "long", "int", "bool", "short", "byte", "char"]


@pytest.mark.parametrize("cast", CASTS)
def test_cast_methods(cast):
    a = np.array([-1.5, 0.0, 2.7, 100.0], dtype=np.float32)
    e, t = both(lambda m: getattr(m.tensor(a), cast)())
    if cast == "byte":  # casting negatives to uint8 is undefined in C++; compare the rest
        e, t = e[1:], t[1:]
    assert_same(e, t, rtol=1e-2)


def test_to_overloads():
    e, t = both(lambda m: m.tensor([1.5, -2.0]))
    assert e.to(ember.float32) is e and t.to(torch.float32) is t
    assert e.to("cpu") is e and e.to(ember.device("cpu")) is e
    assert_same(e.to(ember.float64), t.to(torch.float64))
    assert_same(e.to("cpu", ember.int32), t.to("cpu", torch.int32))
    assert_same(e.to(dtype=ember.float16), t.to(dtype=torch.float16))
    assert_same(
        e.to(ember.tensor([1], dtype=ember.int8)), t.to(torch.tensor([1], dtype=torch.int8))
    )
    c = e.to(ember.float32, copy=True)
    assert c is not e and c.data is not e.data
    assert_same(
        e.type_as(ember.tensor([1], dtype=ember.int16)),
        t.type_as(torch.tensor([1], dtype=torch.int16)),
    )
    assert e.type() == t.type().replace("torch.", "ember.")
    assert_same(e.type(ember.float64), t.type(torch.float64))
    with pytest.raises(RuntimeError, match="CUDA backend"):
        e.to("cuda")


def test_to_is_differentiable():
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(ember.float64) * 3
    assert y.dtype is ember.float64
    (g,) = ember.autograd.grad(y.sum(), x)
    assert g.dtype is ember.float32
    assert_same(g, torch.tensor([3.0, 3.0]))


def test_clone_and_detach():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = x.clone()
    assert c.data is not x.data and not np.shares_memory(c.data, x.data)
    assert c.grad_fn is not None
    (g,) = ember.autograd.grad((c * c).sum(), x)
    assert_same(g, torch.tensor([2.0, 4.0, 6.0]))
    d = x.detach()
    assert np.shares_memory(d.data, x.data) and not d.requires_grad and d.is_leaf
    with ember.no_grad():
        d[0] = 10.0
    assert x[0].item() == 10.0
    assert d._version is x._version  # the version counter is shared, as in PyTorch
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    td = t.detach()
    td[0] = 5
    assert t._version == td._version


def test_equal_allclose_isclose():
    a = np.array([1.0, 2.0, float("nan")], dtype=np.float32)
    b = a + np.float32(1e-7)
    (ea, eb), (ta, tb) = both(lambda m: (m.tensor(a), m.tensor(b)))
    assert ea.equal(ea) == ta.equal(ta)
    assert ea.allclose(eb) == ta.allclose(tb)
    assert ea.allclose(eb, equal_nan=True) == ta.allclose(tb, equal_nan=True)
    assert_same(ea.isclose(eb), ta.isclose(tb))
    assert ember.tensor([1, 2]).equal(ember.tensor([1, 2]))
    assert not ember.tensor([1, 2]).equal(ember.tensor([1, 3]))


# -- repr ----------------------------------------------------------------------------------------
def same_repr(e, t, upto=None):
    want = repr(t).replace("torch.", "ember.")
    got = repr(e)
    if upto is not None:
        got, want = got[: got.index(upto)], want[: want.index(upto)]
    assert got == want, f"\n{got}\n!=\n{want}"


REPR_DATA = [
    [1, 2, 3],
    [-1, 1000000, 7],
    [1.0, 2.0],
    [1.5, 2.25, -3.125],
    [0.1, 0.2, 0.3],
    [1e-5, 1.0],
    [1e9, 1.0],
    [1e8, 2e8],
    [123456.0, 0.5],
    [0.0001, 0.001],
    [1e-5, 2e-5],
    [float("nan"), 1.0, float("inf")],
    [float("nan"), 1.5],
    [float("-inf"), float("inf")],
    [float("nan")],
    [-0.0, 0.0],
    [-0.0, 1.5],
    [0.0, 0.0],
    [],
    2.5,
    -3,
    True,
    0.0,
    float("nan"),
    [True, False],
    [[1.5, -2.0], [3.0, 400.0]],
    [[[1, 2], [3, 4]], [[5, 6], [7, 8]]],
    [[1e-8, 1.0], [2.0, 3.0]],
    [[True], [False]],
    [1.123456789, 1234.5],
]


@pytest.mark.parametrize("data", REPR_DATA, ids=repr)
@pytest.mark.parametrize(
    "dtype", [None, "float64", "float16", "bfloat16", "int32", "bool", "uint8"]
)
def test_repr_matches_torch(data, dtype):
    if dtype in ("int32", "uint8", "bool") and np.any(
        ~np.isfinite(np.asarray(data, dtype=np.float64))
    ):
        return  # NaN/inf cannot be cast to integers
    if dtype == "uint8" and np.any(np.asarray(data, dtype=np.float64) < 0):
        return  # negative to uint8 is undefined
    if dtype in ("int32", "uint8") and np.any(np.abs(np.asarray(data, dtype=np.float64)) > 255):
        return  # out of range: torch wraps, Ember refuses
    if dtype is None:
        e, t = both(lambda m: m.tensor(data))
    else:
        e, t = both(lambda m: m.tensor(data, dtype=getattr(m, dtype)))
    same_repr(e, t)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.arange(2000),
        lambda m: m.arange(1001.0),
        lambda m: m.arange(60.0) * 1.5,
        lambda m: m.arange(100),
        lambda m: m.arange(30.0).reshape(5, 6) / 7,
        lambda m: m.arange(3000.0).reshape(30, 100) - 1500,
        lambda m: (m.arange(5 * 6 * 7.0).reshape(5, 6, 7) - 100) ** 3,
        lambda m: m.arange(24).reshape(2, 3, 4),
        lambda m: m.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5) * 0.25,
        lambda m: m.arange(20000).reshape(10, 20, 100) % 7 == 0,
        lambda m: m.zeros(0, 3),
        lambda m: m.zeros(2, 0, dtype=m.int64),
        lambda m: m.zeros(0, dtype=m.int64),
        lambda m: m.zeros(0, dtype=m.float64),
        lambda m: m.ones(3, dtype=m.float64, requires_grad=True),
        lambda m: m.ones(2, 2, requires_grad=True),
        lambda m: m.eye(40),
        lambda m: m.arange(12.0).reshape(3, 4).T,
        lambda m: m.arange(12.0).reshape(3, 4)[:, 1:],
        lambda m: m.linspace(-1e-3, 1e3, 9, dtype=m.float64),
    ],
)
def test_repr_shapes_and_summaries(make):
    same_repr(*both(make))


def test_repr_random_matrix():
    a = np.random.default_rng(0).standard_normal((40, 50)).astype(np.float32)
    same_repr(*both(lambda m: m.tensor(a)))
    same_repr(*both(lambda m: m.tensor(a * 1e5)))
    same_repr(*both(lambda m: m.tensor(a[:3, :4] * 100)))


def test_repr_grad_fn_suffix():
    for dtype in (None, "float64"):
        e, t = both(
            lambda m, dtype=dtype: (
                m.ones(2, dtype=dtype and getattr(m, dtype), requires_grad=True) * 2
            )
        )
        same_repr(e, t, upto="grad_fn=<")
        assert repr(e).endswith(f"grad_fn=<{e.grad_fn.name()}>)")


def test_repr_follows_default_dtype():
    for m in MODULES:
        m.set_default_dtype(m.float64)
    try:
        same_repr(*both(lambda m: m.tensor([1.5, 2.0])))
        same_repr(*both(lambda m: m.tensor([1.5, 2.0], dtype=m.float32)))
        same_repr(*both(lambda m: m.zeros(0, dtype=m.float32)))
    finally:
        for m in MODULES:
            m.set_default_dtype(m.float32)


OPTIONS = [
    {"precision": 2},
    {"precision": 6},
    {"sci_mode": True},
    {"sci_mode": False},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"threshold": 5, "edgeitems": 0},
    {"linewidth": 40},
    {"profile": "short"},
    {"profile": "full"},
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_printoptions_match_torch(options):
    saved = torch._tensor_str.get_printoptions()
    try:
        printing.set_printoptions(**options)
        torch.set_printoptions(**options)
        for make in (
            lambda m: m.arange(10),
            lambda m: m.arange(1500.0) / 3,
            lambda m: m.arange(48.0).reshape(4, 3, 4) * 1.37,
            lambda m: m.tensor([1e-5, 1.0, 123.456]),
            lambda m: m.tensor(3.14159),
        ):
            same_repr(*both(make))
        assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
    finally:
        printing.set_printoptions(profile="default")
        torch.set_printoptions(**saved)


def test_printoptions_context_restores():
    before = printing.get_printoptions()
    with printing.printoptions(precision=1):
        assert repr(ember.tensor([1.25])) == "tensor([1.2])"
    assert printing.get_printoptions() == before
    assert repr(ember.tensor([1.25])) == "tensor([1.2500])"
