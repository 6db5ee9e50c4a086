"""softmax, log_softmax, softmin vs PyTorch: values, dtypes, gradients, stability, errors."""

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F
from tests.helpers import assert_same, check_gradcheck, check_op

NAMES = ["softmax", "log_softmax", "softmin"]


def fn(m, name):
    return getattr(F if m is ember else torch.nn.functional, name)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("shape", "dim"), [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2)])
def test_values_and_grads(name, shape, dim):
    check_op(lambda m, x: fn(m, name)(x, dim), shape, low=-3, high=3)


@pytest.mark.parametrize("name", NAMES)
def test_noncontiguous(name):
    check_op(lambda m, x: fn(m, name)(x.T[1:], 1), (5, 4))
    check_op(lambda m, x: fn(m, name)(x[:, ::2], 0), (3, 6))


@pytest.mark.parametrize("name", NAMES)
def test_scalar_and_empty(name):
    check_op(lambda m, x: fn(m, name)(x, 0), ())
    check_op(lambda m, x: fn(m, name)(x, 1), (0, 3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_large_logits_are_stable(name):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4 + 1, 3.0]], dtype=np.float32)
    check_op(lambda m, t: fn(m, name)(t, 1), inputs=[x])
    e = fn(ember, name)(ember.tensor(x), 1)
    assert np.isfinite(e.data).all()


@pytest.mark.parametrize("name", NAMES)
def test_dtype_argument(name):
    x = np.arange(6).reshape(2, 3)
    e = fn(ember, name)(ember.tensor(x), 1, dtype=ember.float64)
    t = fn(torch, name)(torch.tensor(x), 1, dtype=torch.float64)
    assert_same(e, t)


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
@pytest.mark.parametrize("name", NAMES)
def test_dtypes(name, dtype):
    tol = 1e-2 if dtype in ("float16", "bfloat16") else 1e-6
    check_op(lambda m, x: fn(m, name)(x, -1), (3, 5), dtype=dtype, rtol=tol, atol=tol, grad=False)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_second_order(name):
    check_gradcheck(lambda m, x: fn(m, name)(x, 1), (2, 4))
    check_gradcheck(lambda m, x: fn(m, name)(x, 0), (3, 2))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_double_backward_matches_torch(name):
    def body(m, x, w):
        y = fn(m, name)(x, 1)
        (g,) = m.autograd.grad((y * w).sum(), x, create_graph=True)
        return (g * g).sum() + (g * w).sum()

    check_op(body, (3, 4), (3, 4))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("shape", "dim"), [((4,), 0), ((2, 3), 1), ((2, 3, 4), 0)])
def test_implicit_dim_warns_as_torch(name, shape, dim):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
        e = fn(ember, name)(ember.tensor(x))
    assert_same(e, fn(torch, name)(torch.tensor(x), dim))


def test_integer_input_refused_as_torch():
    x = ember.ones(2, 3, dtype=ember.int64)
    with pytest.raises(NotImplementedError, match=r"softmax_lastdim_kernel_impl.*'Long'"):
        F.softmax(x, 1)
    with pytest.raises(NotImplementedError, match=r'"softmax_kernel_impl".*Long'):
        F.softmax(x, 0)
    with pytest.raises(NotImplementedError, match=r"log_softmax_lastdim_kernel_impl.*'Long'"):
        F.log_softmax(x, -1)
    with pytest.raises(NotImplementedError, match="softmax_lastdim_kernel_impl"):
        F.softmin(x, 1)


def test_bad_dim():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of"):
        F.softmax(ember.ones(2, 3), 2)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize(("shape", "dim"), [((0, 3), 0), ((3, 0), 1), ((3, 0), -1), ((0,), 0)])
@pytest.mark.parametrize("name", NAMES)
def test_empty_along_dim(name, shape, dim, dtype):
    """Regression: an empty dim raised NumPy's zero-size max error; torch returns empty."""
    check_op(lambda m, x: fn(m, name)(x, dim), shape, dtype=dtype)
    if name != "softmin":  # torch.softmin does not exist
        check_op(lambda m, x: getattr(m, name)(x, dim), shape, dtype=dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_empty_double_backward(name):
    def body(m, x, w):
        y = fn(m, name)(x, 0)
        (g,) = m.autograd.grad((y * w).sum(), x, create_graph=True)
        return (g * w).sum()

    check_op(body, (0, 3), (0, 3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_on_no_rows(reduction):
    targets = [np.zeros(0, np.int64)]
    check_op(
        lambda m, x: fn(m, "cross_entropy")(x, m.tensor(targets[0]), reduction=reduction),
        (0, 3),
    )
    check_op(lambda m, x, y: fn(m, "cross_entropy")(x, y, reduction=reduction), (0, 3), (0, 3))
