import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_op


def _pair(a):
    a = np.asarray(a)
    return ember.tensor(a), torch.tensor(a)


# ---- diff ----


@pytest.mark.parametrize("n", [0, 1, 2, 6])
@pytest.mark.parametrize("dim", [0, -1])
def test_diff(n, dim):
    check_op(lambda m, x: m.diff(x, n, dim), (4, 5))


def test_diff_prepend_append():
    check_op(lambda m, x, p, a: m.diff(x, 2, 1, prepend=p, append=a), (3, 4), (3, 2), (3, 1))
    check_op(lambda m, x, p: m.diff(x, 1, 0, prepend=p), (3, 4), (1, 4))
    check_op(lambda m, x: m.diff(x.T[1:], 1, 0), (4, 5))


@pytest.mark.parametrize("dtype", ["int64", "bool", "int32"])
def test_diff_int_bool(dtype):
    a = np.random.default_rng(0).integers(0, 3, (3, 5)).astype(dtype)
    e, t = _pair(a)
    assert_same(ember.diff(e), torch.diff(t))
    assert_same(ember.diff(e, 2, 0), torch.diff(t, 2, 0))


def test_diff_promotes_prepend():
    e, t = _pair(np.ones((3, 4), dtype=np.float32))
    ep, tp = _pair(np.arange(3.0).reshape(3, 1))
    assert_same(ember.diff(e, prepend=ep), torch.diff(t, prepend=tp))


def test_diff_gradcheck():
    check_gradcheck(lambda m, x: m.diff(x, 2), (3, 5))
    check_gradcheck(lambda m, x, p: m.diff(x, 1, 0, prepend=p), (3, 2), (2, 2))


@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (lambda m, x: m.diff(m.tensor(1.0)), RuntimeError, "at least one-dimensional"),
        (lambda m, x: m.diff(x, n=-1), RuntimeError, "order must be non-negative but got -1"),
        (lambda m, x: m.diff(x, prepend=m.ones(3)), RuntimeError, "same dimension as input"),
        (
            lambda m, x: m.diff(x, prepend=m.ones(2, 1)),
            RuntimeError,
            r"input.size\(0\) = 3, but got tensor.size\(0\) = 2",
        ),
        (lambda m, x: m.diff(x, dim=2), IndexError, "Dimension out of range"),
    ],
)
def test_diff_errors(fn, error, match):
    for m in (ember, torch):
        with pytest.raises(error, match=match):
            fn(m, m.ones(3, 4))


# ---- gradient ----


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize(
    ("spacing", "dim"),
    [(1, None), (2.5, None), ([0.5, 2.0], None), (3, 1), ([0.5], 0), ([2.0, 0.5], [1, 0])],
)
def test_gradient_scalar_spacing(edge_order, spacing, dim):
    check_op(lambda m, x: m.gradient(x, spacing=spacing, dim=dim, edge_order=edge_order), (4, 5))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_coordinates(edge_order):
    c0 = np.array([0.0, 0.5, 1.7, 2.0], dtype=np.float32)
    c1 = np.array([-1.0, 0.0, 0.3, 1.1, 3.0], dtype=np.float32)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5)).astype(np.float32)

    def fn(m, x, a, b):
        return m.gradient(x, spacing=(a, b), edge_order=edge_order)

    check_op(fn, inputs=[x, c0, c1])  # gradients flow into the coordinates too
    check_op(
        lambda m, x, b: m.gradient(x, spacing=[b], dim=1, edge_order=edge_order), inputs=[x, c1]
    )


def test_gradient_noncontiguous_3d_int():
    check_op(lambda m, x: m.gradient(x.transpose(0, 2)[1:]), (3, 4, 5))
    e, t = _pair(np.arange(12).reshape(3, 4) ** 2)
    assert_same(ember.gradient(e), torch.gradient(t))
    assert_same(
        ember.gradient(e, spacing=2, edge_order=2), torch.gradient(t, spacing=2, edge_order=2)
    )
    e, t = _pair(np.float32(1.0))
    assert ember.gradient(e) == () == torch.gradient(t)


