import math

import numpy as np
import pytest
import torch
import torch.testing

import ember
from ember.testing import assert_close, make_tensor

X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
Y = X.copy()
Y[1] += 0.1
M = np.arange(12, dtype=np.float32).reshape(3, 4)


def f32(*values):
    return np.array(values, dtype=np.float32)


# Each case builds (actual, expected, kwargs) with m = ember or torch: one body for both.
CASES = {
    "equal": lambda m: (m.tensor(X), m.tensor(X), {}),
    "close_within_default_tol": lambda m: (m.tensor(X), m.tensor(X * (1 + 1e-7)), {}),
    "mismatch_1d": lambda m: (m.tensor(X), m.tensor(Y), {}),
    "mismatch_2d": lambda m: (m.tensor(M), m.tensor(M + np.eye(3, 4, dtype=np.float32)), {}),
    "mismatch_transposed": lambda m: (m.tensor(M).T, m.tensor(M.T.copy() * 1.5), {}),
    "mismatch_sliced": lambda m: (m.tensor(M)[:, 1:], m.tensor(M[:, 1:] + 0.5), {}),
    "zero_dim": lambda m: (m.tensor(np.float32(1.0)), m.tensor(np.float32(2.0)), {}),
    "int": lambda m: (m.tensor([1, 2, 3]), m.tensor([1, 5, 0]), {}),
    "bool": lambda m: (m.tensor([True, False]), m.tensor([True, True]), {}),
    "uint8": lambda m: (m.tensor(np.uint8([1, 9])), m.tensor(np.uint8([3, 9])), {}),
    "float64": lambda m: (m.tensor(X.astype(np.float64)), m.tensor(Y.astype(np.float64)), {}),
    "float16": lambda m: (
        m.tensor(np.float16([1.0, 2.0])),
        m.tensor(np.float16([1.001, 2.1])),
        {},
    ),
    "float16_close": lambda m: (
        m.tensor(np.float16([1.0, 2.0])),
        m.tensor(np.float16([1.0009, 2.0])),
        {},
    ),
    "bfloat16": lambda m: (
        m.tensor([1.0, 2.0], dtype=m.bfloat16),
        m.tensor([1.01, 2.5], dtype=m.bfloat16),
        {},
    ),
    "zero_where_matched": lambda m: (
        m.tensor(f32(0.0, 1.0, 0.0)),
        m.tensor(f32(0.0, 2.0, 0.0)),
        {},
    ),
    "int_zero_where_matched": lambda m: (m.tensor([0, 1, 0]), m.tensor([0, 3, 0]), {}),
    "subclass_allowed": lambda m: (m.nn.Parameter(m.tensor(X)), m.tensor(X), {}),
    "subclass_refused": lambda m: (
        m.nn.Parameter(m.tensor(X)),
        m.tensor(X),
        {"allow_subclasses": False},
    ),
    "rel_div_by_zero": lambda m: (m.tensor(f32(0.0, 1.0)), m.tensor(f32(1e-3, 0.0)), {}),
    "nan": lambda m: (m.tensor(f32(np.nan, 1.0)), m.tensor(f32(np.nan, 1.0)), {}),
    "nan_equal": lambda m: (
        m.tensor(f32(np.nan, 1.0)),
        m.tensor(f32(np.nan, 1.0)),
        {"equal_nan": True},
    ),
    "inf": lambda m: (m.tensor(f32(np.inf, 1.0)), m.tensor(f32(-np.inf, 1.0)), {}),
    "dtype": lambda m: (m.tensor(X), m.tensor(X.astype(np.float64)), {}),
    "dtype_unchecked": lambda m: (
        m.tensor(X),
        m.tensor(Y.astype(np.float64)),
        {"check_dtype": False},
    ),
    "dtype_unchecked_int": lambda m: (
        m.tensor([1, 2]),
        m.tensor(f32(1.0, 2.5)),
        {"check_dtype": False},
    ),
    "shape": lambda m: (m.tensor(X), m.tensor(X[:3]), {}),
    "stride_checked": lambda m: (m.tensor(M).T, m.tensor(M.T.copy()), {"check_stride": True}),
    "stride_unchecked": lambda m: (m.tensor(M).T, m.tensor(M.T.copy()), {}),
    "requires_grad": lambda m: (m.tensor(X, requires_grad=True), m.tensor(Y), {}),
    "explicit_tol": lambda m: (m.tensor(X), m.tensor(Y), {"rtol": 1e-3, "atol": 1e-3}),
    "explicit_tol_pass": lambda m: (m.tensor(X), m.tensor(Y), {"rtol": 0.1, "atol": 0.0}),
    "only_rtol": lambda m: (m.tensor(X), m.tensor(X), {"rtol": 1e-3}),
    "only_atol": lambda m: (1.0, 1.0, {"atol": 1e-3}),
    "exact_tol": lambda m: (m.tensor(X), m.tensor(Y), {"rtol": 0, "atol": 0}),
    "msg_str": lambda m: (m.tensor(X), m.tensor(Y), {"msg": "boom"}),
    "msg_callable": lambda m: (m.tensor(X), m.tensor(Y), {"msg": lambda s: f"Head\n{s}\nFoot"}),
    "float_scalars": lambda m: (1.0, 1.0 + 1e-8, {}),
    "float_scalars_far": lambda m: (1.0, 1.5, {}),
    "float_scalar_zero": lambda m: (1.0, 0.0, {}),
    "int_scalars": lambda m: (1, 2, {}),
    "mixed_scalars": lambda m: (1.0, 2, {}),
    "mixed_scalars_unchecked": lambda m: (2.0, 2, {"check_dtype": False}),
    "numpy_scalar": lambda m: (np.float32(1.0), 1.0, {}),
    "complex_scalars": lambda m: (1 + 1j, 1 + 2j, {}),
    "scalar_nan": lambda m: (math.nan, math.nan, {"equal_nan": True}),
    "bools": lambda m: (True, False, {}),
    "numpy_bool": lambda m: (np.bool_(True), True, {}),
    "none": lambda m: (None, None, {}),
    "none_mismatch": lambda m: (None, 1, {}),
    "strings": lambda m: ("a", "a", {}),
    "sequence": lambda m: ([m.tensor(X), 1.0], [m.tensor(X), 1.0], {}),
    "sequence_item": lambda m: (
        [m.tensor(X), (2.0, m.tensor(X))],
        [m.tensor(X), (2.0, m.tensor(Y))],
        {},
    ),
    "sequence_length": lambda m: ([1, 2], [1], {}),
    "mapping": lambda m: ({"a": m.tensor(X), "b": 1}, {"b": 1, "a": m.tensor(X)}, {}),
    "mapping_item": lambda m: ({"a": [1.0, 2.0]}, {"a": [1.0, 3.0]}, {}),
    "mapping_keys": lambda m: ({"a": 1, "c": 2}, {"b": 1, "c": 2}, {}),
    "first_failure_wins": lambda m: ([m.tensor(Y), 1], [m.tensor(X), 2], {}),
    "origination_error_first": lambda m: ([m.tensor(Y), [1]], [m.tensor(X), [1, 2]], {}),
    "tensor_vs_float": lambda m: (m.tensor(X), 1.0, {}),
    "numpy_arrays": lambda m: (X, Y, {}),
    "empty": lambda m: (
        m.tensor(np.zeros((0, 3), np.float32)),
        m.tensor(np.zeros((0, 3), np.float32)),
        {},
    ),
}


