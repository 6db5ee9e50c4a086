"""Float-valued elementwise math (exp/log families, roots, trig, erf, sigmoid, ...) vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_op

# name -> (low, high) of a domain where the op and its derivative are smooth
UNARY = {
    "exp": (-2, 2),
    "exp2": (-2, 2),
    "expm1": (-2, 2),
    "log": (0.1, 3),
    "log2": (0.1, 3),
    "log10": (0.1, 3),
    "log1p": (-0.9, 3),
    "sqrt": (0.1, 3),
    "rsqrt": (0.2, 3),
    "reciprocal": (0.2, 3),
    "sin": (-3, 3),
    "cos": (-3, 3),
    "tan": (-1.2, 1.2),
    "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9),
    "atan": (-3, 3),
    "sinh": (-2, 2),
    "cosh": (-2, 2),
    "tanh": (-2, 2),
    "asinh": (-3, 3),
    "acosh": (1.1, 3),
    "atanh": (-0.9, 0.9),
    "sigmoid": (-4, 4),
    "logit": (0.05, 0.95),
    "erf": (-2.5, 2.5),
    "erfc": (-2.5, 2.5),
    "erfinv": (-0.95, 0.95),
}
ALIASES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name):
    low, high = UNARY[name]
    check_op(lambda m, x: getattr(m, name)(x), (3, 4), low=low, high=high)
    check_op(lambda m, x: getattr(x, name)(), (5,), low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_noncontiguous(name):
    low, high = UNARY[name]
    check_op(lambda m, x: getattr(m, name)(x.T[1:, ::2]), (6, 4), low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    low, high = UNARY[name]
    check_gradcheck(lambda m, x: getattr(m, name)(x), (2, 3), low=low, high=high)


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_aliases(name):
    low, high = UNARY[ALIASES[name]]
    check_op(lambda m, x: getattr(m, name)(x), (4,), low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_inputs_give_float32(name, dtype):
    values = np.array([0, 1, 2, 3]) if dtype != "bool" else np.array([0, 1, 1, 0])
    check_op(lambda m, x: getattr(m, name)(x), dtype=dtype, inputs=[values.astype(dtype)])


def test_integer_inputs_follow_default_dtype():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        check_op(lambda m, x: (m.exp(x), m.sqrt(x), m.sigmoid(x)), (4,), dtype="int64", high=5)
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_unary_dtypes(name, dtype):
    low, high = UNARY[name]
    tol = {"float16": 2e-3, "bfloat16": 2e-2, "float64": 1e-10}[dtype]
    check_op(lambda m, x: getattr(m, name)(x), (7,), low=low, high=high, dtype=dtype,
             rtol=tol, atol=tol)  # fmt: skip


EDGE = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, np.inf, -np.inf, np.nan, 1e-30, 100.0, -100.0])


@pytest.mark.parametrize("name", sorted(UNARY))
def test_edge_values_silent(name):
    # inf / NaN where PyTorch gives them, and no NumPy RuntimeWarning (pytest makes those errors)
    check_op(lambda m, x: getattr(m, name)(x), grad=False, inputs=[EDGE.astype(np.float32)])


@pytest.mark.parametrize("name", ["log", "sqrt", "rsqrt", "reciprocal", "log1p", "atanh"])
def test_gradient_at_domain_edge(name):
    values = {"log1p": [-1.0, 0.0, 1.0], "atanh": [1.0, -1.0, 0.5]}.get(name, [0.0, 1.0, 4.0])
    check_op(lambda m, x: getattr(m, name)(x), inputs=[np.array(values, np.float32)])


def test_sigmoid_stable_at_extremes():
    x = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], np.float32)
    check_op(lambda m, x: m.sigmoid(x), inputs=[x], rtol=1e-6, atol=1e-30)  # ours: subnormals
    check_op(lambda m, x: m.sigmoid(x), inputs=[x.astype(np.float16)], dtype="float16", atol=0)


@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.6])
def test_logit_eps(eps):
    x = np.array([-0.5, 0.0, 0.05, 0.1, 0.5, 0.9, 0.97, 1.0, 1.5], np.float32)
    check_op(lambda m, x: m.logit(x, eps), inputs=[x])
    check_op(lambda m, x: x.logit(eps=eps), inputs=[x])


def test_logit_gradcheck_with_eps():
    x = np.array([0.05, 0.3, 0.5, 0.7, 0.95])  # clamped at both ends, none on a boundary
    check_gradcheck(lambda m, x: m.logit(x, 0.2), inputs=[x])


def test_erfinv_special_values():
    x = np.array([-1.0, 1.0, 0.0, 1.5, -1.5, np.nan, 0.9999999, -0.5], np.float32)
    check_op(lambda m, x: m.erfinv(x), inputs=[x], grad=False)
    check_op(lambda m, x: m.erfinv(x), inputs=[x.astype(np.float64)], dtype="float64", grad=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erf_family_wide_range(dtype):
    x = np.linspace(-6, 6, 97).astype(dtype)
    check_op(lambda m, x: (m.erf(x), m.erfc(x)), inputs=[x], dtype=dtype, rtol=1e-6, atol=1e-30)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,))]


@pytest.mark.parametrize("shapes", BINARY_SHAPES)
@pytest.mark.parametrize("name", ["atan2", "arctan2", "hypot"])
def test_binary_broadcast(name, shapes):
    check_op(lambda m, x, y: getattr(m, name)(x, y), *shapes)
    check_op(lambda m, x, y: getattr(x, name)(y), *shapes)


@pytest.mark.parametrize("name", ["atan2", "hypot"])
def test_binary_gradcheck(name):
    check_gradcheck(lambda m, x, y: getattr(m, name)(x, y), (2, 3), (3,), low=0.3, high=2)
    check_gradcheck(lambda m, x, y: getattr(m, name)(x.T, y), (3, 2), (2, 1), low=-2, high=-0.3)


def test_atan2_hypot_at_origin():
    zeros = [np.zeros(3, np.float32), np.array([0.0, 1.0, -1.0], np.float32)]
    check_op(lambda m, x, y: m.atan2(x, y), inputs=zeros)
    check_op(lambda m, x, y: m.atan2(y, x), inputs=zeros)
    check_op(lambda m, x, y: m.hypot(x, y), inputs=zeros)


def test_atan2_integers_and_noncontiguous():
    a, b = np.array([[1, -2, 0], [3, 0, -1]]), np.array([2, -1, 0])
    check_op(lambda m, x, y: m.atan2(x, y), dtype="int64", inputs=[a, b])
    check_op(lambda m, x, y: m.atan2(x[:, 1:], y.T), (3, 5), (4, 1))


def test_binary_errors():
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"hypot\(\): argument 'other' \(position 2\) must be"):
        ember.hypot(x, 2.0)
    with pytest.raises(TypeError, match=r"atan2\(\): argument 'other' \(position 2\) must be"):
        ember.atan2(x, 2.0)
    with pytest.raises(NotImplementedError, match="\"hypot_cpu\" not implemented for 'Long'"):
        ember.hypot(x.long(), x.long())
    with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match .* \(3\) at "):
        ember.atan2(x, ember.ones(3))


def test_double_backward_of_composites():
    # d2/dx2 of tanh, sin(x) * exp(x) and log(sigmoid(x)), through create_graph
    check_gradcheck(lambda m, x: m.tanh(x) * m.sin(x) * m.exp(x), (4,))
    check_gradcheck(lambda m, x: m.log(m.sigmoid(x)), (4,))


def test_output_is_new_node():
    x = ember.tensor([0.5, 1.0], requires_grad=True)
    out = ember.exp(x)
    assert out.grad_fn is not None and out.grad_fn.name() == "ExpBackward0"
    with ember.no_grad():
        assert ember.exp(x).grad_fn is None
    assert_same(out, torch.exp(torch.tensor([0.5, 1.0])))