def test_gradient_gradcheck():
    check_gradcheck(lambda m, x: m.gradient(x, edge_order=2), (3, 4))
    c = np.array([0.0, 0.4, 1.0, 1.9])
    check_gradcheck(
        lambda m, x, c: m.gradient(x, spacing=[c], dim=0, edge_order=2),
        inputs=[np.random.default_rng(1).standard_normal((4, 2)), c],
    )


@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (lambda m, x: m.gradient(x, edge_order=3), RuntimeError, "edge_order=1 and edge_order=2"),
        (
            lambda m, x: m.gradient(x, spacing=[1.0, 2.0, 3.0]),
            RuntimeError,
            "but got a list of length 3",
        ),
        (
            lambda m, x: m.gradient(x, spacing=[1.0, 2.0], dim=0),
            RuntimeError,
            "dim argument of length 1",
        ),
        (lambda m, x: m.gradient(x[:, :1]), RuntimeError, "at least edge_order\\+1"),
        (lambda m, x: m.gradient(x[:, :2], edge_order=2), RuntimeError, "at least edge_order\\+1"),
        (
            lambda m, x: m.gradient(x, spacing=(m.arange(3.0), m.ones(4, 2))),
            RuntimeError,
            "each element of spacing to have one dimension, but got an element with 2",
        ),
        (lambda m, x: m.gradient(x.to(m.uint8)), RuntimeError, "does not support uint8 input"),
        (lambda m, x: m.gradient(x, dim=(0, 0)), RuntimeError, "dim 0 appears multiple times"),
        (lambda m, x: m.gradient(x, dim=5), IndexError, "Dimension out of range"),
    ],
)
def test_gradient_errors(fn, error, match):
    for m in (ember, torch):
        with pytest.raises(error, match=match):
            fn(m, m.ones(3, 4))


# ---- trapezoid / trapz / cumulative_trapezoid ----


