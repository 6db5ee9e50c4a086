"""Comparisons, logical and bitwise ops, isnan and friends, isclose/allclose/equal vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import DTYPES, assert_same, check_op

BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,))]
INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]


def both(array, dtype):
    """The same values as an ember and a torch tensor of dtype."""
    e_dtype, t_dtype = DTYPES[dtype]
    return ember.tensor(array).to(e_dtype), torch.tensor(array).to(t_dtype)


def run_both(fn, *arrays_and_dtypes):
    """fn(m, *tensors) for m = ember, torch on the same values; compare results or error types."""
    pairs = [both(a, d) for a, d in arrays_and_dtypes]
    results = []
    for i, m in enumerate((ember, torch)):
        try:
            results.append(fn(m, *(p[i] for p in pairs)))
        except Exception as error:  # the error type itself is compared
            results.append(error)
    e, t = results
    if isinstance(t, Exception):
        assert type(e) is type(t), f"ember gave {e!r}, torch raised {t!r}"
        return
    assert not isinstance(e, Exception), f"ember raised {e!r}, torch gave {t!r}"
    assert_same(e, t)


COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
ALIASES = {
    "greater": "gt",
    "greater_equal": "ge",
    "less": "lt",
    "less_equal": "le",
    "not_equal": "ne",
}


@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("name", COMPARISONS + list(ALIASES))
def test_comparisons_broadcast(name, shapes):
    rng = np.random.default_rng(0)
    # small integers stored as floats, so equality actually happens
    a, b = (rng.integers(-2, 3, s).astype(np.float32) for s in shapes)
    run_both(lambda m, x, y: getattr(m, name)(x, y), (a, "float32"), (b, "float32"))


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
@pytest.mark.parametrize("scalar", [1, 1.5, True, -1])
def test_comparison_operators_with_scalars(op, scalar):
    a = np.array([[-1, 0, 1], [2, 1, 5]])
    for dtype in ["int64", "uint8", "float32", "bool"]:
        if dtype == "uint8" and scalar == -1:
            continue  # PyTorch wraps -1 to 255 for uint8; NumPy compares the true values
        run_both(lambda m, x: eval(f"x {op} scalar"), (a, dtype))
        run_both(lambda m, x: eval(f"scalar {op} x"), (a, dtype))


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("int32", "int8"), ("bool", "int16")])
def test_comparisons_promote(dtypes):
    a, b = np.array([1, 2, 0]), np.array([1.0, 2.5, 0.0])
    run_both(lambda m, x, y: (x == y, x < y, m.ge(x, y)), (a, dtypes[0]), (b, dtypes[1]))


def test_comparisons_noncontiguous():
    check_op(lambda m, x, y: m.lt(x.T[1:], y[:, ::2]), (5, 3), (2, 10), grad=False)


def test_comparisons_nan():
    a = np.array([np.nan, 1.0, np.inf, -np.inf])
    run_both(lambda m, x: (x == x, x != x, x < 2.0, m.ge(x, -np.inf)), (a, "float32"))


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@pytest.mark.parametrize("dtypes", [("bool", "bool"), ("float32", "int64"), ("uint8", "bool")])
def test_logical_binary(name, dtypes):
    a, b = np.array([[0, 1, 2], [0, 0, -1]]), np.array([1, 0, 3])
    run_both(lambda m, x, y: getattr(m, name)(x, y), (a, dtypes[0]), (b, dtypes[1]))


@pytest.mark.parametrize("dtype", ["bool", "float32", "int64", "uint8"])
def test_logical_not(dtype):
    run_both(lambda m, x: m.logical_not(x), (np.array([0, 1, 2, 0]), dtype))


def test_logical_needs_tensor():
    x = ember.tensor([1.0, 0.0])
    with pytest.raises(TypeError, match=r"logical_xor\(\): argument 'other' \(position 2\) must"):
        ember.logical_xor(x, 2)


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
@pytest.mark.parametrize("dtype", [*INT_DTYPES, "bool"])
def test_bitwise_binary(name, dtype):
    a, b = np.array([[0, 1, 5, 7], [3, 12, 6, 1]]), np.array([3, 6, 1, 0])
    run_both(lambda m, x, y: getattr(m, name)(x, y), (a, dtype), (b, dtype))


@pytest.mark.parametrize("op", ["&", "|", "^"])
def test_bitwise_operators_mixed(op):
    a, b = np.array([0, 1, 5, 7]), np.array([1, 0, 1, 1])
    run_both(lambda m, x, y: eval(f"x {op} y"), (a, "int32"), (b, "bool"))
    run_both(lambda m, x, y: eval(f"x {op} y"), (a, "uint8"), (b, "int8"))
    run_both(lambda m, x: eval(f"x {op} 3"), (a, "int16"))
    run_both(lambda m, x: eval(f"3 {op} x"), (a, "int16"))
    run_both(lambda m, x: eval(f"x {op} True"), (b, "bool"))


@pytest.mark.parametrize("dtype", [*INT_DTYPES, "bool"])
def test_bitwise_not(dtype):
    run_both(lambda m, x: (m.bitwise_not(x), ~x), (np.array([0, 1, 5, 100]), dtype))


@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8"])
def test_shifts(dtype):
    bits = np.dtype(dtype).itemsize * 8
    a = np.array([1, 3, 5, 100, 7, 2]) if dtype == "uint8" else np.array([1, -3, 5, -100, 7, 2])
    s = np.array([0, 1, 2, bits - 1, bits, bits + 3])
    run_both(lambda m, x, y: (x << y, x >> y), (a, dtype), (s, dtype))
    run_both(lambda m, x, y: (m.bitwise_left_shift(x, y), m.bitwise_right_shift(x, y)),
             (a, dtype), (s, dtype))  # fmt: skip
    run_both(lambda m, x: (x << 2, x >> 1), (a, dtype))
    if dtype != "uint8":
        neg = np.array([-1, -2, -1, -5, -1, -1])
        run_both(lambda m, x, y: (x << y, x >> y), (a, dtype), (neg, dtype))


@pytest.mark.parametrize(
    ("call", "kernel", "dtype_name"),
    [
        (lambda m, x: m.bitwise_and(x, x), "bitwise_and_cpu", "Float"),
        (lambda m, x: m.bitwise_or(x, 1), "bitwise_or_cpu", "Float"),
        (lambda m, x: m.bitwise_xor(x.double(), x.double()), "bitwise_xor_cpu", "Double"),
        (lambda m, x: m.bitwise_not(x), "bitwise_not_cpu", "Float"),
        (lambda m, x: x << 1, "lshift_cpu", "Float"),
        (lambda m, x: x.half() >> 1, "rshift_cpu", "Half"),
        (lambda m, x: m.bitwise_and(x.long(), 2.5), "bitwise_and_cpu", "Float"),
        (lambda m, x: x.bool() << x.bool(), "lshift_cpu", "Bool"),
    ],
)
def test_bitwise_float_errors(call, kernel, dtype_name):
    for m in (ember, torch):
        with pytest.raises(
            NotImplementedError, match=f"\"{kernel}\" not implemented for '{dtype_name}'"
        ):
            call(m, m.tensor([1.0, 2.0]))


SPECIAL = np.array([0.0, -1.5, np.nan, np.inf, -np.inf, 3.0])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "isposinf", "isneginf", "isreal"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "int64", "bool"])
def test_classification(name, dtype):
    values = SPECIAL if dtype.startswith(("float", "bfloat")) else np.array([0, 1, 5])
    run_both(lambda m, x: getattr(m, name)(x), (values, dtype))
    run_both(lambda m, x: getattr(x, name)(), (values, dtype))


@pytest.mark.parametrize("equal_nan", [False, True])
@pytest.mark.parametrize(("rtol", "atol"), [(1e-5, 1e-8), (0.1, 0.0), (0.0, 0.5)])
def test_isclose_allclose(equal_nan, rtol, atol):
    a = np.array([1.0, np.inf, -np.inf, np.inf, np.nan, 2.0, 2.0, 0.0, 1e-9])
    b = np.array([1.0, np.inf, np.inf, np.nan, np.nan, 2.1, 2.5, 0.3, 0.0])
    for dtype in ["float32", "float64"]:
        run_both(lambda m, x, y: m.isclose(x, y, rtol, atol, equal_nan), (a, dtype), (b, dtype))
        run_both(lambda m, x, y: m.allclose(x, y, rtol, atol, equal_nan), (a, dtype), (b, dtype))
        run_both(lambda m, x, y: x.isclose(y, rtol=rtol, atol=atol), (a, dtype), (b, dtype))
    run_both(lambda m, x, y: m.allclose(x, y, equal_nan=True), (a, "float32"), (a, "float32"))
    ints = np.array([10, 11, 0, -3]), np.array([11, 10, 0, 3])
    run_both(lambda m, x, y: m.isclose(x, y, rtol=rtol, atol=atol), (ints[0], "int64"),
             (ints[1], "int64"))  # fmt: skip
    run_both(lambda m, x, y: m.isclose(x, y), (ints[0], "bool"), (ints[1], "bool"))


def test_isclose_broadcasts():
    check_op(lambda m, x, y: m.isclose(x, y, atol=0.5), (3, 4), (4,), grad=False)
    assert ember.allclose(ember.ones(2, 3), ember.ones(3))


def test_isclose_errors():
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Float did not match Double"):
        ember.isclose(x, x.double())
    with pytest.raises(RuntimeError, match="Long did not match Float"):
        ember.allclose(x.long(), x)
    with pytest.raises(
        RuntimeError, match="rtol must be greater than or equal to zero, but got -1"
    ):
        ember.isclose(x, x, rtol=-1)
    with pytest.raises(
        RuntimeError, match="atol must be greater than or equal to zero, but got -1"
    ):
        ember.isclose(x, x, atol=-1)
    with pytest.raises(TypeError, match=r"isclose\(\): argument 'other' \(position 2\) must be"):
        ember.isclose(x, 1.0)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of"):
        ember.isclose(x, ember.ones(3))


def test_equal():
    a = np.array([[1, 2], [3, 4]])
    for other, dtype in [(a, "int32"), (a, "float32"), (a + 1, "int64"), (a[:1], "int64")]:
        run_both(lambda m, x, y: m.equal(x, y), (a, "int64"), (other, dtype))
        run_both(lambda m, x, y: x.equal(y), (a, "int64"), (other, dtype))
    nan = np.array([1.0, np.nan])
    run_both(lambda m, x, y: m.equal(x, y), (nan, "float32"), (nan, "float32"))
    assert ember.equal(ember.ones(2, 3), ember.ones(2, 3)) is True


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x, y: x == y,
        lambda m, x, y: m.lt(x, y),
        lambda m, x, y: m.logical_and(x > 0, y > 0),
        lambda m, x, y: m.bitwise_or(x.long(), y.long()),
        lambda m, x, y: x.long() << y.long(),
    ],
)
def test_broadcast_errors(call):
    for shapes in [((2, 3), (2, 4)), ((3,), (4,)), ((2, 3, 4), (5, 4))]:
        x, y = (np.ones(s, np.float32) for s in shapes)
        with pytest.raises(RuntimeError) as t_error:
            call(torch, torch.tensor(x), torch.tensor(y))
        with pytest.raises(
            RuntimeError, match=f"^{t_error.value}$".replace("(", r"\(").replace(")", r"\)")
        ):
            call(ember, ember.tensor(x), ember.tensor(y))


def test_results_are_bool_and_not_differentiable():
    x = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    for out in (x == 0, x < 1, ember.isnan(x), ember.logical_not(x), ember.isclose(x, x)):
        assert out.dtype is ember.bool and not out.requires_grad
