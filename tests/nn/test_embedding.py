"""Embeddings: F.embedding, F.embedding_bag, nn.Embedding, nn.EmbeddingBag against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.helpers import assert_same, check_gradcheck, check_module, check_op

RNG = np.random.default_rng(0)
IDX2 = RNG.integers(0, 6, (3, 4))
IDX1 = RNG.integers(0, 6, (10,))
OFFSETS = np.array([0, 3, 3, 7])


def F(m):
    return EF if m is ember else TF


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 2},
        {"padding_idx": -1},
        {"scale_grad_by_freq": True},
        {"padding_idx": 0, "scale_grad_by_freq": True},
    ],
)
def test_embedding(kwargs):
    check_op(lambda m, w: F(m).embedding(m.tensor(IDX2), w, **kwargs), (6, 5))


def test_embedding_index_shapes_and_dtypes():
    check_op(lambda m, w: F(m).embedding(m.tensor(IDX1, dtype=m.int32), w), (6, 5))
    check_op(lambda m, w: F(m).embedding(m.tensor(3), w), (6, 5))
    check_op(lambda m, w: F(m).embedding(m.tensor(IDX2).T, w.T), (5, 6))  # non-contiguous
    check_op(lambda m, w: F(m).embedding(m.tensor(IDX2), w), (6, 5), dtype="float64")


def test_embedding_max_norm_renormalises_weight_in_place():
    weight = RNG.standard_normal((6, 5)).astype(np.float32) * 2
    results = {}
    for m in (ember, torch):
        w = m.tensor(weight.copy(), requires_grad=True)
        with m.no_grad():
            w2 = w * 1  # a non-leaf copy that can be renormalised in place
        w2.requires_grad_(True)
        out = F(m).embedding(m.tensor(IDX2[:2]), w2, max_norm=1.5, norm_type=3.0)
        (g,) = m.autograd.grad(out, w2, m.tensor(np.ones(out.shape, np.float32)))
        results[m.__name__] = (out, w2, g)
    assert_same(results["ember"], results["torch"])


def test_embedding_gradcheck():
    check_gradcheck(lambda m, w: EF.embedding(m.tensor(IDX2), w), (6, 3))


def test_embedding_double_backward():
    # The weight gradient is linear in the upstream gradient; its derivative w.r.t. that
    # gradient is the lookup again, with the padding row's and frequency factors.
    weight = RNG.standard_normal((6, 3))
    upstream = RNG.standard_normal((3, 4, 3))
    results = {}
    for kwargs in ({}, {"padding_idx": 1, "scale_grad_by_freq": True}):
        for m in (ember, torch):
            w = m.tensor(weight, requires_grad=True)
            out = F(m).embedding(m.tensor(IDX2), w, **kwargs)
            g = m.tensor(upstream, requires_grad=True)
            (gw,) = m.autograd.grad(out, w, g, create_graph=True)
            (gg,) = m.autograd.grad((gw * gw).sum(), g)
            results[m.__name__] = gg
        if not kwargs:
            assert_same(results["ember"], results["torch"])
    # PyTorch's double backward ignores padding_idx and scale_grad_by_freq; check the math.
    counts = np.bincount(IDX2.ravel(), minlength=6)
    factor = np.where(IDX2 == 1, 0.0, 1.0 / counts[IDX2])[..., None]
    gw = np.zeros((6, 3))
    np.add.at(gw, IDX2, upstream * factor)
    np.testing.assert_allclose(results["ember"].data, 2 * gw[IDX2] * factor)


def test_embedding_errors():
    w = ember.randn(5, 3)
    with pytest.raises(IndexError, match="index out of range in self"):
        EF.embedding(ember.tensor([5]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        EF.embedding(ember.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        EF.embedding(ember.tensor([1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        EF.embedding(ember.tensor([1]), ember.randn(5))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        EF.embedding(ember.tensor([1]), w, padding_idx=5)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1}])
def test_embedding_bag_offsets(mode, kwargs):
    check_op(
        lambda m, w: F(m).embedding_bag(m.tensor(IDX1), w, m.tensor(OFFSETS), mode=mode, **kwargs),
        (6, 5),
    )


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_and_last_offset(mode):
    check_op(lambda m, w: F(m).embedding_bag(m.tensor(IDX2), w, mode=mode), (6, 5))
    offsets = np.array([0, 3, 3, 7, 10])
    check_op(
        lambda m, w: F(m).embedding_bag(
            m.tensor(IDX1), w, m.tensor(offsets), mode=mode, include_last_offset=True
        ),
        (6, 5),
    )
    check_op(lambda m, w: F(m).embedding_bag(m.tensor(IDX2), w.T, mode=mode), (5, 6))


def test_embedding_bag_per_sample_weights_and_freq():
    def fn(m, w, p):
        return F(m).embedding_bag(
            m.tensor(IDX1), w, m.tensor(OFFSETS), mode="sum", per_sample_weights=p, padding_idx=3
        )

    check_op(fn, (6, 5), (10,))
    check_op(
        lambda m, w, p: F(m).embedding_bag(m.tensor(IDX2), w, mode="sum", per_sample_weights=p),
        (6, 5),
        (3, 4),
    )
    # PyTorch's CPU embedding_bag miscounts the frequencies; the oracle is the lookup (whose
    # scale_grad_by_freq agrees with Ember's, above) reduced per bag.
    for mode in ("sum", "mean"):

        def fn(m, w, mode=mode):
            if m is ember:
                return EF.embedding_bag(m.tensor(IDX2), w, mode=mode, scale_grad_by_freq=True)
            rows = TF.embedding(m.tensor(IDX2), w, scale_grad_by_freq=True)
            return rows.sum(1) if mode == "sum" else rows.mean(1)

        check_op(fn, (6, 5))


def test_embedding_bag_gradcheck():
    for mode in ("sum", "mean"):
        check_gradcheck(
            lambda m, w, mode=mode: EF.embedding_bag(
                m.tensor(IDX1), w, m.tensor(OFFSETS), mode=mode
            ),
            (6, 2),
        )
    check_gradcheck(
        lambda m, w, p: EF.embedding_bag(m.tensor(IDX2), w, mode="sum", per_sample_weights=p),
        (6, 2),
        (3, 4),
    )


def test_embedding_bag_errors():
    w = ember.randn(5, 3)
    idx = ember.tensor([1, 2])
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        EF.embedding_bag(idx, w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        EF.embedding_bag(ember.tensor([[1, 2]]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="input has to be 1D or 2D Tensor"):
        EF.embedding_bag(ember.tensor([[[1]]]), w)
    with pytest.raises(RuntimeError, match=r"offsets\[0\] has to be 0"):
        EF.embedding_bag(idx, w, ember.tensor([1]))
    with pytest.raises(RuntimeError, match=r"offsets\[-1\] can not be greater than input's length"):
        EF.embedding_bag(idx, w, ember.tensor([0, 3]))
    with pytest.raises(
        RuntimeError, match=r"takes value 7 which is not in the valid range \[0, 5\)"
    ):
        EF.embedding_bag(ember.tensor([1, 7]), w, ember.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        EF.embedding_bag(idx, w, ember.tensor([0]), mode="foo")
    with pytest.raises(ValueError, match="max mode does not support scaling the gradient"):
        EF.embedding_bag(idx, w, ember.tensor([0]), mode="max", scale_grad_by_freq=True)
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for"):
        EF.embedding_bag(idx, w, ember.tensor([0]), per_sample_weights=ember.ones(2))
    with pytest.raises(ValueError, match="must have the same shape as the input"):
        EF.embedding_bag(idx, w, ember.tensor([0]), mode="sum", per_sample_weights=ember.ones(3))
    with pytest.raises(ValueError, match="weight has to be a 2D Tensor"):
        EF.embedding_bag(idx, ember.randn(5), ember.tensor([0]))
    with pytest.raises(RuntimeError, match="'offsets' to have one of the following scalar types"):
        EF.embedding_bag(idx, w, ember.tensor([0.0]))


# -- layers ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs", [{}, {"padding_idx": 1}, {"padding_idx": -2, "scale_grad_by_freq": True}]
)
def test_embedding_module(kwargs):
    check_module(lambda m: m.nn.Embedding(6, 4, **kwargs), inputs=[IDX2])


def test_embedding_module_max_norm():
    e_layer, t_layer = check_module(lambda m: m.nn.Embedding(6, 4, max_norm=1.0), inputs=[IDX2])
    assert_same(e_layer.weight, t_layer.weight)


def test_embedding_init_and_repr():
    ember.manual_seed(0)
    layer = ember.nn.Embedding(2000, 50, padding_idx=3)
    w = layer.weight.data
    assert layer.weight.requires_grad and layer.weight.dtype is ember.float32
    assert not w[3].any()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    for kwargs in (
        {},
        {"padding_idx": -1, "max_norm": 1.0, "norm_type": 3.0},
        {"scale_grad_by_freq": True, "sparse": True},
    ):
        assert repr(ember.nn.Embedding(3, 4, **kwargs)) == repr(torch.nn.Embedding(3, 4, **kwargs))
    for kwargs in ({}, {"mode": "sum", "padding_idx": 0, "max_norm": 2.0}, {"norm_type": 1.0}):
        assert repr(ember.nn.EmbeddingBag(3, 4, **kwargs)) == repr(
            torch.nn.EmbeddingBag(3, 4, **kwargs)
        )


def test_embedding_from_pretrained():
    weights = ember.randn(4, 3)
    layer = ember.nn.Embedding.from_pretrained(weights, padding_idx=1)
    assert not layer.weight.requires_grad and layer.padding_idx == 1
    assert (layer.weight.data == weights.data).all()
    assert ember.nn.Embedding.from_pretrained(weights, freeze=False).weight.requires_grad
    assert_same(layer(ember.tensor([0, 3])), torch.from_numpy(weights.data[[0, 3]]))
    bag = ember.nn.EmbeddingBag.from_pretrained(weights, mode="max")
    assert not bag.weight.requires_grad and bag.mode == "max"
    with pytest.raises(
        AssertionError, match="Embeddings parameter is expected to be 2-dimensional"
    ):
        ember.nn.Embedding.from_pretrained(ember.randn(3))
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        ember.nn.Embedding(3, 2, _weight=ember.randn(3, 3))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        ember.nn.EmbeddingBag(3, 2, padding_idx=-4)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module(mode):
    check_module(lambda m: m.nn.EmbeddingBag(6, 4, mode=mode), inputs=[IDX2])
    check_module(
        lambda m: m.nn.EmbeddingBag(6, 4, mode=mode, padding_idx=2), inputs=[IDX1, OFFSETS]
    )
    check_module(
        lambda m: m.nn.EmbeddingBag(6, 4, mode=mode, include_last_offset=True),
        inputs=[IDX1, np.array([0, 4, 10])],
    )


def test_embedding_bag_module_per_sample_weights():
    weights = RNG.uniform(0, 1, (10,)).astype(np.float32)
    check_module(
        lambda m: m.nn.EmbeddingBag(6, 4, mode="sum"),
        inputs=[IDX1, OFFSETS, weights],
        input_grad=False,
        call=lambda layer, i, o, p: layer(i, o, per_sample_weights=p),
    )