@pytest.mark.parametrize("op", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_integrals_dx(op, dim):
    check_op(lambda m, y: getattr(m, op)(y, dim=dim), (4, 5))
    check_op(lambda m, y: getattr(m, op)(y, dx=0.3, dim=dim), (4, 5))


@pytest.mark.parametrize("op", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_integrals_x(op):
    check_op(lambda m, y, x: getattr(m, op)(y, x, dim=1), (3, 5), (5,))
    check_op(lambda m, y, x: getattr(m, op)(y, x, dim=0), (4, 3), (4,))
    check_op(lambda m, y, x: getattr(m, op)(y, x), (2, 3, 5), (3, 5))  # x broadcast as numpy
    check_op(lambda m, y, x: getattr(m, op)(y.T[1:], x[1:]), (4, 5), (5,))
    check_op(lambda m, y, x: getattr(m, op)(y, x), (3, 4), (3, 4), dtype="float64")


@pytest.mark.parametrize("op", ["trapezoid", "cumulative_trapezoid"])
def test_integrals_int_empty_and_promotion(op):
    e, t = _pair(np.arange(12).reshape(3, 4))
    assert_same(getattr(ember, op)(e), getattr(torch, op)(t))
    assert_same(getattr(ember, op)(e, dx=2), getattr(torch, op)(t, dx=2))
    ex, tx = _pair(np.array([0.0, 1.0, 1.5, 3.0]))
    assert_same(getattr(ember, op)(e, ex), getattr(torch, op)(t, tx))
    e, t = _pair(np.ones((3, 0), dtype=np.float32))
    assert_same(getattr(ember, op)(e), getattr(torch, op)(t))
    e, t = _pair(np.ones((3, 1), dtype=np.float32))
    assert_same(getattr(ember, op)(e), getattr(torch, op)(t))


def test_integrals_gradcheck():
    check_gradcheck(lambda m, y: m.trapezoid(y, dx=0.5), (3, 4))
    check_gradcheck(lambda m, y, x: m.trapezoid(y, x), (3, 4), (4,))
    check_gradcheck(lambda m, y, x: m.cumulative_trapezoid(y, x, dim=0), (4, 2), (4,))


@pytest.mark.parametrize("op", ["trapezoid", "cumulative_trapezoid"])
def test_integrals_errors(op):
    for m in (ember, torch):
        f = getattr(m, op)
        y = m.ones(3, 4)
        with pytest.raises(RuntimeError, match="bool input for `y`, but bool"):
            f(y > 0)
        with pytest.raises(RuntimeError, match="bool input for `x` or `y`"):
            f(y, y > 0)
        with pytest.raises(RuntimeError, match="one `x` value for each sample point"):
            f(y, m.ones(3))
        with pytest.raises(RuntimeError, match="we only support dx as a real number"):
            f(y, dx=True)
        with pytest.raises(RuntimeError, match="must match the size of tensor b"):
            f(y, m.ones(2, 4))
        with pytest.raises(TypeError):
            f(y, m.ones(4), dx=1.0)


# ---- logcumsumexp ----


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp(dim):
    check_op(lambda m, x: m.logcumsumexp(x, dim), (4, 5))
    check_op(lambda m, x: m.logcumsumexp(x * 50, dim), (4, 5), rtol=1e-4, atol=1e-4)  # large


def test_logcumsumexp_noncontiguous_0d_float64():
    check_op(lambda m, x: m.logcumsumexp(x.T[1:], 0), (4, 5))
    check_op(lambda m, x: m.logcumsumexp(x, 0), ())
    check_op(lambda m, x: m.logcumsumexp(x, -1), (3, 6), dtype="float64")


def test_logcumsumexp_stable_and_inf():
    x = np.array([[1000.0, 1001.0, -1000.0, 999.0], [-1e4, -1e4, -1e4, 0.0]], dtype=np.float32)
    check_op(lambda m, x: m.logcumsumexp(x, 1), inputs=[x])
    inf = np.float32(np.inf)
    x = np.array([[-inf, 1.0, -inf, 2.0], [0.5, -inf, 3.0, inf]], dtype=np.float32)
    e, t = _pair(x)
    assert_same(ember.logcumsumexp(e, 1), torch.logcumsumexp(t, 1))
    # gradient at a -inf input after a finite one is 0, as PyTorch
    check_op(lambda m, x: m.logcumsumexp(x, 1), inputs=[x[:1, 1:]])


def test_logcumsumexp_leading_neginf_gradient_is_zero():
    # PyTorch gives NaN here (documented difference); the exact derivative is 0
    x = ember.tensor(np.array([-np.inf, -np.inf, 0.0, 1.0], dtype=np.float32), requires_grad=True)
    (g,) = ember.autograd.grad(ember.logcumsumexp(x, 0), [x], ember.ones(4))
    t = torch.tensor(x.data[2:], requires_grad=True)
    (tg,) = torch.autograd.grad(torch.logcumsumexp(t, 0), [t], torch.ones(2))
    np.testing.assert_allclose(g.data, np.concatenate([[0.0, 0.0], tg.numpy()]), rtol=1e-6)


def test_logcumsumexp_mixed_sign_and_zero_grads():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 6)).astype(np.float32)
    g = np.array([[1.0, -2.0, 0.0, 0.5, -0.1, 0.0]] * 3, dtype=np.float32)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ge,) = ember.autograd.grad(ember.logcumsumexp(e, 1), [e], ember.tensor(g))
    (gt,) = torch.autograd.grad(torch.logcumsumexp(t, 1), [t], torch.tensor(g))
    assert_same(ge, gt)


def test_logcumsumexp_gradcheck():
    check_gradcheck(lambda m, x: m.logcumsumexp(x, 1), (2, 5))
    check_gradcheck(lambda m, x: m.logcumsumexp(x * 20, 0), (4, 2))


def test_logcumsumexp_errors():
    for m in (ember, torch):
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            m.logcumsumexp(m.ones(3, dtype=m.int64), 0)
        with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
            m.logcumsumexp(m.ones(3) > 0, 0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.logcumsumexp(m.ones(3, 4), 4)
