import numpy as np
import pytest

import ember
from ember.ops import norms, scan, selection
from tests.helpers import check_gradcheck, check_op


@pytest.fixture(autouse=True, scope="module")
def _ops_exported():
    """Expose selection/scan/norms as ember.* while these tests run (no leak to other modules).

    TODO(lead): drop once ember/ops/__init__.py star-imports selection, scan and norms.
    """
    with pytest.MonkeyPatch.context() as patch:
        for module in (selection, scan, norms):
            for name in module.__all__:
                if not hasattr(ember.ops, name):
                    patch.setattr(ember.ops, name, getattr(module, name), raising=False)
                    patch.setattr(ember, name, getattr(module, name), raising=False)
        yield


SHAPE = (3, 4, 5)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_cumsum_cumprod(op, dim):
    check_op(lambda m, x: getattr(m, op)(x, dim), SHAPE)
    check_op(lambda m, x: getattr(x.permute(2, 0, 1)[1:], op)(dim=dim), SHAPE)
    check_op(lambda m, x: getattr(m, op)(x, dim, dtype=m.float64), SHAPE)


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_cumsum_cumprod_ints_to_int64(op, dtype):
    check_op(lambda m, x: getattr(m, op)(x, 1), (3, 4), dtype=dtype, low=0, high=3)
    check_op(lambda m, x: getattr(m, op)(x, 0, dtype=m.float32), (3, 4), dtype=dtype, low=0, high=3)


def test_zero_dim_and_empty():
    for op in ("cumsum", "cumprod", "cummax", "cummin"):
        check_op(lambda m, x, o=op: getattr(m, o)(x, 0), ())
        check_op(lambda m, x, o=op: getattr(m, o)(x, -1), (0, 3))


@pytest.mark.parametrize(
    "zeros",
    [
        [],
        [(0, 1)],
        [(0, 0)],
        [(0, 3)],
        [(0, 1), (0, 2)],
        [(1, 0), (1, 3), (2, 2)],
        [(0, 1), (1, 1)],
    ],
)
def test_cumprod_gradient_with_zeros(zeros):
    a = np.random.default_rng(0).uniform(0.5, 2, (3, 4)).astype(np.float32)
    for i, j in zeros:
        a[i, j] = 0
    check_op(lambda m, x: m.cumprod(x, 1), inputs=[a])
    check_op(lambda m, x: m.cumprod(x, 0), inputs=[a])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_cummax_cummin(op, dim):
    check_op(lambda m, x: getattr(m, op)(x, dim), SHAPE)
    ties = np.random.default_rng(1).integers(0, 3, SHAPE).astype(np.float32)
    check_op(lambda m, x: getattr(x, op)(dim), inputs=[ties])  # ties take the latest index
    check_op(lambda m, x: getattr(m, op)(x.permute(1, 2, 0)[1:], dim).values, SHAPE)


def test_cummax_cummin_nan_and_ints():
    a = np.array([[1.0, np.nan, 0.0, np.nan, 2.0], [3.0, 1.0, 4.0, 1.0, 5.0]], np.float32)
    check_op(lambda m, x: m.cummax(x, 1), inputs=[a])
    check_op(lambda m, x: m.cummin(x, 1), inputs=[a])
    check_op(lambda m, x: m.cummax(x, 0), (3, 4), dtype="int32", low=0, high=4)
    check_op(lambda m, x: m.cummin(x, 1), (3, 4), dtype="bool", low=0, high=2)


def test_errors():
    x = ember.tensor(np.ones((2, 3), np.float32))
    for op in (ember.cumsum, ember.cumprod, ember.cummax, ember.cummin):
        with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
            op(x, 2)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.cumsum(x, 1),
        lambda m, x: m.cumprod(x, 0),
        lambda m, x: m.cumprod(x, -1),
        lambda m, x: m.cummax(x, 1).values,
        lambda m, x: m.cummin(x, 0).values,
    ],
)
def test_gradcheck(fn):
    n = 3 * 4 * 2
    a = ((np.random.default_rng(0).permutation(n) - n / 2) * 0.25 + 0.125).reshape(3, 4, 2)
    check_gradcheck(fn, inputs=[a])


def test_cumprod_gradcheck_with_a_zero():
    a = np.random.default_rng(0).uniform(0.5, 2, (2, 4))
    a[0, 1] = 0
    a[1, 3] = 0
    check_gradcheck(lambda m, x: m.cumprod(x, 1), inputs=[a])


def _second_order(m, fn, a, g, v):
    """d/dx <v, d/dx <g, fn(x)>> (and the first gradient) with library m, in float64."""
    x = m.tensor(a, requires_grad=True)
    (gx,) = m.autograd.grad((fn(m, x) * m.tensor(g)).sum(), x, create_graph=True)
    (ggx,) = m.autograd.grad((gx * m.tensor(v)).sum(), x)
    return gx.detach().numpy(), ggx.numpy()


ZERO_SLICES = {  # 0, 1, 2 and 3 zeros in a slice of 5 (the zeros at various places)
    0: [],
    1: [2],
    2: [0, 3],
    3: [1, 2, 4],
    "adjacent": [0, 1],
}


@pytest.mark.parametrize("zeros", ZERO_SLICES.values(), ids=[str(k) for k in ZERO_SLICES])
def test_cumprod_second_order_with_zeros(zeros):
    """Regression: the double backward was wrong when a slice held two or more zeros."""
    import torch

    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 1.5, (2, 5)) * rng.choice([-1, 1], (2, 5))
    a[0, zeros] = 0
    a[1, [4 - z for z in zeros]] = 0
    for dim in (1, 0):
        check_gradcheck(lambda m, x, d=dim: m.cumprod(x, d), inputs=[a])
        g, v = rng.standard_normal((2, 2, 5))
        fn = lambda m, x, d=dim: m.cumprod(x, d)  # noqa: E731
        got = _second_order(ember, fn, a, g, v)
        want = _second_order(torch, fn, a, g, v)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-10, atol=1e-12)


def test_cumprod_gradgradcheck_from_the_report():
    x = ember.tensor(np.array([0.0, 0.0, 1.5]), requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda x: ember.cumprod(x, 0), (x,))


def test_cumprod_first_order_with_many_zeros_without_graph():
    """Without create_graph only a slice's first zero gets a term; values still match torch."""
    a = np.zeros((3, 6), np.float32)
    a[:, ::2] = np.random.default_rng(2).uniform(0.5, 2, (3, 3))
    check_op(lambda m, x: m.cumprod(x, 1), inputs=[a])
    check_op(lambda m, x: m.cumprod(x, 0), inputs=[np.zeros((4, 2), np.float32)])
