"""copysign, heaviside, signbit, nextafter, logaddexp(2), frexp, ldexp, gcd, lcm, ... vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops.bitmath import (
    copysign,
    deg2rad,
    frexp,
    gcd,
    heaviside,
    lcm,
    ldexp,
    logaddexp,
    logaddexp2,
    nextafter,
    positive,
    rad2deg,
    rsub,
    signbit,
)
from tests.helpers import assert_same, check_gradcheck, check_op

OPS = {
    "copysign": copysign,
    "deg2rad": deg2rad,
    "frexp": frexp,
    "gcd": gcd,
    "heaviside": heaviside,
    "lcm": lcm,
    "ldexp": ldexp,
    "logaddexp": logaddexp,
    "logaddexp2": logaddexp2,
    "nextafter": nextafter,
    "positive": positive,
    "rad2deg": rad2deg,
    "rsub": rsub,
    "signbit": signbit,
}


def op(m, name):
    return OPS[name] if m is ember else getattr(torch, name)


BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,))]


def pair(dtype_a, dtype_b, seed=0):
    """Two tensors per library of the given dtype names, with zeros and negatives."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-5, 6, (3, 4)).astype(dtype_a)
    b = rng.integers(-5, 6, (4,)).astype(dtype_b)
    return (ember.tensor(a), ember.tensor(b)), (torch.tensor(a), torch.tensor(b))


def both(fn, e_args, t_args):
    assert_same(fn(ember, *e_args), fn(torch, *t_args))


# -- copysign -------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("name", ["copysign", "logaddexp", "logaddexp2", "nextafter"])
def test_binary_float(name, shapes):
    check_op(lambda m, x, y: op(m, name)(x, y), *shapes)


@pytest.mark.parametrize("name", ["copysign", "logaddexp", "logaddexp2", "nextafter"])
def test_binary_noncontiguous(name):
    check_op(lambda m, x, y: op(m, name)(x.T[1:], y[:, ::2]), (4, 4), (3, 8))


def test_copysign_zeros_and_scalar():
    x = np.array([0.0, -0.0, 1.5, -2.0], dtype=np.float32)
    check_op(lambda m, a: m.copysign(a, -1.0) if m is torch else copysign(a, -1.0), inputs=[x])
    check_op(lambda m, a: op(m, "copysign")(a, a.flip(0)), inputs=[x])


@pytest.mark.parametrize(
    "da,db", [("int64", "int64"), ("int32", "float64"), ("bool", "int8"), ("float32", "float64")]
)
def test_copysign_promotion(da, db):
    e, t = pair(da, db)
    both(lambda m, a, b: op(m, "copysign")(a, b), e, t)
    both(lambda m, a, b: op(m, "copysign")(a, 2), e, t)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_stable_and_infinite(name):
    x = np.array([1000.0, -1000.0, np.inf, -np.inf, 3.0, -np.inf], dtype=np.float32)
    y = np.array([999.0, -1001.0, np.inf, -np.inf, -np.inf, 2.0], dtype=np.float32)
    e = op(ember, name)(ember.tensor(x), ember.tensor(y))
    t = op(torch, name)(torch.tensor(x), torch.tensor(y))
    assert_same(e, t)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_promotion(name):
    e, t = pair("float32", "float64")
    both(lambda m, a, b: op(m, name)(a, b), e, t)
    e, t = pair("float16", "float16")
    both(lambda m, a, b: op(m, name)(a, b), e, t)


@pytest.mark.parametrize("name", ["copysign", "logaddexp", "logaddexp2"])
def test_binary_gradcheck(name):
    check_gradcheck(lambda m, x, y: op(m, name)(x, y), (2, 3), (3,))


def test_nextafter_values():
    x = np.array([0.0, 1.0, -1.0, 1.0], dtype=np.float64)
    y = np.array([1.0, 2.0, -2.0, 1.0], dtype=np.float64)
    check_op(lambda m, a, b: op(m, "nextafter")(a, b), inputs=[x, y], dtype="float64", rtol=0)


