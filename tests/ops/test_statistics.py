import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_op


def _pair(a, dtype=None):
    a = np.asarray(a)
    return ember.tensor(a), torch.tensor(a)


# ---- cov / corrcoef ----


@pytest.mark.parametrize("shape", [(3, 6), (7,), (1, 5), (4, 3)])
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov(shape, correction):
    check_op(lambda m, x: m.cov(x, correction=correction), shape)


def test_cov_noncontiguous():
    check_op(lambda m, x: m.cov(x.T[1:]), (6, 4))


def test_cov_weights():
    fw = np.array([1, 2, 0, 3, 1], dtype=np.int64)
    aw = np.array([0.5, 1.0, 2.0, 0.1, 0.7], dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    for kwargs in ({"fweights": fw}, {"aweights": aw}, {"fweights": fw, "aweights": aw}):

        def fn(m, x, kwargs=kwargs):
            kw = {
                k: (ember.tensor(v) if m is ember else torch.tensor(v)) for k, v in kwargs.items()
            }
            return m.cov(x, correction=1, **kw)

        check_op(fn, inputs=[x])


def test_cov_int_input():
    a = np.arange(12).reshape(3, 4) ** 2
    e, t = _pair(a)
    assert_same(ember.cov(e), torch.cov(t))


def test_cov_zero_dof_warns():
    x = np.ones((2, 1), dtype=np.float32)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = ember.cov(ember.tensor(x))
    with pytest.warns(UserWarning):
        expected = torch.cov(torch.tensor(x))
    assert_same(out, expected)


def test_cov_gradcheck():
    check_gradcheck(lambda m, x: m.cov(x), (3, 4))
    w = np.array([0.5, 1.5, 1.0, 2.0])
    check_gradcheck(lambda m, x: m.cov(x, aweights=m.tensor(w)), (2, 4))


@pytest.mark.parametrize("shape", [(3, 6), (7,), (4, 3)])
def test_corrcoef(shape):
    check_op(lambda m, x: m.corrcoef(x), shape)


def test_corrcoef_noncontiguous_and_clip():
    check_op(lambda m, x: m.corrcoef(x[:, 1:]), (3, 6))
    x = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 2.0, 1.0]], dtype=np.float32)
    e, t = _pair(x)
    assert_same(ember.corrcoef(e), torch.corrcoef(t))


def test_corrcoef_gradcheck():
    check_gradcheck(lambda m, x: m.corrcoef(x), (3, 5))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fweights": np.array([1.0, 2, 3, 4], dtype=np.float32)}, "integral dtype"),
        ({"fweights": np.array([1, 2, 3])}, "same numel"),
        ({"fweights": np.array([1, 2, 3, -4])}, "fweights cannot be negative"),
        ({"fweights": np.array([[1, 2, 3, 4]])}, "one or fewer dimensions"),
        ({"aweights": np.array([1, 2, 3, 4])}, "floating point dtype but got aweights with Long"),
        ({"aweights": np.array([1.0, 2, 3], dtype=np.float32)}, "got 3 != 4"),
        ({"aweights": np.array([1.0, 2, 3, -4], dtype=np.float32)}, "aweights cannot be negative"),
    ],
)
def test_cov_errors(kwargs, match):
    x = np.zeros((3, 4), dtype=np.float32)
    for m in (ember, torch):
        kw = {k: m.tensor(v) for k, v in kwargs.items()}
        with pytest.raises(RuntimeError, match=match):
            m.cov(m.tensor(x), **kw)


def test_cov_corrcoef_dims_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3, 4)
        with pytest.raises(RuntimeError, match=r"cov\(\): expected input to have two or fewer"):
            m.cov(x)
        with pytest.raises(RuntimeError, match=r"corrcoef\(\): expected input to have two"):
            m.corrcoef(x)


# ---- quantile / nanquantile ----

INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize(
    ("shape", "dim", "keepdim"),
    [((7,), None, False), ((3, 5), 1, False), ((3, 5), 0, True), ((2, 3, 4), None, True)],
)
def test_quantile_scalar_q(interpolation, shape, dim, keepdim):
    check_op(lambda m, x: m.quantile(x, 0.3, dim, keepdim, interpolation=interpolation), shape)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize(("dim", "keepdim"), [(None, False), (1, True), (-1, False), (0, False)])
def test_quantile_vector_q(interpolation, dim, keepdim):
    q = np.array([0.0, 0.25, 0.5, 0.625, 1.0], dtype=np.float32)

    def fn(m, x):
        return m.quantile(x, m.tensor(q), dim, keepdim, interpolation=interpolation)

    check_op(fn, (3, 6))


def test_quantile_noncontiguous_and_0d():
    check_op(lambda m, x: m.quantile(x.T[1:], 0.4, dim=0), (4, 5))
    check_op(lambda m, x: m.quantile(x, 0.4), ())
    check_op(lambda m, x: m.quantile(x, 0.4, dim=0, keepdim=True), ())


@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_nan(op, interpolation):
    x = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    x[0, 2] = np.nan
    x[2, :] = np.nan
    q = np.array([0.2, 0.9], dtype=np.float32)

    def fn(m, x):
        return getattr(m, op)(x, m.tensor(q), dim=1, interpolation=interpolation)

    check_op(fn, inputs=[x])
    # one NaN only: with several, which NaN sorts last (and gets the gradient) is an
    # unspecified tie order in PyTorch's sort
    x[2, :] = 1.0 + np.arange(5)
    check_op(lambda m, x: getattr(m, op)(x, 0.5, interpolation=interpolation), inputs=[x])


