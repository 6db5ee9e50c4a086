"""where, clamp, maximum/minimum, fmax/fmin, lerp, addcmul, addcdiv, nan_to_num vs PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from tests.helpers import DTYPES, assert_same, check_gradcheck, check_op

BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,))]


def both(array, dtype):
    e_dtype, t_dtype = DTYPES[dtype]
    return ember.tensor(np.asarray(array)).to(e_dtype), torch.tensor(np.asarray(array)).to(t_dtype)


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


# -- where ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", BROADCAST)
def test_where_broadcast(shapes):
    check_op(lambda m, x, y: m.where(x > 0, x, y), *shapes)
    check_op(lambda m, x, y: m.where(y > 0.5, x, y), *shapes)


def test_where_scalars_and_promotion():
    check_op(lambda m, x: m.where(x > 0, x, 0.0), (3, 4))
    check_op(lambda m, x: m.where(x > 0, 2.5, x), (3, 4))
    check_op(lambda m, x: m.where(x.T > 0, x.T, -x.T[:, :1]), (3, 4))
    cond = np.array([True, False, True])
    run_both(lambda m, c: m.where(c, 1, 2.5), (cond, "bool"))
    run_both(lambda m, c: m.where(c, 1, 2), (cond, "bool"))
    for d1, d2 in [
        ("float16", "float32"),
        ("int64", "float64"),
        ("uint8", "int8"),
        ("bool", "int32"),
    ]:
        run_both(lambda m, c, x, y: m.where(c, x, y), (cond, "bool"), (cond * 3, d1), (cond, d2))
    run_both(lambda m, c, x: m.where(c, x, 2.5), (cond, "bool"), (cond * 3, "float16"))
    run_both(lambda m, c, x: m.where(c, x, m.tensor(1.0, dtype=m.float64)), (cond, "bool"),
             (cond * 3, "int64"))  # fmt: skip


def test_where_gradcheck():
    check_gradcheck(lambda m, x, y: m.where(x > 0, x * y, y), (2, 3), (3,))
    check_gradcheck(lambda m, x: m.where(x > 0, x, 1.0), (2, 3))


def test_where_errors_and_nonzero():
    x = ember.tensor([1.0, -2.0, 3.0])
    with pytest.raises(RuntimeError, match="where expected condition to be a boolean tensor, but "
                       "got a tensor with dtype Long"):  # fmt: skip
        ember.where(ember.tensor([1, 0, 1]), x, x)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                       r"tensor b \(4\) at non-singleton dimension 1"):  # fmt: skip
        ember.where(ember.ones(2, 3) > 0, ember.ones(2, 4), 0.0)
    run_both(lambda m, c: m.where(c), (np.array([[True, False], [False, True]]), "bool"))


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3))
def test_where_broadcasting_property(shapes):
    check_op(lambda m, c, x, y: m.where(c > 0, x, y), *shapes.input_shapes)


# -- clamp ---------------------------------------------------------------------------------
CLAMPS = {
    "both": lambda m, x: m.clamp(x, -0.5, 0.5),
    "min": lambda m, x: m.clamp(x, min=-0.5),
    "max": lambda m, x: x.clamp(max=0.25),
    "clip": lambda m, x: m.clip(x, -1, 1),
    "clamp_min": lambda m, x: m.clamp_min(x, 0.1),
    "clamp_max": lambda m, x: x.clamp_max(0.1),
    "crossed": lambda m, x: m.clamp(x, 0.5, -0.5),
    "method": lambda m, x: x.clamp(-1.0, 2),
}


@pytest.mark.parametrize("name", sorted(CLAMPS))
def test_clamp_scalar_bounds(name):
    check_op(CLAMPS[name], (3, 4))
    check_op(lambda m, x: CLAMPS[name](m, x.T[1:]), (5, 3))
    edges = np.array([-1.0, -0.5, 0.0, 0.1, 0.25, 0.5, 1.0, 2.0, np.nan], np.float32)
    check_op(CLAMPS[name], inputs=[edges])  # boundaries inclusive for the gradient


@pytest.mark.parametrize("shapes", BROADCAST)
def test_clamp_tensor_bounds(shapes):
    check_op(lambda m, x, hi: m.clamp(x, max=hi), *shapes)
    check_op(lambda m, x, lo, hi: m.clamp(x, lo, hi), *shapes, shapes[1])
    check_op(lambda m, x, lo: m.clamp_min(x, lo), *shapes)


def test_clamp_tensor_bounds_ties_and_crossed():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 0.3], np.float32)
    lo = np.array([0.0, 0.0, 0.6, 1.0, 0.0, 0.3], np.float32)
    hi = np.array([1.0, 0.0, 0.4, 1.0, 2.0, 0.3], np.float32)
    check_op(lambda m, a, b, c: m.clamp(a, b, c), inputs=[x, lo, hi])


def test_clamp_gradcheck():
    check_gradcheck(lambda m, x: m.clamp(x, -0.5, 0.5), inputs=[np.array([-1.0, 0.2, 0.9])])
    check_gradcheck(lambda m, x, lo, hi: m.clamp(x, lo, hi), (3, 2), (2,), (1,), seed=3)


def test_clamp_dtypes():
    ints = np.array([5, -7, 3])
    run_both(lambda m, x: m.clamp(x, 1.5), (ints, "int64"))
    run_both(lambda m, x: m.clamp(x, -2, 4), (ints, "int32"))
    run_both(lambda m, x: m.clamp(x, min=m.tensor(2.5)), (ints, "int64"))
    run_both(lambda m, x: m.clamp_min(x, 0), (ints, "int8"))
    run_both(lambda m, x: m.clamp(x, 0, 1), (np.array([True, False]), "bool"))
    for dtype in ("float16", "bfloat16"):
        run_both(lambda m, x: m.clamp(x, -0.5, 0.5), (np.array([-1.0, 0.25, 3.0]), dtype))
        run_both(lambda m, x: m.lerp(x, x * 2, 0.3), (np.array([-1.0, 0.25, 3.0]), dtype))
        run_both(lambda m, x: m.where(x > 0, x, 0.5), (np.array([-1.0, 0.25, 3.0]), dtype))


def test_clamp_errors():
    with pytest.raises(RuntimeError, match=r"torch.clamp: At least one of 'min' or 'max' must"):
        ember.clamp(ember.ones(2))
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match"):
        ember.clamp(ember.ones(3), ember.ones(4))


# -- maximum, minimum, fmax, fmin ----------------------------------------------------------
PAIRWISE = ["maximum", "minimum", "fmax", "fmin"]


@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("name", PAIRWISE)
def test_pairwise_broadcast(name, shapes):
    check_op(lambda m, x, y: getattr(m, name)(x, y), *shapes)
    check_op(lambda m, x, y: getattr(x, name)(y), *shapes)


@pytest.mark.parametrize("name", PAIRWISE)
def test_pairwise_ties_and_nans(name):
    # ties: maximum/minimum split the gradient in half; fmax/fmin give it to input
    x = np.array([1.0, 2.0, 0.0, -1.0, np.nan, 1.0, np.nan], np.float32)
    y = np.array([1.0, 3.0, 0.0, -2.0, 1.0, np.nan, np.nan], np.float32)
    check_op(lambda m, a, b: getattr(m, name)(a, b), inputs=[x, y])


@pytest.mark.parametrize("name", PAIRWISE)
def test_pairwise_gradcheck_and_dtypes(name):
    check_gradcheck(lambda m, x, y: getattr(m, name)(x, y), (2, 3), (3,))
    a, b = np.array([1, 5, -3]), np.array([2, 5, -4])
    for d1, d2 in [("int64", "float32"), ("int8", "uint8"), ("bool", "bool"), ("float16", "int64")]:
        run_both(lambda m, x, y: getattr(m, name)(x, y), (a, d1), (b, d2))


@pytest.mark.parametrize("name", PAIRWISE)
def test_pairwise_needs_tensors(name):
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'other' \(position 2\) must be "
                       "Tensor, not int"):  # fmt: skip
        getattr(ember, name)(ember.ones(2), 2)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "):
        getattr(ember, name)(ember.ones(2), ember.ones(3))


# -- lerp, addcmul, addcdiv ----------------------------------------------------------------
@pytest.mark.parametrize("shapes", BROADCAST)
def test_lerp(shapes):
    check_op(lambda m, x, y: m.lerp(x, y, 0.3), *shapes)
    check_op(lambda m, x, y: m.lerp(x, y, 0.8), *shapes)
    check_op(lambda m, x, y, w: m.lerp(x, y, w), *shapes, shapes[1], low=-0.5, high=1.5)
    check_op(lambda m, x, y, w: x.lerp(y, w), shapes[1], shapes[0], (), low=-0.5, high=1.5)


def test_lerp_gradcheck_and_errors():
    check_gradcheck(lambda m, x, y, w: m.lerp(x, y, w), (2, 3), (3,), (2, 1), low=-0.5, high=1.5)
    check_gradcheck(lambda m, x, y: m.lerp(x.T, y, 0.7), (3, 2), (2, 3))
    x = ember.ones(3)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        ember.lerp(x, x.double(), 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `weight` but got dtype long"):
        ember.lerp(x, x, ember.tensor([1, 1, 1]))
    with pytest.raises(NotImplementedError, match='"lerp_kernel_scalar" not implemented for'):
        ember.lerp(x.long(), x.long(), 0.5)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match"):
        ember.lerp(x, ember.ones(4), 0.5)


@pytest.mark.parametrize("shapes", BROADCAST)
@pytest.mark.parametrize("value", [1, 0.5, -2])
def test_addcmul_addcdiv(shapes, value):
    check_op(lambda m, x, a, b: m.addcmul(x, a, b, value=value), *shapes, shapes[1])
    check_op(lambda m, x, a, b: x.addcdiv(a, b, value=value), *shapes, shapes[1], low=0.5)


def test_addcmul_addcdiv_gradcheck_and_dtypes():
    check_gradcheck(lambda m, x, a, b: m.addcmul(x, a, b, value=0.5), (2, 3), (3,), (2, 1))
    check_gradcheck(lambda m, x, a, b: m.addcdiv(x, a, b, value=2), (2, 3), (3,), (2, 1), low=0.5)
    i = np.array([5, -7, 3])
    run_both(lambda m, x: m.addcmul(x, x, x, value=2), (i, "int64"))
    run_both(lambda m, x: m.addcmul(x, x, x, value=2.5), (i, "int64"))
    run_both(lambda m, x, y: m.addcmul(x, x, y, value=2), (i, "int64"), (i, "float32"))
    run_both(lambda m, x, y: m.addcdiv(y, x, x), (i, "int64"), (i, "float32"))
    run_both(lambda m, x, y: m.addcdiv(y, x, y), (i, "int64"), (i, "float32"))
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        ember.addcdiv(ember.ones(2), ember.tensor([1, 2]), ember.tensor([1, 2]))


# -- nan_to_num ----------------------------------------------------------------------------
SPECIAL = np.array([np.nan, np.inf, -np.inf, 1.5, -2.0, 0.0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_nan_to_num_defaults(dtype):
    run_both(lambda m, x: m.nan_to_num(x), (SPECIAL, dtype))
    run_both(lambda m, x: x.nan_to_num(nan=2.0, posinf=1.0), (SPECIAL, dtype))
    run_both(lambda m, x: m.nan_to_num(x, 0.5, neginf=-7.0), (SPECIAL, dtype))


def test_nan_to_num_gradient_and_ints():
    check_op(lambda m, x: m.nan_to_num(x, posinf=3.0), inputs=[SPECIAL.astype(np.float32)])
    check_op(lambda m, x: m.nan_to_num(x.T), (3, 4))
    check_gradcheck(lambda m, x: m.nan_to_num(x), (2, 3))
    for dtype in ["int64", "uint8", "bool"]:
        run_both(lambda m, x: m.nan_to_num(x), (np.array([0, 1, 3]), dtype))
