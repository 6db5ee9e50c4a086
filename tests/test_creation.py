"""Creation ops against PyTorch: values, dtypes, memory sharing, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_op, dtype_name

MODULES = [ember, torch]


def same(fn):
    """Run fn(m) for ember and torch and compare the results exactly (values, shape, dtype)."""
    assert_same(fn(ember), fn(torch), rtol=0, atol=0)


# -- tensor() dtype inference -----------------------------------------------------------------
TENSOR_DATA = [
    1.5,
    3,
    True,
    [1, 2, 3],
    [1.0, 2],
    [True, False],
    [True, 2],
    [[1, 2], [3, 4]],
    [[1.5], [2.5]],
    (1, 2.0),
    [],
    [[]],
    [[], []],
    -(2**63),
]


@pytest.mark.parametrize("data", TENSOR_DATA, ids=repr)
def test_tensor_python_data(data):
    same(lambda m: m.tensor(data))


@pytest.mark.parametrize("np_dtype", ["float16", "float32", "float64", "int8", "int32", "uint8"])
def test_tensor_numpy_scalars_and_mixes(np_dtype):
    scalar = np.dtype(np_dtype).type(3)
    same(lambda m: m.tensor(scalar))
    same(lambda m: m.tensor([scalar]))
    same(lambda m: m.tensor([scalar, 2]))
    same(lambda m: m.tensor([scalar, 2.5]))
    same(lambda m: m.tensor([scalar, True]))


@pytest.mark.parametrize("np_dtype", ["float16", "float32", "float64", "int16", "int64", "bool"])
def test_tensor_numpy_array_keeps_dtype_and_copies(np_dtype):
    a = np.arange(6).reshape(2, 3).astype(np_dtype)
    e = ember.tensor(a)
    assert_same(e, torch.tensor(a))
    a[0, 0] = 1
    assert e[0, 0].item() == 0  # a copy


def test_tensor_of_zero_dim_tensors_promotes():
    same(lambda m: m.tensor([m.tensor(1), m.tensor(2.5)]))
    same(lambda m: m.tensor([m.tensor(1, dtype=m.int8), 2]))
    same(lambda m: m.tensor([m.tensor(1, dtype=m.float64), 2]))
    same(lambda m: m.tensor([m.tensor(1, dtype=m.float16), 2.5]))
    same(lambda m: m.tensor([m.tensor(1, dtype=m.int32), m.tensor(1, dtype=m.int8)]))
    same(lambda m: m.tensor([[m.tensor(1.0), m.tensor(2.0)]]))
    # torch warns when copying a Tensor (Ember does not): compare with clone()
    src = ember.tensor([1, 2], dtype=ember.int16)
    copy = ember.tensor(src)
    assert_same(copy, torch.tensor([1, 2], dtype=torch.int16).clone())
    copy[0] = 5
    assert src[0].item() == 1


def test_tensor_with_dtype_converts():
    same(lambda m: m.tensor([1.7, -2.7], dtype=m.int64))
    same(lambda m: m.tensor([1, 2], dtype=m.bfloat16))
    same(lambda m: m.tensor(np.array([1.5, 2.5]), dtype=m.float16))
    same(lambda m: m.tensor([0, 1, 2], dtype=m.bool))


def test_tensor_follows_default_dtype():
    for m in MODULES:
        m.set_default_dtype(m.float64)
    try:
        same(lambda m: m.tensor([1.5, 2]))
        same(lambda m: m.tensor(1.5))
        same(lambda m: m.tensor([1, 2]))
    finally:
        for m in MODULES:
            m.set_default_dtype(m.float32)


def test_tensor_requires_grad_leaf():
    e = ember.tensor([1.0, 2.0], requires_grad=True)
    assert e.requires_grad and e.is_leaf and e.grad_fn is None
    src = ember.tensor([1.0, 2.0], requires_grad=True) * 2
    copy = ember.tensor(src)
    assert not copy.requires_grad and copy.is_leaf


@pytest.mark.parametrize(
    "data, err, match",
    [
        ([[1, 2], [3]], ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
        ([[1, 2], 3], TypeError, "not a sequence"),
        ("a", TypeError, "invalid data type 'str'"),
        ([1, "a"], TypeError, "invalid data type 'str'"),
        (None, RuntimeError, "Could not infer dtype of NoneType"),
        ([[1, 2], [3, 4, 5]], ValueError, r"expected sequence of length 2 at dim 1 \(got 3\)"),
    ],
)
def test_tensor_errors(data, err, match):
    for m in MODULES:
        with pytest.raises(err, match=match):
            m.tensor(data)


def test_tensor_more_errors():
    for m in MODULES:
        with pytest.raises(ValueError, match="only one element tensors"):
            m.tensor([m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])])
        with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
            m.tensor([1, 2], requires_grad=True)
        with pytest.raises(ValueError, match="Overflow"):
            m.tensor([1, 2**63])
        with pytest.raises(RuntimeError, match="cannot be converted to type uint8"):
            m.tensor(300, dtype=m.uint8)
        with pytest.raises(RuntimeError, match="cannot be converted to type int64"):
            m.tensor(float("nan"), dtype=m.int64)
    with pytest.raises(TypeError, match=r"can.t convert np\.ndarray of type"):
        ember.tensor(np.array(["a"]))
    with pytest.raises(RuntimeError, match="CUDA backend is not available"):
        ember.tensor([1.0], device="cuda")


# -- sharing: as_tensor, asarray, from_numpy ---------------------------------------------------
def test_as_tensor_shares_matching_numpy():
    a = np.zeros(3, dtype=np.float32)
    e = ember.as_tensor(a)
    a[0] = 5
    assert e[0].item() == 5
    converted = ember.as_tensor(a, dtype=ember.float64)
    a[1] = 7
    assert converted[1].item() == 0
    same(lambda m: m.as_tensor([1, 2]))
    same(lambda m: m.as_tensor(np.array([1, 2]), dtype=m.float32))
    t = ember.tensor([1.0, 2.0])
    assert ember.as_tensor(t) is t
    assert ember.as_tensor(t, dtype=ember.float64).dtype is ember.float64


def test_asarray():
    a = np.arange(3.0)
    e = ember.asarray(a)
    a[0] = 9
    assert e[0].item() == 9
    c = ember.asarray(a, copy=True)
    a[1] = 9
    assert c[1].item() == 1
    same(lambda m: m.asarray([1, 2]))
    same(lambda m: m.asarray([1.0, 2.0], dtype=m.float64))
    assert ember.asarray([1.0], requires_grad=True).requires_grad
    for m in MODULES:
        with pytest.raises(
            ValueError, match="can't alias tensor with dtype 'Long' into dtype 'Float'"
        ):
            m.asarray(np.array([1, 2]), copy=False, dtype=m.float32)


def test_from_numpy_shares_both_ways():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    e = ember.from_numpy(a)
    assert e.dtype is ember.int32
    a[0, 0] = 10
    assert e[0, 0].item() == 10
    e.data[1, 1] = -1
    assert a[1, 1] == -1
    ro = np.arange(3.0)
    ro.flags.writeable = False
    assert ember.from_numpy(ro).shape == (3,)
    for m in MODULES:
        with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
            m.from_numpy([1])
    with pytest.raises(TypeError, match=r"can.t convert np\.ndarray of type"):
        ember.from_numpy(np.array([1], dtype=np.complex64))


# -- filled -------------------------------------------------------------------------------------
SIZES = [(), (0,), (3,), (2, 3), (2, 0, 4)]


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16", None])
def test_zeros_ones_full_empty(size, dtype):
    def dt(m):
        return None if dtype is None else getattr(m, dtype)

    same(lambda m: m.zeros(size, dtype=dt(m)))
    same(lambda m: m.ones(*size, dtype=dt(m)) if size else m.ones(size, dtype=dt(m)))
    same(lambda m: m.full(size, 7, dtype=dt(m)))
    e, t = ember.empty(size, dtype=dt(ember)), torch.empty(size, dtype=dt(torch))
    assert tuple(e.shape) == tuple(t.shape) and dtype_name(e.dtype) == dtype_name(t.dtype)


@pytest.mark.parametrize("value", [1, 1.5, True, -3, float("inf")], ids=repr)
def test_full_infers_dtype(value):
    same(lambda m: m.full((2,), value))
    same(lambda m: m.full([], value))
    same(lambda m: m.full((2, 2), value, dtype=m.float64))


def test_size_forms():
    same(lambda m: m.zeros(torch.Size([2, 3]) if m is torch else ember.Size([2, 3])))
    same(lambda m: m.ones([2, 3]))
    same(lambda m: m.zeros(np.int64(2)))
    same(lambda m: m.zeros(m.tensor(2)))
    same(lambda m: m.zeros(()))


def test_filled_errors():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="negative dimension -1"):
            m.ones(-1, 2)
        with pytest.raises(RuntimeError, match="negative dimension -3"):
            m.full((2, -3), 1.0)
        with pytest.raises(TypeError, match="must be tuple of ints, not float"):
            m.zeros(2.5)
        with pytest.raises(TypeError, match='missing 1 required positional arguments: "size"'):
            m.ones()
        with pytest.raises(TypeError, match="found element of type list at pos 0"):
            m.zeros([[2]])
        with pytest.raises(TypeError, match="must be tuple of ints, not int"):
            m.full(2, 1.0)
        with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
            m.zeros(2, dtype=m.int64, requires_grad=True)
        with pytest.raises(TypeError, match="must be Tensor, not list"):
            m.zeros_like([1, 2])
    with pytest.raises(RuntimeError, match="CUDA backend"):
        ember.zeros(2, device="cuda")


def test_filled_requires_grad_is_leaf():
    x = ember.ones(2, 3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    (x * 2).sum().backward()
    assert_same(x.grad, torch.full((2, 3), 2.0))


@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_like(dtype):
    def dt(m):
        return None if dtype is None else getattr(m, dtype)

    for src in ([1, 2], [[1.5, 2.5]], [True]):
        same(lambda m, src=src: m.zeros_like(m.tensor(src), dtype=dt(m)))
        same(lambda m, src=src: m.ones_like(m.tensor(src), dtype=dt(m)))
        same(lambda m, src=src: m.full_like(m.tensor(src), 2.7, dtype=dt(m)))
        e = ember.empty_like(ember.tensor(src), dtype=dt(ember))
        t = torch.empty_like(torch.tensor(src), dtype=dt(torch))
        assert tuple(e.shape) == tuple(t.shape) and dtype_name(e.dtype) == dtype_name(t.dtype)
    x = ember.zeros_like(ember.ones(2), requires_grad=True)
    assert x.requires_grad and x.is_leaf
    for m in MODULES:
        with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
            m.zeros_like(m.tensor([1, 2]), requires_grad=True)


def test_scalar_tensor():
    same(lambda m: m.scalar_tensor(1))
    same(lambda m: m.scalar_tensor(True))
    same(lambda m: m.scalar_tensor(1, dtype=m.int64))
    same(lambda m: m.scalar_tensor(m.tensor(2.0)))


# -- ranges -------------------------------------------------------------------------------------
ARANGES = [
    (5,),
    (1, 5),
    (1, 10, 2),
    (10, 1, -3),
    (0, 1, 0.3),
    (0, -1, -0.3),
    (0.5, 3),
    (1.0, 1.0),
    (-5, 5, 2),
    (0, 1, 0.1),
    (-(2**40), 2**40, 2**37 + 1),
    (0, 10, 3),
]


@pytest.mark.parametrize("args", ARANGES, ids=str)
@pytest.mark.parametrize("dtype", [None, "float64", "float32", "int32", "float16"])
def test_arange(args, dtype):
    def dt(m):
        return None if dtype is None else getattr(m, dtype)

    if dtype == "float16" and abs(args[0]) > 1000:
        return
    # float ranges: torch's vectorised kernel rounds in float32; allow one ulp or so
    e, t = ember.arange(*args, dtype=dt(ember)), torch.arange(*args, dtype=dt(torch))
    assert_same(e, t, rtol=1e-6, atol=1e-6)


def test_arange_length_is_torchs_not_numpys():
    for args in [(1, 1.3, 0.1), (0, 0.9, 0.3), (2**53, 2**53 + 10, 3)]:
        assert tuple(ember.arange(*args).shape) == tuple(torch.arange(*args).shape)
    same(lambda m: m.arange(2**53, 2**53 + 10, 3))  # exact: int64 ranges never go through float
    same(lambda m: m.arange(-5, 5, 2, dtype=m.uint8))
    same(lambda m: m.arange(m.tensor(5)))
    same(lambda m: m.arange(m.tensor(5.0)))
    same(lambda m: m.arange(end=5))
    same(lambda m: m.arange(start=1, end=5))
    same(lambda m: m.arange(1, 10, step=2))


def test_arange_default_dtype_and_grad():
    for m in MODULES:
        m.set_default_dtype(m.float64)
    try:
        same(lambda m: m.arange(0.0, 1.0, 0.25))
        same(lambda m: m.arange(3))
    finally:
        for m in MODULES:
            m.set_default_dtype(m.float32)
    x = ember.arange(0.0, 3.0, requires_grad=True)
    assert x.requires_grad and x.is_leaf


def test_arange_errors():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="step must be nonzero"):
            m.arange(0, 1, 0)
        with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent"):
            m.arange(1, 0)
        with pytest.raises(RuntimeError, match="upper bound and lower bound inconsistent"):
            m.arange(0, 1, -1)
        with pytest.raises(RuntimeError, match="unsupported range: 0 -> inf"):
            m.arange(float("inf"))
        with pytest.raises(RuntimeError, match="unsupported range"):
            m.arange(float("nan"))
        with pytest.raises(NotImplementedError, match="\"arange_cpu\" not implemented for 'Bool'"):
            m.arange(5, dtype=m.bool)
        with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
            m.arange(5, requires_grad=True)


@pytest.mark.parametrize(
    "args", [(0, 1, 5), (-3, 7, 11), (1, 0, 4), (0, 1, 1), (0, 1, 0), (2.5, -1.5, 100)], ids=str
)
@pytest.mark.parametrize("dtype", [None, "float64", "int64", "float16", "int32", "bfloat16"])
def test_linspace_logspace(args, dtype):
    def dt(m):
        return None if dtype is None else getattr(m, dtype)

    tol = {"float16": 1e-3, "bfloat16": 1e-2}.get(dtype, 1e-6)
    e, t = ember.linspace(*args, dtype=dt(ember)), torch.linspace(*args, dtype=dt(torch))
    assert_same(e, t, rtol=tol, atol=tol)
    for base in (10.0, 2.0):
        e = ember.logspace(*args, base=base, dtype=dt(ember))
        t = torch.logspace(*args, base=base, dtype=dt(torch))
        assert_same(e, t, rtol=max(tol, 1e-5), atol=tol)


def test_linspace_ends_exact_and_tensor_args():
    e = ember.linspace(-1.3, 2.7, 17)
    assert e[0].item() == np.float32(-1.3) and e[-1].item() == np.float32(2.7)
    same(lambda m: m.linspace(m.tensor(0.0), m.tensor(1.0), 3))
    same(lambda m: m.linspace(0, 10, 5, dtype=m.int64))
    assert ember.linspace(0, 1, 3, requires_grad=True).requires_grad


def test_linspace_errors():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
            m.linspace(0, 1, -1)
        with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
            m.logspace(0, 1, -1)
        with pytest.raises(RuntimeError, match="only supports 0-dimensional start and end"):
            m.linspace(m.tensor([0.0]), 1, 3)
        with pytest.raises(TypeError):
            m.linspace(0, 1, 2.5)


@pytest.mark.parametrize("args", [(3,), (2, 3), (3, 1), (0,), (0, 2)], ids=str)
@pytest.mark.parametrize("dtype", [None, "int64", "bool"])
def test_eye(args, dtype):
    same(lambda m: m.eye(*args, dtype=None if dtype is None else getattr(m, dtype)))


def test_eye_errors_and_grad():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="n must be greater or equal to 0, got -1"):
            m.eye(-1)
        with pytest.raises(RuntimeError, match="m must be greater or equal to 0, got -1"):
            m.eye(2, -1)
    assert ember.eye(2, requires_grad=True).requires_grad


@pytest.mark.parametrize(
    "row, col, offset", [(3, 3, 0), (3, 4, 1), (3, 4, -1), (4, 2, 5), (0, 3, 0), (5, 5, -7)]
)
@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
def test_tri_indices(row, col, offset, fn):
    same(lambda m: getattr(m, fn)(row, col, offset))
    same(lambda m: getattr(m, fn)(row, col, offset, dtype=m.int32))


def test_tri_indices_errors():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="row must be non-negative"):
            m.tril_indices(-1, 3)
        with pytest.raises(RuntimeError, match="col must be non-negative"):
            m.triu_indices(3, -1)
        with pytest.raises(
            NotImplementedError, match="\"tril_indices\" not implemented for 'Float'"
        ):
            m.tril_indices(3, 3, dtype=m.float32)


# -- meshgrid -----------------------------------------------------------------------------------
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("shapes", [[(2,), (3,)], [(2,), (3,), (4,)], [(4,)], [(), (3,)]], ids=str)
def test_meshgrid_values_and_grads(indexing, shapes):
    check_op(lambda m, *xs: m.meshgrid(*xs, indexing=indexing), *shapes)
    check_op(lambda m, *xs: m.meshgrid(list(xs), indexing=indexing), *shapes)


def test_meshgrid_gradcheck_and_default_warning():
    check_gradcheck(lambda m, x, y: m.meshgrid(x, y, indexing="xy"), (2,), (3,))
    x, y = ember.tensor([1, 2]), ember.tensor([3, 4, 5])
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        out = ember.meshgrid(x, y)
    with pytest.warns(UserWarning):
        expected = torch.meshgrid(torch.tensor([1, 2]), torch.tensor([3, 4, 5]))
    assert_same(out, expected)


def test_meshgrid_errors():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="same dtype"):
            m.meshgrid(m.tensor([1, 2]), m.tensor([3.0]), indexing="ij")
        with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor"):
            m.meshgrid(m.tensor([[1, 2]]), indexing="ij")
        with pytest.raises(RuntimeError, match="non-empty TensorList"):
            m.meshgrid(indexing="ij")
        with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij"'):
            m.meshgrid(m.tensor([1, 2]), indexing="foo")