# -- heaviside, signbit -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float64"])
def test_heaviside(dtype):
    x = np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.0]]).astype(dtype)
    v = np.array([0.5, 1.0, 0.0]).astype(dtype) if dtype != "bool" else np.array([True] * 3)
    e = heaviside(ember.tensor(x), ember.tensor(v))
    t = torch.heaviside(torch.tensor(x), torch.tensor(v))
    assert_same(e, t)


def test_heaviside_nan_and_errors():
    x = ember.tensor([float("nan"), 0.0])
    assert_same(
        heaviside(x, ember.tensor([0.7])),
        torch.heaviside(torch.tensor([np.nan, 0.0]), torch.tensor([0.7])),
    )
    with pytest.raises(RuntimeError, match="different dtypes"):
        heaviside(x, ember.tensor([1]))
    with pytest.raises(TypeError, match="argument 'values'"):
        heaviside(x, 0.5)
    y = ember.tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="derivative for aten::heaviside is not implemented"):
        heaviside(y, ember.tensor(0.5)).sum().backward()


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int8", "bool"]
)
def test_signbit(dtype):
    x = np.array([-0.0, 0.0, -1.0, 2.0, -3.0])
    if dtype == "bool":
        x = x != 0
    check_op(
        lambda m, a: op(m, "signbit")(a),
        inputs=[x.astype("float32" if dtype == "bfloat16" else dtype)],
        dtype=dtype,
        grad=False,
    )


# -- frexp, ldexp -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_frexp(dtype):
    x = np.array([[0.0, 1.0, -3.5], [1e-3, 7.25, -1e4]]).astype(dtype)
    check_op(lambda m, a: op(m, "frexp")(a), inputs=[x], dtype=dtype)


def test_frexp_noncontiguous_and_fields():
    check_op(lambda m, a: op(m, "frexp")(a.T[1:]), (3, 4), low=-50, high=50)
    out = frexp(ember.tensor([8.0]))
    assert out.mantissa.item() == 0.5 and out.exponent.item() == 4
    assert out.exponent.dtype is ember.int32


def test_frexp_gradcheck():
    check_gradcheck(lambda m, x: op(m, "frexp")(x)[0], (2, 3), low=0.3, high=5)


def test_frexp_int_error():
    with pytest.raises(RuntimeError, match=r"torch.frexp\(\) only supports floating-point dtypes"):
        frexp(ember.tensor([1, 2]))


@pytest.mark.parametrize("shapes", BROADCAST)
def test_ldexp_float(shapes):
    check_op(lambda m, x, y: op(m, "ldexp")(x, y), *shapes)


@pytest.mark.parametrize(
    "da,db",
    [
        ("float32", "int64"),
        ("int64", "int64"),
        ("float64", "int32"),
        ("int32", "float32"),
        ("float16", "int64"),
    ],
)
def test_ldexp_dtypes(da, db):
    e, t = pair(da, db)
    both(lambda m, a, b: op(m, "ldexp")(a, b), e, t)


def test_ldexp_int_exponent_grad():
    x = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    k = np.array([2, 0])  # NOTE: torch's backward gives 0 for negative int exponents
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = ldexp(e, ember.tensor(k)), torch.ldexp(t, torch.tensor(k))
    assert_same(eo, to)
    g = np.arange(4.0, dtype=np.float32).reshape(2, 2)
    assert_same(
        ember.autograd.grad(eo, e, ember.tensor(g))[0],
        torch.autograd.grad(to, t, torch.tensor(g))[0],
    )


def test_ldexp_gradcheck():
    check_gradcheck(lambda m, x, y: op(m, "ldexp")(x, y), (2, 3), (3,))