def _run(fn, module):
    actual, expected, kwargs = CASES[fn](module)
    check = torch.testing.assert_close if module is torch else assert_close
    try:
        check(actual, expected, **kwargs)
    except Exception as error:
        return type(error), str(error)
    return None


def _normalise(message: str) -> str:
    # Type names are the only intended difference.
    return (
        message.replace("torch.", "ember.")
        .replace("<class 'ember.Tensor'>", "<class 'Tensor'>")
        .replace("<class 'ember.tensor.Tensor'>", "<class 'Tensor'>")
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_assert_close_matches_torch(case):
    expected = _run(case, torch)
    actual = _run(case, ember)
    if expected is None:
        assert actual is None, actual
    else:
        assert actual is not None, f"torch raised {expected} but ember passed"
        assert actual[0] is expected[0]
        assert _normalise(actual[1]) == _normalise(expected[1])


def test_assert_close_mismatch_message_format():
    with pytest.raises(AssertionError) as info:
        assert_close(ember.tensor(X), ember.tensor(Y))
    lines = str(info.value).split("\n")
    assert lines[0] == "Tensor-likes are not close!"
    assert lines[2] == "Mismatched elements: 1 / 4 (25.0%)"
    assert lines[3].endswith("at index (1,) (up to 1e-05 allowed)")
    assert lines[4].endswith("at index (1,) (up to 1.3e-06 allowed)")


@pytest.mark.parametrize(
    ("dtype", "low", "high"),
    [
        ("float32", -9, 9),
        ("float64", -9, 9),
        ("float16", -9, 9),
        ("bfloat16", -9, 9),
        ("int64", -9, 10),
        ("int32", -9, 10),
        ("int8", -9, 10),
        ("int16", -9, 10),
        ("uint8", 0, 10),
        ("bool", 0, 2),
    ],
)
def test_make_tensor_default_range(dtype, low, high):
    t = make_tensor(40, 50, dtype=getattr(ember, dtype), device="cpu")
    ref = torch.testing.make_tensor(40, 50, dtype=getattr(torch, dtype), device="cpu")
    assert t.dtype == getattr(ember, dtype)
    assert tuple(t.shape) == tuple(ref.shape) == (40, 50)
    values = t.to(ember.float64).numpy()
    # Rounding to a 16-bit float can land on the upper bound, in PyTorch too.
    upper_ok = values.max() <= high if dtype in ("float16", "bfloat16") else values.max() < high
    assert values.min() >= low and upper_ok
    # 2000 draws reach near both ends of the range.
    assert values.min() < low + 1 and values.max() >= high - 1
    if dtype != "bool" and not dtype.startswith(("float", "bfloat")):
        assert set(np.unique(values)) == set(np.unique(ref.to(torch.float64).numpy()))


def test_make_tensor_low_high_and_clamping():
    t = make_tensor((100,), dtype=ember.float32, device="cpu", low=2.0, high=3.0)
    assert t.numpy().min() >= 2.0 and t.numpy().max() < 3.0
    t = make_tensor(200, dtype=ember.int8, device="cpu", low=-1000, high=1000)
    assert t.numpy().min() >= -128
    t = make_tensor(5, dtype=ember.float32, device="cpu", low=-math.inf, high=math.inf)
    assert np.isfinite(t.numpy()).all()


def test_make_tensor_noncontiguous():
    t = make_tensor(3, 4, dtype=ember.float32, device="cpu", noncontiguous=True)
    ref = torch.testing.make_tensor(3, 4, dtype=torch.float32, device="cpu", noncontiguous=True)
    assert tuple(t.shape) == (3, 4)
    assert not t.is_contiguous() and not ref.is_contiguous()
    assert t.stride() == ref.stride()
    single = make_tensor(1, dtype=ember.float32, device="cpu", noncontiguous=True)
    assert single.is_contiguous()


def test_make_tensor_exclude_zero_and_grad():
    t = make_tensor(500, dtype=ember.int8, device="cpu", low=-1, high=2, exclude_zero=True)
    assert (t.numpy() != 0).all()
    b = make_tensor(500, dtype=ember.bool, device="cpu", exclude_zero=True)
    assert b.numpy().all()
    f = make_tensor(3, dtype=ember.float64, device="cpu", requires_grad=True)
    assert f.requires_grad and f.is_leaf
    assert not make_tensor(3, dtype=ember.float32, device="cpu").requires_grad


def test_make_tensor_uses_ember_generator():
    ember.manual_seed(3)
    a = make_tensor(4, dtype=ember.float32, device="cpu")
    ember.manual_seed(3)
    b = make_tensor(4, dtype=ember.float32, device="cpu")
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dtype": "float32", "low": 1.0, "high": 0.0},
        {"dtype": "int64", "low": 5, "high": 5},
        {"dtype": "float32", "low": math.nan},
        {"dtype": "uint8", "low": -10, "high": -1},
        {"dtype": "int64", "requires_grad": True},
        {"dtype": "float32", "noncontiguous": True, "memory_format": "x"},
    ],
)
def test_make_tensor_errors(kwargs):
    dtype = kwargs.pop("dtype")
    with pytest.raises(ValueError) as expected:
        torch.testing.make_tensor(
            2,
            3,
            dtype=getattr(torch, dtype),
            device="cpu",
            **{
                k: (torch.contiguous_format if k == "memory_format" else v)
                for k, v in kwargs.items()
            },
        )
    msg = (
        str(expected.value)
        .replace("torch.", "ember.")
        .replace("memory_format=ember.contiguous_format", "memory_format='x'")
    )
    with pytest.raises(ValueError) as actual:
        make_tensor(2, 3, dtype=getattr(ember, dtype), device="cpu", **kwargs)
    assert str(actual.value) == msg