def test_quantile_0d_and_empty_q():
    q0 = np.float32(0.3)
    check_op(lambda m, x: m.quantile(x, m.tensor(q0), dim=1, keepdim=True), (3, 5))
    check_op(lambda m, x: m.quantile(x, m.tensor(np.zeros(0, np.float32)), dim=1), (3, 5))


def test_quantile_float64():
    q = np.array([0.1, 0.7])
    check_op(lambda m, x: m.quantile(x, m.tensor(q), 1), (3, 4), dtype="float64")


def test_quantile_gradcheck():
    q = np.array([0.3, 0.8])
    check_gradcheck(lambda m, x: m.quantile(x, m.tensor(q), dim=1), (2, 5))
    check_gradcheck(lambda m, x: m.nanquantile(x, 0.45), (7,))


@pytest.mark.parametrize(
    ("fn", "match"),
    [
        (lambda m, x: m.quantile(x.long(), 0.5), "must be either float or double"),
        (lambda m, x: m.nanquantile(x.long(), 0.5), "must be either float or double"),
        (lambda m, x: m.quantile(x, m.tensor([0.5], dtype=m.float64)), "same dtype as the input"),
        (lambda m, x: m.quantile(x, m.tensor([[0.5]])), "q must be a scalar or 1D tensor"),
        (lambda m, x: m.quantile(x, 1.5), r"q must be in the range \[0, 1\] but got 1.5"),
        (lambda m, x: m.quantile(x, m.tensor([-0.5, 0.2])), r"q values must be in the range"),
        (lambda m, x: m.quantile(x[:0], 0.5), "input tensor must be non-empty"),
        (lambda m, x: m.quantile(x, 0.5, interpolation="foo"), "but got foo"),
    ],
)
def test_quantile_errors(fn, match):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=match):
            fn(m, m.ones(3, 4))


def test_quantile_errors_dim_and_size():
    for m in (ember, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.quantile(m.ones(3, 4), 0.5, dim=3)
    with pytest.raises(RuntimeError, match="input tensor is too large"):
        ember.quantile(ember.zeros(2**24 + 1), 0.5)


# ---- histogram ----


@pytest.mark.parametrize("bins", [1, 5, 17])
@pytest.mark.parametrize("density", [False, True])
def test_histogram(bins, density):
    x = np.random.default_rng(2).standard_normal((4, 25)).astype(np.float32)
    e, t = _pair(x)
    assert_same(
        ember.histogram(e, bins, density=density), torch.histogram(t, bins, density=density)
    )


def test_histogram_range_weight_edges():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(40)
    w = rng.uniform(0, 2, 40)
    e, t = _pair(x)
    ew, tw = _pair(w)
    assert_same(
        ember.histogram(e, 6, range=(-1.0, 1.5), weight=ew, density=True),
        torch.histogram(t, 6, range=(-1.0, 1.5), weight=tw, density=True),
    )
    edges = np.array([-2.0, -0.5, 0.0, 0.3, 2.5])
    assert_same(
        ember.histogram(e, ember.tensor(edges), weight=ew),
        torch.histogram(t, torch.tensor(edges), weight=tw),
    )
    # right-most edge inclusive, constant input, empty input, x noncontiguous
    for a in (np.array([0.0, 1.0, 1.0, 0.5]), np.array([1.0, 1.0]), np.zeros(0)):
        e, t = _pair(a.astype(np.float32))
        assert_same(ember.histogram(e, 4), torch.histogram(t, 4))
    x2 = rng.standard_normal((5, 6)).astype(np.float32)
    e, t = _pair(x2)
    assert_same(ember.histogram(e.T[1:], 3), torch.histogram(t.T[1:], 3))
    hist = ember.histogram(e, 3)
    assert type(hist).__name__ == "histogram" and hist.hist is hist[0]


@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (lambda m, x: m.histogram(x.long()), NotImplementedError, "not implemented for 'Long'"),
        (lambda m, x: m.histogram(x.half()), NotImplementedError, "not implemented for 'Half'"),
        (lambda m, x: m.histogram(x, bins=-1), RuntimeError, "bins must be > 0, but got -1"),
        (lambda m, x: m.histogram(x, 3, range=(2.0, 1.0)), RuntimeError, "min should not exceed"),
        (
            lambda m, x: m.histogram(x, 3, weight=m.ones(3)),
            RuntimeError,
            "weight tensor is provided it should have the same shape",
        ),
        (
            lambda m, x: m.histogram(x, 3, weight=m.ones(3, 4, dtype=m.float64)),
            RuntimeError,
            r"same dtype, but got input\(float\), and weight\(double\)",
        ),
        (lambda m, x: m.histogram(x, m.ones(2, 2)), RuntimeError, "should have one dimension"),
        (
            lambda m, x: m.histogram(x, m.ones(2, dtype=m.float64)),
            RuntimeError,
            "bins tensors should have the same dtype",
        ),
        (
            lambda m, x: m.histogram(x, 3, range=(0.0, float("inf"))),
            RuntimeError,
            "is not finite",
        ),
        (lambda m, x: m.histogram(m.full((3,), float("nan")), 3), RuntimeError, "not finite"),
    ],
)
def test_histogram_errors(fn, error, match):
    for m in (ember, torch):
        with pytest.raises(error, match=match):
            fn(m, m.ones(3, 4))