# -- gcd, lcm ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gcd", "lcm"])
@pytest.mark.parametrize(
    "da,db", [("int64", "int64"), ("int32", "int64"), ("uint8", "int8"), ("int16", "int16")]
)
def test_gcd_lcm(name, da, db):
    e, t = pair(da, db)
    if da == "uint8":
        e, t = (abs(e[0]), e[1]), (abs(t[0]), t[1])
    both(lambda m, a, b: op(m, name)(a, b), e, t)
    both(lambda m, a, b: op(m, name)(a.T, b[:, None]), e, t)


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_errors(name):
    x, i = ember.tensor([1.0, 2.0]), ember.tensor([4, 6])
    with pytest.raises(NotImplementedError, match=f"\"{name}_cpu\" not implemented for 'Float'"):
        op(ember, name)(x, x)
    with pytest.raises(NotImplementedError, match=f"\"{name}_cpu\" not implemented for 'Float'"):
        op(ember, name)(i, x)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        op(ember, name)(ember.tensor([True]), ember.tensor([False]))
    with pytest.raises(TypeError, match="argument 'other'"):
        op(ember, name)(i, 4)
    with pytest.raises(RuntimeError, match="must match the size"):
        op(ember, name)(i, ember.tensor([1, 2, 3]))


# -- angles, positive, rsub -------------------------------------------------------------------
@pytest.mark.parametrize("name", ["deg2rad", "rad2deg"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int8", "bool"])
def test_angles(name, dtype):
    x = np.array([[-180, 0, 45], [90, 1, 360]]).astype(dtype)
    check_op(lambda m, a: op(m, name)(a), inputs=[x], dtype=dtype)


@pytest.mark.parametrize("name", ["deg2rad", "rad2deg"])
def test_angles_gradcheck(name):
    check_gradcheck(lambda m, x: op(m, name)(x.T), (2, 3))


def test_positive():
    check_op(lambda m, a: op(m, "positive")(a), (3, 4))
    x = ember.tensor([1, 2])
    assert positive(x) is x
    with pytest.raises(RuntimeError, match=r"The `\+` operator, on a bool tensor is not supported"):
        positive(ember.tensor([True]))


@pytest.mark.parametrize("shapes", BROADCAST)
def test_rsub(shapes):
    check_op(lambda m, x, y: op(m, "rsub")(x, y), *shapes)
    check_op(lambda m, x, y: op(m, "rsub")(x, y, alpha=2.5), *shapes)


def test_rsub_scalars_and_ints():
    check_op(lambda m, x: op(m, "rsub")(x, 2.0, alpha=3), (3, 4))
    e, t = pair("int64", "int32")
    both(lambda m, a, b: op(m, "rsub")(a, b, alpha=2), e, t)
    both(lambda m, a, b: op(m, "rsub")(a, 1.5), e, t)
    check_gradcheck(lambda m, x, y: op(m, "rsub")(x, y, alpha=2), (2, 3), (3,))


def test_rsub_errors():
    b = ember.tensor([True, False])
    with pytest.raises(RuntimeError, match="with two bool tensors is not supported"):
        rsub(b, b)
    i = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="alpha must not be a floating point number"):
        rsub(i, i, alpha=0.5)


# -- dtype errors -----------------------------------------------------------------------------
def test_float_only_errors():
    i = ember.tensor([1, 2])
    with pytest.raises(NotImplementedError, match="\"nextafter_cpu\" not implemented for 'Long'"):
        nextafter(i, i)
    with pytest.raises(NotImplementedError, match="\"logaddexp_cpu\" not implemented for 'Long'"):
        logaddexp(i, i)
    with pytest.raises(NotImplementedError, match="\"logaddexp2_cpu\" not implemented for 'Bool'"):
        logaddexp2(ember.tensor([True]), ember.tensor([True]))
    x = ember.tensor([1.0])
    with pytest.raises(TypeError, match=r"nextafter\(\): argument 'other' \(position 2\)"):
        nextafter(x, 2.0)
    with pytest.raises(TypeError, match=r"logaddexp\(\): argument 'other'"):
        logaddexp(x, 2.0)
    with pytest.raises(TypeError, match=r"ldexp\(\): argument 'other'"):
        ldexp(x, 2)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        logaddexp(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0, 3.0]))
