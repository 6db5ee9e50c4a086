import math

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_op

PS = [0, 0.5, 1, 1.5, 2, 3, math.inf]


# ---- cdist ----


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize(
    "shapes", [((4, 3), (5, 3)), ((2, 4, 3), (2, 5, 3)), ((2, 1, 3, 4), (3, 2, 4))]
)
def test_cdist(p, shapes):
    check_op(lambda m, a, b: m.cdist(a, b, p), *shapes)


@pytest.mark.parametrize("p", [1, 2, math.inf])
def test_cdist_noncontiguous(p):
    check_op(lambda m, a, b: m.cdist(a.T[1:], b[:, 1:], p), (3, 5), (4, 4))


@pytest.mark.parametrize(
    "mode",
    [
        "use_mm_for_euclid_dist_if_necessary",
        "use_mm_for_euclid_dist",
        "donot_use_mm_for_euclid_dist",
    ],
)
@pytest.mark.parametrize("rows", [4, 30])
def test_cdist_compute_modes(mode, rows):
    # more than 25 rows switches PyTorch (and Ember) to the matmul form for p = 2
    check_op(lambda m, a, b: m.cdist(a, b, compute_mode=mode), (rows, 3), (6, 3), atol=1e-4)
    check_op(lambda m, a, b: m.cdist(a, b, 2, mode), (2, 3, 3), (2, rows, 3), atol=1e-4)


@pytest.mark.parametrize("p", PS)
def test_cdist_zero_distance_gradient(p):
    a = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    b = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 1.0]], dtype=np.float32)
    check_op(lambda m, a, b: m.cdist(a, b, p), inputs=[a, b])


def test_cdist_inf_ties_get_full_gradient():
    a = np.array([[0.0, 0.0]], dtype=np.float32)
    b = np.array([[1.0, -1.0], [2.0, 0.5]], dtype=np.float32)
    check_op(lambda m, a, b: m.cdist(a, b, math.inf), inputs=[a, b])


def test_cdist_float64_and_empty():
    check_op(lambda m, a, b: m.cdist(a, b, 1.5), (3, 2), (4, 2), dtype="float64")
    for s1, s2 in (((3, 0), (5, 0)), ((0, 2), (4, 2)), ((2, 0, 3), (2, 4, 3))):
        e = ember.cdist(ember.zeros(*s1), ember.zeros(*s2))
        assert_same(e, torch.cdist(torch.zeros(*s1), torch.zeros(*s2)))


@pytest.mark.parametrize("p", [0.5, 1.5, 2, 3])
def test_cdist_gradcheck(p):
    check_gradcheck(lambda m, a, b: m.cdist(a, b, p), (3, 2), (2, 2))


def test_cdist_gradcheck_mm_and_batched():
    mode = "use_mm_for_euclid_dist"
    check_gradcheck(lambda m, a, b: m.cdist(a, b, compute_mode=mode), (3, 2), (2, 2))
    check_gradcheck(lambda m, a, b: m.cdist(a, b, 1.0), (2, 1, 2, 3), (2, 2, 3), second_order=False)


@pytest.mark.parametrize(
    ("fn", "error", "match"),
    [
        (lambda m: m.cdist(m.ones(4), m.ones(5, 4)), RuntimeError, "X1 got: 1D"),
        (lambda m: m.cdist(m.ones(3, 4), m.ones(4)), RuntimeError, "X2 got: 1D"),
        (lambda m: m.cdist(m.ones(3, 4), m.ones(5, 3)), RuntimeError, "X1: 4 X2: 3"),
        (
            lambda m: m.cdist(m.ones(3, 4, dtype=m.int64), m.ones(5, 4)),
            RuntimeError,
            "floating-point dtypes, X1 got: Long",
        ),
        (
            lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4, dtype=m.int64)),
            RuntimeError,
            "floating-point dtypes, X2 got: Long",
        ),
        (
            lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4, dtype=m.float64)),
            RuntimeError,
            "expected scalar type Float but found Double",
        ),
        (lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4), p=-1), RuntimeError, "non-negative p"),
        (lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4), compute_mode="foo"), ValueError, "foo is"),
        (
            lambda m: m.cdist(m.ones(2, 3, 4), m.ones(3, 5, 4)),
            RuntimeError,
            r"size of tensor a \(2\) must match the size of tensor b \(3\)",
        ),
        (
            lambda m: m.cdist(m.ones(3, 4, dtype=m.float16), m.ones(5, 4, dtype=m.float16)),
            NotImplementedError,
            "not implemented for 'Half'",
        ),
    ],
)
def test_cdist_errors(fn, error, match):
    for m in (ember, torch):
        with pytest.raises(error, match=match):
            fn(m)


