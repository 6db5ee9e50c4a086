"""Elementwise arithmetic vs PyTorch: + - * /, //, %, fmod, pow, abs/sign/relu, rounding, casts."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from tests.helpers import DTYPES, assert_same, check_gradcheck, check_op

BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,)), ((4, 1), ())]
ALL_DTYPES = list(DTYPES)


def both(array, dtype):
    """The same values as an ember and a torch tensor of dtype."""
    e_dtype, t_dtype = DTYPES[dtype]
    return ember.tensor(np.asarray(array)).to(e_dtype), torch.tensor(np.asarray(array)).to(t_dtype)


def run_both(fn, *arrays_and_dtypes, rtol=1e-4, atol=1e-5):
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
    assert_same(e, t, rtol, atol)


# -- + - * / -------------------------------------------------------------------------------
BINARY = {
    "add": lambda m, x, y: m.add(x, y),
    "sub": lambda m, x, y: m.sub(x, y),
    "mul": lambda m, x, y: m.mul(x, y),
    "div": lambda m, x, y: m.div(x, y),
    "add_alpha": lambda m, x, y: m.add(x, y, alpha=2.5),
    "sub_alpha": lambda m, x, y: x.sub(y, alpha=-3),
    "subtract": lambda m, x, y: m.subtract(x, y),
    "multiply": lambda m, x, y: m.multiply(x, y),
    "divide": lambda m, x, y: m.divide(x, y),
    "true_divide": lambda m, x, y: m.true_divide(x, y),
    "operators": lambda m, x, y: (x + y, x - y, x * y, x / y),
}


@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcast(name, shapes):
    low = 0.5 if "div" in name or name == "operators" else -2
    check_op(BINARY[name], *shapes, low=low)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_noncontiguous(name):
    check_op(lambda m, x, y: BINARY[name](m, x.T, y[:, 1:]), (4, 3), (3, 5), low=0.5)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "add_alpha", "sub_alpha"])
def test_binary_gradcheck(name):
    check_gradcheck(BINARY[name], (2, 3), (3,), low=0.5, high=2)
    check_gradcheck(BINARY[name], (2, 1), (), low=0.5, high=2)


SCALAR_EXPRESSIONS = [
    "x + 2",
    "2 + x",
    "x - 2.5",
    "2 - x",
    "x * 3",
    "1.5 * x",
    "x / 4",
    "2 / x",
    "x ** 2",
    "2 ** x",
    "x ** 0.5",
    "0.5 ** x",
    "x ** -1",
    "-x",
    "+x",
    "abs(x)",
    "x % 0.7",
]
# PyTorch has no derivative for floor_divide, nor for remainder with a scalar dividend
NO_TORCH_GRAD = ["x // 0.7", "3 // x", "3 % x"]


@pytest.mark.parametrize("expression", SCALAR_EXPRESSIONS + NO_TORCH_GRAD)
def test_python_scalars_both_sides(expression):
    grad = expression not in NO_TORCH_GRAD
    check_op(lambda m, x: eval(expression), (3, 4), low=0.5, high=3, grad=grad)


@pytest.mark.parametrize("expression", SCALAR_EXPRESSIONS[:10])
def test_python_scalars_gradcheck(expression):
    check_gradcheck(lambda m, x: eval(expression), (2, 3), low=0.5, high=2)


def test_double_backward_through_broadcasting():
    check_gradcheck(lambda m, x, y: x * y * y, (2, 3), (3,))
    check_gradcheck(lambda m, x: x * x * x, (4,))
    check_gradcheck(lambda m, x, y: (x - y) / (x * y), (3, 1), (1, 2), low=0.5)


# -- type promotion ------------------------------------------------------------------------
PROMOTION_OPS = {
    "add": lambda m, x, y: x + y,
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / y,
    "sub": lambda m, x, y: x - y,
    "floor_divide": lambda m, x, y: m.floor_divide(x, y),
    "remainder": lambda m, x, y: m.remainder(x, y),
    "pow": lambda m, x, y: m.pow(x, y),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "eq": lambda m, x, y: x == y,
}


@pytest.mark.parametrize("name", sorted(PROMOTION_OPS))
def test_promotion_table(name):
    a, b = np.array([[1, 2, 3], [0, 1, 2]]), np.array([2, 1, 3])
    for d1, d2 in itertools.product(ALL_DTYPES, repeat=2):
        run_both(PROMOTION_OPS[name], (a, d1), (b, d2), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("name", sorted(PROMOTION_OPS))
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_promotion_with_scalars_and_zero_dim(name, scalar):
    a = np.array([[1, 2, 3], [0, 1, 2]])
    fn = PROMOTION_OPS[name]
    for dtype in ALL_DTYPES:
        if name == "maximum":
            break  # tensors only, as PyTorch
        run_both(lambda m, x: fn(m, x, scalar), (a, dtype), rtol=1e-2, atol=1e-2)
        if name not in ("floor_divide",):
            run_both(lambda m, x: fn(m, scalar, x), (a + 1, dtype), rtol=1e-2, atol=1e-2)
        for zero_dim in ("float64", "int64", "int8", "bool"):
            run_both(fn, (a, dtype), (np.array(scalar), zero_dim), rtol=1e-2, atol=1e-2)


def test_promotion_examples():
    i = ember.tensor([1, 2, 3])
    assert (i * 2.5).dtype is ember.float32
    assert (i / i).dtype is ember.float32
    assert (ember.ones(2).half() + ember.ones(2)).dtype is ember.float32
    assert (ember.ones(2).to(ember.uint8) + ember.ones(2).to(ember.int8)).dtype is ember.int16
    assert (ember.ones(2).half() + ember.tensor(1.0, dtype=ember.float64)).dtype is ember.float16
    ember.set_default_dtype(ember.float64)
    assert (i / 2).dtype is ember.float64


def test_bool_arithmetic():
    t = np.array([True, False, True])
    run_both(lambda m, x, y: (x + y, x * y, x / y, x + 1), (t, "bool"), (t[::-1].copy(), "bool"))
    for call in [lambda m, x: x - x, lambda m, x: x - True, lambda m, x: x - 1, lambda m, x: -x]:
        run_both(call, (t, "bool"))
    x = ember.tensor([True])
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool tensors"):
        ember.sub(x, x)
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor is"):
        ember.sub(x, 1)
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with a bool tensor is"):
        ember.sub(ember.ones(2), True)
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        ember.neg(x)


# -- division family -----------------------------------------------------------------------
SIGNED = (np.array([[7, -7, 6, -6, 0, 5]]), np.array([2, 2, -4, -4, 3, -1]))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "float32", "float64"])
def test_rounded_division_and_modulo(dtype):
    calls = [
        lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
        lambda m, x, y: m.div(x, y, rounding_mode="floor"),
        lambda m, x, y: m.floor_divide(x, y),
        lambda m, x, y: x // y,
        lambda m, x, y: m.remainder(x, y),
        lambda m, x, y: x % y,
        lambda m, x, y: m.fmod(x, y),
        lambda m, x, y: m.div(x, y),
    ]
    for call in calls:
        run_both(call, (SIGNED[0], dtype), (SIGNED[1], dtype))
        run_both(lambda m, x, c=call: c(m, x, 3), (SIGNED[0], dtype))
        run_both(lambda m, x, c=call: c(m, x, -2.5), (SIGNED[0], dtype))


def test_modulo_float_edges():
    x = np.array([5.5, -5.5, 2.0, -0.0, np.inf, 3.0], np.float32)
    y = np.array([-2.0, 2.0, np.inf, 1.0, 2.0, 0.0], np.float32)
    check_op(lambda m, a, b: (m.remainder(a, b), m.fmod(a, b)), inputs=[x, y], grad=False)
    check_op(lambda m, a, b: m.div(a, b, rounding_mode="floor"), inputs=[x, y], grad=False)
    check_op(lambda m, a, b: m.div(a, b, rounding_mode="trunc"), inputs=[x, y], grad=False)
    check_op(lambda m, a, b: a / b, inputs=[x, y], grad=False)


@pytest.mark.parametrize("shapes", BROADCAST[:3])
@pytest.mark.parametrize("name", ["remainder", "fmod"])
def test_modulo_gradients(name, shapes):
    check_op(lambda m, x, y: getattr(m, name)(x, y), *shapes, low=0.3, high=3)
    check_gradcheck(lambda m, x, y: getattr(m, name)(x, y), (2, 3), (3,), low=0.3, high=3, seed=1)


def test_rounded_division_has_zero_gradient():
    check_op(lambda m, x, y: m.div(x, y, rounding_mode="trunc"), (3, 4), (4,), low=0.5)
    check_op(lambda m, x, y: m.div(x, y, rounding_mode="floor"), (3, 4), (4,), low=0.5)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.floor_divide(x, m.tensor([1, 0, 2])),
        lambda m, x: x // 0,
        lambda m, x: x % 0,
        lambda m, x: m.fmod(x, 0),
        lambda m, x: m.div(x, 0, rounding_mode="trunc"),
        lambda m, x: m.remainder(x, m.tensor(0)),
    ],
)
def test_integer_division_by_zero(call):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            call(m, m.tensor([5, -7, 3]))


def test_integer_true_division_by_zero_is_inf():
    run_both(lambda m, x, y: x / y, (np.array([1, -1, 0]), "int64"), (np.array([0, 0, 0]), "int64"))


def test_div_rounding_mode_error():
    with pytest.raises(RuntimeError, match="div expected rounding_mode to be one of None, 'trunc'"):
        ember.div(ember.ones(2), 2, rounding_mode="round")


# -- powers --------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", BROADCAST)
def test_pow_tensor_tensor(shapes):
    check_op(lambda m, x, y: m.pow(x, y), *shapes, low=0.5, high=2)
    check_op(lambda m, x, y: x**y, *shapes, low=0.5, high=2)


def test_pow_gradcheck():
    check_gradcheck(lambda m, x, y: m.pow(x, y), (2, 3), (3,), low=0.5, high=2)
    check_gradcheck(lambda m, x: m.pow(x, 3), (2, 3))
    check_gradcheck(lambda m, x: m.pow(x, 2.5), (2, 3), low=0.5)
    check_gradcheck(lambda m, x: m.pow(2.5, x), (2, 3))
    check_gradcheck(lambda m, x: m.float_power(x, 1.5), (3,), low=0.5)


def test_pow_at_zero_follows_torch():
    x = np.array([0.0, 0.0, 0.0, 2.0, -1.0, 0.0], np.float32)
    y = np.array([0.0, 2.0, -1.0, 0.0, -2.0, 0.5], np.float32)
    check_op(lambda m, a, b: m.pow(a, b), inputs=[x, y])
    check_op(lambda m, a: m.pow(a, 0), inputs=[x])
    check_op(lambda m, a: m.pow(a, 2), inputs=[x])
    check_op(lambda m, b: m.pow(0.0, b), inputs=[y])
    check_op(lambda m, b: m.pow(-2.0, b), inputs=[y])


def test_pow_integers():
    base, exponent = np.array([2, -3, 1, -1, 0, 5]), np.array([3, -1, -2, -3, 0, -1])
    for dtype in ["int64", "int32", "int8", "uint8"]:
        exp = np.abs(exponent) if dtype == "uint8" else exponent
        run_both(lambda m, x, y: m.pow(x, y), (base, dtype), (exp, dtype))
        run_both(lambda m, x: (x**2, 2**x, m.pow(x, 0), x**2.5, 2.5**x), (np.abs(base), dtype))
    run_both(lambda m, x: m.pow(2, x), (exponent, "int64"))
    run_both(lambda m, x: m.pow(-2, x), (exponent, "int64"))
    with pytest.raises(RuntimeError, match="Integers to negative integer powers are not allowed"):
        ember.tensor([1, 2]) ** -1


def test_pow_bool_and_square():
    t = np.array([True, False])
    run_both(lambda m, x: (x**2, x**2.0, 2**x, m.square(x)), (t, "bool"))
    for call in [lambda m, x: x**x, lambda m, x: x**True, lambda m, x: x**False]:
        run_both(call, (t, "bool"))
    run_both(lambda m, x: True**x, (t, "bool"))
    with pytest.raises(NotImplementedError, match="\"pow\" not implemented for 'Bool'"):
        ember.pow(ember.tensor([True]), ember.tensor([True]))
    check_op(lambda m, x: m.square(x), (3, 4))
    check_op(lambda m, x: m.square(x), (3,), dtype="int32")
    check_gradcheck(lambda m, x: m.square(x), (2, 3))


def test_float_power():
    check_op(lambda m, x, y: m.float_power(x, y), (3, 4), (4,), low=0.5)
    check_op(lambda m, x: (m.float_power(x, 2), m.float_power(2, x)), (4,), dtype="int64", high=4)
    check_op(lambda m, x: x.float_power(3), (2, 3))


# -- sign and magnitude, relu --------------------------------------------------------------
KINKS = np.array([-2.0, -0.0, 0.0, 0.5, 3.0, np.nan, np.inf, -np.inf], np.float32)


@pytest.mark.parametrize("name", ["abs", "absolute", "neg", "negative", "sign", "sgn", "relu"])
def test_sign_magnitude(name):
    grad = name != "sgn"  # torch's sgn gradient is a ZeroTensor, which has no numpy()
    check_op(lambda m, x: getattr(m, name)(x), (3, 4), grad=grad)
    check_op(lambda m, x: getattr(x, name)(), (5,), grad=grad)
    check_op(lambda m, x: getattr(m, name)(x.T[::2]), (4, 3), grad=grad)
    kinks = np.array([-1.0, 0.0, 2.0], np.float32)
    check_op(lambda m, x: getattr(m, name)(x), inputs=[kinks], grad=grad)
    check_op(lambda m, x: getattr(m, name)(x), inputs=[KINKS], grad=False)
    for dtype in ["int64", "int8", "uint8", "bool"]:
        run_both(lambda m, x: getattr(m, name)(x), (np.array([3, 0, 1, 250]), dtype))


@pytest.mark.parametrize("name", ["abs", "neg", "relu"])
def test_sign_magnitude_gradcheck(name):
    check_gradcheck(lambda m, x: getattr(m, name)(x), (2, 3), low=0.2)
    check_gradcheck(lambda m, x: getattr(m, name)(x), (2, 3), low=-2, high=-0.2)


# -- rounding ------------------------------------------------------------------------------
ROUNDING = {
    "floor": lambda m, x: m.floor(x),
    "ceil": lambda m, x: m.ceil(x),
    "trunc": lambda m, x: m.trunc(x),
    "fix": lambda m, x: m.fix(x),
    "round": lambda m, x: m.round(x),
    "round_2": lambda m, x: m.round(x, decimals=2),
    "round_-1": lambda m, x: x.round(decimals=-1),
    "frac": lambda m, x: m.frac(x),
}
HALVES = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 0.375, 1234.5678, -7.25, 15.0], np.float32)


@pytest.mark.parametrize("name", sorted(ROUNDING))
def test_rounding(name):
    check_op(ROUNDING[name], (3, 4), low=-30, high=30)
    check_op(lambda m, x: ROUNDING[name](m, x[:, 1:].T), (3, 4), low=-30, high=30)
    check_op(ROUNDING[name], inputs=[HALVES])
    check_op(ROUNDING[name], inputs=[np.concatenate([HALVES, KINKS])], grad=False)
    check_op(ROUNDING[name], inputs=[HALVES.astype(np.float64)], dtype="float64")
    check_op(ROUNDING[name], inputs=[HALVES.astype(np.float16)], dtype="float16", grad=False)


@pytest.mark.parametrize("name", sorted(ROUNDING))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_rounding_integers(name, dtype):
    run_both(ROUNDING[name], (np.array([3, 0, 1, 250]), dtype))


def test_rounding_gradients():
    check_gradcheck(lambda m, x: m.frac(x), (2, 3), low=0.1, high=0.9)
    for name in ("floor", "ceil", "trunc", "round", "round_2"):
        check_gradcheck(ROUNDING[name], (2, 3), inputs=[np.array([0.3, 1.2, -0.6])])
    check_gradcheck(lambda m, x: m.sign(x), (4,), low=0.2)


# -- casts and copies ----------------------------------------------------------------------
def test_clone_and_cast():
    check_op(lambda m, x: m.clone(x.T), (3, 4))
    check_op(lambda m, x: x.double() * 2, (3, 4))
    check_gradcheck(lambda m, x: m.clone(x * 2) * x.double(), (3,))
    x = ember.ones(2, 3).T
    assert ember.clone(x).is_contiguous()


# -- broadcasting errors and properties ----------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda m, x, y: x + y,
        lambda m, x, y: x - y,
        lambda m, x, y: x * y,
        lambda m, x, y: x / y,
        lambda m, x, y: x**y,
        lambda m, x, y: x // y,
        lambda m, x, y: x % y,
        lambda m, x, y: m.fmod(x, y),
        lambda m, x, y: m.add(x, y, alpha=2),
    ],
)
@pytest.mark.parametrize("shapes", [((2, 3), (2, 4)), ((3,), (4,)), ((2, 3, 4), (5, 4))])
def test_broadcast_error_message(call, shapes):
    x, y = (np.ones(s, np.float32) for s in shapes)
    with pytest.raises(RuntimeError) as t_error:
        call(torch, torch.tensor(x), torch.tensor(y))
    message = str(t_error.value)
    with pytest.raises(RuntimeError) as e_error:
        call(ember, ember.tensor(x, requires_grad=True), ember.tensor(y))
    assert str(e_error.value) == message
    assert e_error.value.__suppress_context__ or e_error.value.__context__ is None


@settings(max_examples=30, deadline=None)
@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op=st.sampled_from(["add", "mul", "sub", "div"]),
)
def test_broadcasting_property(shapes, op):
    check_op(lambda m, x, y: getattr(m, op)(x, y), *shapes.input_shapes, low=0.5)


def test_add_mul_keep_no_graph_without_grad():
    x = ember.ones(3)
    assert (x + x).grad_fn is None and (x * 2).grad_fn is None
    with ember.no_grad():
        y = ember.ones(3, requires_grad=True)
        assert (y * y).grad_fn is None
