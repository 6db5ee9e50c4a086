"""cosine_similarity, pairwise_distance, normalize, one_hot and the distance layers vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check_gradcheck, check_module, check_op

F = ember.nn.functional


# -- cosine_similarity --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes, dim",
    [
        (((4, 5), (4, 5)), 1),
        (((4, 5), (1, 5)), 1),
        (((2, 3, 4), (3, 4)), -1),
        (((2, 3, 4), (2, 3, 4)), 0),
        (((5,), (5,)), 0),
    ],
)
def test_cosine_similarity(shapes, dim):
    check_op(lambda m, a, b: m.nn.functional.cosine_similarity(a, b, dim), *shapes)


def test_cosine_similarity_noncontiguous_and_eps():
    check_op(lambda m, a, b: m.nn.functional.cosine_similarity(a.T, b[:, 1:]), (5, 4), (4, 6))
    check_op(lambda m, a, b: m.nn.functional.cosine_similarity(a, b, eps=0.5), (3, 4), (3, 4))


def test_cosine_similarity_zero_vector_gradient():
    # PyTorch clamps the norms without recording it: the gradient flows as if unclamped.
    zeros_and_ones = [np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)]
    check_op(lambda m, a, b: m.nn.functional.cosine_similarity(a, b), inputs=zeros_and_ones)


def test_cosine_similarity_dtypes():
    check_op(lambda m, a, b: m.nn.functional.cosine_similarity(a.double(), b), (3, 4), (3, 4))
    ints = [np.arange(6).reshape(2, 3), np.ones((2, 3), np.float32)]
    check_op(lambda m, a, b: m.nn.functional.cosine_similarity(a.long(), b), inputs=ints)
    with pytest.raises(RuntimeError, match="expected common dtype to be floating point, yet co"):
        F.cosine_similarity(
            ember.ones(2, 3, dtype=ember.int64), ember.ones(2, 3, dtype=ember.int64)
        )


def test_cosine_similarity_gradcheck():
    check_gradcheck(lambda m, a, b: m.nn.functional.cosine_similarity(a, b), (3, 4), (1, 4))


def test_cosine_similarity_errors():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(4\) must match the size of tensor"):
        F.cosine_similarity(ember.ones(3, 4), ember.ones(3, 5))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.cosine_similarity(ember.ones(3, 4), ember.ones(3, 4), dim=2)


# -- pairwise_distance --------------------------------------------------------------------------
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, keepdim):
    check_op(
        lambda m, a, b: m.nn.functional.pairwise_distance(a, b, p, keepdim=keepdim), (4, 5), (4, 5)
    )


@pytest.mark.parametrize("shapes", [((2, 3, 4), (2, 3, 4)), ((3, 4), (4,)), ((4,), (4,)), ((), ())])
def test_pairwise_distance_shapes(shapes):
    check_op(lambda m, a, b: m.nn.functional.pairwise_distance(a, b), *shapes)


def test_pairwise_distance_zero_norm_and_integers():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    check_op(lambda m, a, b: m.nn.functional.pairwise_distance(a, b, 0.0), inputs=[x, x + 1])
    ints = [np.arange(12).reshape(3, 4), np.ones((3, 4), np.int64)]
    check_op(lambda m, a, b: m.nn.functional.pairwise_distance(a, b), inputs=ints, dtype="int64")


def test_pairwise_distance_gradcheck_and_errors():
    check_gradcheck(lambda m, a, b: m.nn.functional.pairwise_distance(a, b), (3, 4), (3, 4))
    with pytest.raises(RuntimeError, match=r"size of tensor a \(4\) must match the size of tensor"):
        F.pairwise_distance(ember.ones(3, 4), ember.ones(3, 5))


# -- normalize ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs", [{}, {"p": 1.0}, {"dim": 0}, {"dim": -1, "p": 3.0}, {"dim": (1, 2)}, {"eps": 0.5}]
)
def test_normalize(kwargs):
    check_op(lambda m, x: m.nn.functional.normalize(x, **kwargs), (3, 4, 2))


def test_normalize_zero_rows_and_noncontiguous():
    x = np.zeros((2, 3), np.float32)
    x[1] = [1, 2, 3]
    check_op(lambda m, x: m.nn.functional.normalize(x), inputs=[x])
    check_op(lambda m, x: m.nn.functional.normalize(x.T[1:], dim=0), (4, 3))


def test_normalize_gradcheck_out_and_errors():
    check_gradcheck(lambda m, x: m.nn.functional.normalize(x), (3, 4))
    out = ember.empty(2, 3)
    x = ember.randn(2, 3, requires_grad=True)
    result = F.normalize(x, out=out)
    assert result is out and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), F.normalize(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        F.normalize(ember.ones(4))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input"):
        F.normalize(ember.ones(3, 4, dtype=ember.int64))


# -- one_hot ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values, num_classes",
    [([0, 2, 1], -1), ([0, 2, 1], 5), ([[1, 3], [0, 0]], -1), (4, 6), ([], 3)],
)
def test_one_hot(values, num_classes):
    e = F.one_hot(ember.tensor(values, dtype=ember.int64), num_classes)
    t = torch.nn.functional.one_hot(torch.tensor(values, dtype=torch.int64), num_classes)
    assert e.dtype is ember.int64 and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type L"):
        F.one_hot(ember.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(ember.tensor([0, 1], dtype=ember.int32))
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(ember.tensor([0, -2, 1]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ember.tensor([0, 5, 1]), 3)
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty"):
        F.one_hot(ember.tensor([], dtype=ember.int64))


# -- layers -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.CosineSimilarity(),
        lambda m: m.nn.CosineSimilarity(dim=-1, eps=1e-3),
        lambda m: m.nn.PairwiseDistance(),
        lambda m: m.nn.PairwiseDistance(p=1.0, eps=1e-3, keepdim=True),
    ],
)
def test_layers(make):
    e_layer, t_layer = check_module(make, (3, 4, 5), (3, 4, 5))
    assert repr(e_layer) == repr(t_layer)