# ---- pdist ----


@pytest.mark.parametrize("p", PS)
def test_pdist(p):
    check_op(lambda m, x: m.pdist(x, p), (5, 3))
    check_op(lambda m, x: m.nn.functional.pdist(x, p) if m is torch else m.pdist(x, p), (4, 2))


def test_pdist_noncontiguous_small_and_duplicates():
    check_op(lambda m, x: m.pdist(x.T[1:]), (3, 6))
    for n in (0, 1, 2):
        assert_same(ember.pdist(ember.ones(n, 3)), torch.pdist(torch.ones(n, 3)))
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, -1.0]], dtype=np.float32)
    check_op(lambda m, x: m.pdist(x), inputs=[x])  # zero distance: zero gradient


def test_pdist_gradcheck():
    check_gradcheck(lambda m, x: m.pdist(x), (4, 3))
    check_gradcheck(lambda m, x: m.pdist(x, 3), (3, 2))


def test_pdist_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
            m.pdist(m.ones(3, 4, 2))
        with pytest.raises(RuntimeError, match="pdist only supports floating-point dtypes"):
            m.pdist(m.ones(3, 4, dtype=m.int64))
        with pytest.raises(RuntimeError, match="pdist only supports non-negative p values"):
            m.pdist(m.ones(3, 4), p=-1)


# ---- dist ----


@pytest.mark.parametrize("p", [0, 1, 2, 3.5, math.inf, -math.inf, -1])
def test_dist(p):
    # PyTorch's backward fails for p = 0 (an undefined-tensor error): compare values only there
    check_op(lambda m, x, y: m.dist(x, y, p), (3, 4), (4,), grad=p != 0)


def test_dist_promotion_noncontiguous():
    check_op(lambda m, x, y: m.dist(x.T, y[:, 1:]), (4, 3), (3, 5))
    e = ember.dist(ember.ones(3), ember.zeros(3, dtype=ember.float64))
    assert_same(e, torch.dist(torch.ones(3), torch.zeros(3, dtype=torch.float64)))


def test_dist_gradcheck_and_errors():
    check_gradcheck(lambda m, x, y: m.dist(x, y, 3), (2, 3), (3,))
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match=r"floating point or complex\. Got Long instead"):
            m.dist(m.ones(3, dtype=m.int64), m.ones(3, dtype=m.int64))
        with pytest.raises(RuntimeError, match="must match the size of tensor b"):
            m.dist(m.ones(3, 4), m.ones(5, 4))


# ---- renorm ----


@pytest.mark.parametrize("p", [1, 2, 3, math.inf])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_renorm(p, dim):
    check_op(lambda m, x: m.renorm(x, p, dim, 1.5), (3, 4, 2))


def test_renorm_noncontiguous_and_maxnorm_zero():
    check_op(lambda m, x: m.renorm(x.T[1:], 2, 0, 1.0), (4, 5))
    check_op(lambda m, x: m.renorm(x, 2, 1, 0.0), (3, 4))
    check_op(lambda m, x: m.renorm(x, 2, 0, 100.0), (3, 4))  # nothing rescaled


def test_renorm_gradcheck():
    check_gradcheck(lambda m, x: m.renorm(x, 2, 0, 1.0), (3, 4))


def test_renorm_errors():
    for m in (ember, torch):
        x = m.ones(3, 4)
        with pytest.raises(RuntimeError, match="non-positive-norm not supported"):
            m.renorm(x, 0, 0, 1.0)
        with pytest.raises(RuntimeError, match="expected maxnorm to be >= 0 but got -1"):
            m.renorm(x, 2, 0, -1.0)
        with pytest.raises(RuntimeError, match="input needs at least 2 dimensions, got 1"):
            m.renorm(m.ones(4), 2, 0, 1.0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.renorm(x, 2, 3, 1.0)
        with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
            m.renorm(x.long(), 2, 0, 1.0)
