"""Top-level aliases (ember/ops/aliases.py, nn_aliases.py, tensor_extras.py) against torch's."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import aliases, nn_aliases
from ember.ops import tensor_extras as ex
from tests.helpers import assert_same, check_gradcheck, check_op

RNG = np.random.default_rng(0)


def top(m, name):
    """torch.NAME, or Ember's NAME from the module that defines it (until ember re-exports it)."""
    if m is torch:
        return getattr(torch, name)
    return _mine(name)


def _mine(name):
    return next(getattr(m, name) for m in (ex, aliases, nn_aliases) if name in m.__all__)


def test_all_names_exist_in_torch_and_are_new():
    for name in aliases.__all__ + nn_aliases.__all__ + ex.__all__:
        assert hasattr(torch, name) or hasattr(torch.Tensor, name), name
        mine = _mine(name)
        assert getattr(ember, name, mine) is mine, f"{name} collides with an existing ember name"
    assert not set(aliases.__all__) & set(ex.__all__)
    assert not set(nn_aliases.__all__) & (set(ex.__all__) | set(aliases.__all__))


# -- torch's top-level in-place functions -----------------------------------------------------
INPLACE = [
    ("acos_", lambda f, x: f(x * 0.5)),
    ("acosh_", lambda f, x: f(x + 1)),
    ("arccos_", lambda f, x: f(x * 0.5)),
    ("arccosh_", lambda f, x: f(x + 1)),
    ("arcsin_", lambda f, x: f(x * 0.5)),
    ("arcsinh_", lambda f, x: f(x * 1)),
    ("arctan_", lambda f, x: f(x * 1)),
    ("arctanh_", lambda f, x: f(x * 0.5)),
    ("asin_", lambda f, x: f(x * 0.5)),
    ("asinh_", lambda f, x: f(x * 1)),
    ("atan_", lambda f, x: f(x * 1)),
    ("atanh_", lambda f, x: f(x * 0.5)),
    ("cosh_", lambda f, x: f(x * 1)),
    ("sinh_", lambda f, x: f(x * 1)),
    ("tan_", lambda f, x: f(x * 1)),
    ("erf_", lambda f, x: f(x * 1)),
    ("erfc_", lambda f, x: f(x * 1)),
    ("exp2_", lambda f, x: f(x * 1)),
    ("expm1_", lambda f, x: f(x * 1)),
    ("log10_", lambda f, x: f(x * 1)),
    ("log1p_", lambda f, x: f(x * 1)),
    ("log2_", lambda f, x: f(x * 1)),
    ("logit_", lambda f, x: f(x * 0.5)),
    ("fix_", lambda f, x: f(x * 3)),
    ("negative_", lambda f, x: f(x * 1)),
    ("addmv_", lambda f, x: f(x[0] * 1, x.T[:4, :3] * 1, x[:, 0] * 1)),
    ("celu_", lambda f, x: f(x - 0.8, 0.5)),
    ("selu_", lambda f, x: f(x - 0.8)),
    ("rrelu_", lambda f, x: f(x - 0.8, 0.1, 0.3, False)),
    ("threshold_", lambda f, x: f(x * 1, 0.7, -1.0)),
    ("dropout_", lambda f, x: f(x * 1, 0.5, False)),
    ("alpha_dropout_", lambda f, x: f(x * 1, 0.5, False)),
    ("feature_alpha_dropout_", lambda f, x: f(x * 1, 0.5, False)),
    ("feature_dropout_", lambda f, x: f(x * 1, 0.0, True)),
]


NO_TORCH_GRAD = {"acosh_", "arccosh_", "asinh_", "arcsinh_", "atanh_", "arctanh_"}


@pytest.mark.parametrize("name, call", INPLACE, ids=[c[0] for c in INPLACE])
def test_top_level_inplace(name, call):
    grad = name not in NO_TORCH_GRAD  # Ember's gradients: gradcheck in test_tensor_extras
    check_op(lambda m, x: call(top(m, name), x), (3, 4), low=0.2, high=1.5, grad=grad)


def test_top_level_inplace_returns_and_bumps():
    e, t = ember.ones(3), torch.ones(3)
    assert ex.tan_(e) is e and torch.tan_(t) is t
    assert e._version[0] == t._version == 1
    assert nn_aliases.dropout_(e, 0.0, True) is e
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            top(m, "log2_")(m.ones(2, requires_grad=True))


def test_top_level_detach_and_resize_and_index_put():
    for m in (ember, torch):
        leaf = m.ones(2, requires_grad=True)
        h = leaf * 2
        assert top(m, "detach_")(h) is h and not h.requires_grad and h.grad_fn is None
        d = top(m, "detach")(leaf)
        assert not d.requires_grad
        d.add_(1)
        assert leaf.tolist() == [2.0, 2.0]  # shares memory
    e, t = ember.arange(6.0), torch.arange(6.0)
    ex.resize_as_(e, ember.ones(2, 3))
    torch.resize_as_(t, torch.ones(2, 3))
    assert_same(e, t)
    e, t = ember.zeros(3, 2), torch.zeros(3, 2)
    ex.index_put_(e, (ember.tensor([0, 0]),), ember.ones(2), accumulate=True)
    torch.index_put_(t, (torch.tensor([0, 0]),), torch.ones(2), accumulate=True)
    assert_same(e, t)


# -- plain aliases ---------------------------------------------------------------------------
def test_numel_and_errors():
    assert aliases.numel(ember.ones(2, 3)) == torch.numel(torch.ones(2, 3)) == 6
    for m in (ember, torch):
        with pytest.raises(
            TypeError, match=r"numel\(\): argument 'input' \(position 1\) must be Tensor"
        ):
            top(m, "numel")([1, 2])


def test_fill():
    check_op(lambda m, x: top(m, "fill")(x, 2.5), (3, 4))
    check_op(lambda m, x, v: top(m, "fill")(x, v.sum()), (3, 4), (2,))
    check_gradcheck(lambda m, x, v: aliases.fill(x, v.sum()) * x, (2, 3), (2,))
    e = ember.ones(2)
    aliases.fill(e, 3.0)
    assert e.tolist() == [1.0, 1.0]


def test_select_top_level():
    check_op(lambda m, x: top(m, "select")(x, 1, -1), (2, 3, 4))
    check_op(lambda m, x: top(m, "select")(x.permute(2, 1, 0), 0, 2), (2, 3, 4))


def test_row_stack():
    check_op(lambda m, x, y: top(m, "row_stack")((x, y)), (2, 3), (3,))


@pytest.mark.parametrize(
    "name, call",
    [
        ("split_with_sizes", lambda f, x: f(x, [1, 3], 1)),
        ("split_with_sizes", lambda f, x: f(x, (2, 0, 1))),
        ("unsafe_split_with_sizes", lambda f, x: f(x, [2, 1], 0)),
        ("unsafe_split", lambda f, x: f(x, 3, 1)),
        ("unsafe_chunk", lambda f, x: f(x, 2, -1)),
        ("split_copy", lambda f, x: f(x, 2, 1)),
        ("unbind_copy", lambda f, x: f(x, 1)),
    ],
)
def test_splits(name, call):
    check_op(lambda m, x: call(top(m, name), x), (3, 4))
    check_op(lambda m, x: call(top(m, name), x.T.T[:, :]), (3, 4))


def test_split_with_sizes_error():
    for m in (ember, torch):
        with pytest.raises(
            RuntimeError, match=r"split_with_sizes expects split_sizes to sum exactly to 4"
        ):
            top(m, "split_with_sizes")(m.ones(3, 4), [1, 2], 1)


COPIES = [
    ("alias_copy", lambda f, x: f(x)),
    ("detach_copy", lambda f, x: f(x)),
    ("narrow_copy", lambda f, x: f(x, 1, 1, 2)),
    ("permute_copy", lambda f, x: f(x, (1, 0))),
    ("expand_copy", lambda f, x: f(x[:1], (2, 3, 4))),
    ("transpose_copy", lambda f, x: f(x, 0, 1)),
    ("t_copy", lambda f, x: f(x)),
    ("diagonal_copy", lambda f, x: f(x, 1)),
    ("select_copy", lambda f, x: f(x, 0, 2)),
    ("squeeze_copy", lambda f, x: f(x[:1])),
    ("squeeze_copy", lambda f, x: f(x[:1], 0)),
    ("unsqueeze_copy", lambda f, x: f(x, 1)),
    ("view_copy", lambda f, x: f(x, (4, 3))),
]


@pytest.mark.parametrize("name, call", COPIES, ids=[f"{c[0]}{i}" for i, c in enumerate(COPIES)])
def test_copies(name, call):
    # torch.detach_copy's result requires grad (a quirk); Ember's is detached, as detach is
    check_op(lambda m, x: call(top(m, name), x), (3, 4), grad=name != "detach_copy")
    e = ember.ones(3, 4)
    out = call(top(ember, name), e)
    out.add_(1)
    assert e.tolist() == ember.ones(3, 4).tolist()  # a copy, never a view
    if name != "detach_copy":
        check_gradcheck(lambda m, x: call(top(m, name), x), (3, 4), second_order=False)


# -- nn.functional twins -----------------------------------------------------------------------
def test_convolutions():
    check_op(lambda m, x, w, b: top(m, "conv1d")(x, w, b, 1, 1), (2, 3, 7), (4, 3, 3), (4,))
    check_op(lambda m, x, w: top(m, "conv2d")(x, w, None, 2, 1, 1, 1), (1, 2, 5, 5), (3, 2, 3, 3))
    check_op(lambda m, x, w: top(m, "conv3d")(x, w), (1, 2, 4, 4, 4), (2, 2, 2, 2, 2))
    check_op(lambda m, x, w: top(m, "conv_transpose1d")(x, w, None, 2), (1, 3, 5), (3, 2, 3))
    check_op(lambda m, x, w: top(m, "conv_transpose2d")(x, w), (1, 3, 4, 4), (3, 2, 3, 3))
    check_op(lambda m, x, w: top(m, "conv_transpose3d")(x, w), (1, 2, 3, 3, 3), (2, 2, 2, 2, 2))


RM = RNG.standard_normal(3).astype("float32")
RV = RNG.uniform(0.5, 1.5, 3).astype("float32")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_argument_order(training):
    stats = {}

    def fn(m, x, w, b):
        rm, rv = m.tensor(RM), m.tensor(RV)
        out = top(m, "batch_norm")(x, w, b, rm, rv, training, 0.1, 1e-5, False)
        stats[m] = (rm, rv)
        return out

    check_op(fn, (4, 3, 5), (3,), (3,))
    assert_same(stats[ember][0], stats[torch][0])
    assert_same(stats[ember][1], stats[torch][1])


def test_normalizations():
    check_op(
        lambda m, x, w, b: top(m, "instance_norm")(x, w, b, None, None, True, 0.1, 1e-5, False),
        (2, 3, 6),
        (3,),
        (3,),
    )
    check_op(
        lambda m, x, w, b: top(m, "layer_norm")(x, [4], w, b, 1e-5, True), (2, 3, 4), (4,), (4,)
    )
    check_op(lambda m, x, w, b: top(m, "group_norm")(x, 2, w, b, 1e-5, True), (2, 4, 3), (4,), (4,))
    check_op(lambda m, x, w: top(m, "rms_norm")(x, (3, 4), w), (2, 3, 4), (3, 4))


def test_dropouts():
    for name in ("dropout", "alpha_dropout", "feature_alpha_dropout", "feature_dropout"):
        check_op(lambda m, x, name=name: top(m, name)(x, 0.3, False), (2, 3, 4))
        check_op(lambda m, x, name=name: top(m, name)(x, 0.0, True), (2, 3, 4))
    e = nn_aliases.dropout(ember.ones(1000), 0.5, True)
    assert 300 < int((e == 0).sum()) < 700 and set(e.unique().tolist()) <= {0.0, 2.0}
    e = nn_aliases.feature_dropout(ember.ones(50, 20, 3), 0.5, True)
    per_channel = e.sum(-1)
    assert set(per_channel.unique().tolist()) <= {0.0, 6.0}


def test_embedding():
    idx = np.array([[0, 2], [3, 2]])
    check_op(lambda m, w: top(m, "embedding")(w, m.tensor(idx)), (4, 3))
    check_op(lambda m, w: top(m, "embedding")(w, m.tensor(idx), 2), (4, 3))


def test_pooling():
    check_op(lambda m, x: top(m, "max_pool1d")(x, 2), (2, 3, 8))
    check_op(lambda m, x: top(m, "max_pool2d")(x, 2, 1), (1, 2, 5, 5))
    check_op(lambda m, x: top(m, "max_pool3d")(x, 2), (1, 2, 4, 4, 4))
    check_op(lambda m, x: top(m, "avg_pool1d")(x, 3, 2, 1), (2, 3, 8))
    check_op(lambda m, x: top(m, "adaptive_avg_pool1d")(x, 3), (2, 3, 8))
    check_op(lambda m, x: top(m, "adaptive_max_pool1d")(x, 3), (2, 3, 8))


def test_shuffles_and_activations():
    check_op(lambda m, x: top(m, "pixel_shuffle")(x, 2), (1, 8, 2, 3))
    check_op(lambda m, x: top(m, "pixel_unshuffle")(x, 2), (1, 2, 4, 6))
    check_op(lambda m, x: top(m, "channel_shuffle")(x, 2), (1, 4, 2, 3), grad=False)
    check_op(lambda m, x, w: top(m, "prelu")(x, w), (2, 3, 4), (3,))
    check_op(lambda m, x: top(m, "selu")(x), (3, 4))
    check_op(lambda m, x: top(m, "celu")(x, 0.7), (3, 4))
    check_op(lambda m, x: top(m, "rrelu")(x, 0.1, 0.3, False), (3, 4))
    check_op(lambda m, x: top(m, "hardshrink")(x, 0.4), (3, 4))
    check_op(lambda m, x: top(m, "threshold")(x, 0.1, 20.0), (3, 4))
    check_op(
        lambda m, a, b, w, bias: top(m, "bilinear")(a, b, w, bias), (2, 3), (2, 4), (5, 3, 4), (5,)
    )
    check_op(lambda m, a, b: top(m, "cosine_similarity")(a, b, 1, 1e-8), (3, 4), (3, 4))
    check_op(lambda m, a, b: top(m, "pairwise_distance")(a, b, 2.0, 1e-6, True), (3, 4), (3, 4))


def test_padding_and_grid_sampler():
    check_op(lambda m, x: top(m, "constant_pad_nd")(x, (1, 2, 0, 1), 0.5), (2, 3, 4))
    check_op(lambda m, x: top(m, "constant_pad_nd")(x, [1, 1]), (2, 3))
    for mode in range(3):
        for padding in range(3):
            check_op(
                lambda m, x, g, mode=mode, padding=padding: top(m, "grid_sampler")(
                    x, g, mode, padding, False
                ),
                (1, 2, 4, 5),
                (1, 3, 2, 2),
                low=-1.1,
                high=1.1,
                rtol=1e-3,
                atol=1e-4,
                grad=mode == 0,
            )


W = RNG.uniform(0.5, 1.5, 4).astype("float32")


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_losses_with_integer_reduction(reduction):
    r = reduction
    y = np.sign(RNG.standard_normal(4)).astype("float32")
    check_op(lambda m, a, t: top(m, "kl_div")(a, t, r), (3, 4), (3, 4))
    check_op(lambda m, a, t: top(m, "kl_div")(a, t, r, log_target=True), (3, 4), (3, 4))
    check_op(lambda m, a, b: top(m, "margin_ranking_loss")(a, b, m.tensor(y), 0.1, r), (4,), (4,))
    check_op(lambda m, a: top(m, "hinge_embedding_loss")(a, m.tensor(y), 0.5, r), (4,))
    check_op(
        lambda m, a, b: top(m, "cosine_embedding_loss")(a, b, m.tensor(y), 0.2, r), (4, 3), (4, 3)
    )
    check_op(
        lambda m, a, p, n: top(m, "triplet_margin_loss")(a, p, n, 1.0, 2, 1e-6, True, r),
        (4, 3),
        (4, 3),
        (4, 3),
    )
    check_op(
        lambda m, a, t: top(m, "poisson_nll_loss")(a, t.abs(), True, True, 1e-8, r), (3, 4), (3, 4)
    )
    check_op(
        lambda m, a, t: top(m, "binary_cross_entropy_with_logits")(
            a, t.sigmoid(), m.tensor(W), m.tensor(W + 1), r
        ),
        (3, 4),
        (3, 4),
    )
    lp = torch.randn(6, 2, 4, generator=torch.Generator().manual_seed(0)).log_softmax(2).numpy()
    targets, il, tl = np.array([[1, 2], [3, 3]]), np.array([6, 5]), np.array([2, 2])
    check_op(
        lambda m, x: top(m, "ctc_loss")(
            x, m.tensor(targets), m.tensor(il), m.tensor(tl), 0, r, False
        ),
        inputs=[lp],
        rtol=1e-3,
        atol=1e-4,
    )


def test_default_reduction_is_none_as_torch():
    y = np.sign(RNG.standard_normal(4)).astype("float32")
    check_op(lambda m, a, b: top(m, "margin_ranking_loss")(a, b, m.tensor(y)), (4,), (4,))
    check_op(lambda m, a: top(m, "hinge_embedding_loss")(a, m.tensor(y)), (4,))
    check_op(lambda m, a, p, n: top(m, "triplet_margin_loss")(a, p, n), (4, 3), (4, 3), (4, 3))
    check_op(lambda m, a, t: top(m, "kl_div")(a, t), (3, 4), (3, 4))
    check_op(
        lambda m, a, t: top(m, "binary_cross_entropy_with_logits")(a, t.sigmoid()), (3, 4), (3, 4)
    )
    with pytest.raises(ValueError, match="5 is not a valid value for reduction"):
        nn_aliases.kl_div(ember.ones(2), ember.ones(2), 5)


def test_top_level_queries():
    for m in (ember, torch):
        f, i, u = m.ones(2), m.ones(2, dtype=m.int64), m.ones(2, dtype=m.uint8)
        assert top(m, "is_tensor")(f) and not top(m, "is_tensor")([1.0])
        assert top(m, "is_floating_point")(f) and not top(m, "is_floating_point")(i)
        assert not top(m, "is_complex")(f)
        assert top(m, "is_signed")(i) and not top(m, "is_signed")(u)
        assert top(m, "is_nonzero")(m.tensor([2])) and not top(m, "is_nonzero")(m.tensor(0.0))
        assert top(m, "is_same_size")(f, m.zeros(2)) and not top(m, "is_same_size")(f, i[:1])
        assert not top(m, "is_inference")(f)
        assert not top(m, "is_conj")(f) and not top(m, "is_neg")(f)
        assert top(m, "get_device")(f) == -1
        for name in ("real", "conj", "conj_physical", "resolve_conj", "resolve_neg"):
            assert top(m, name)(f) is f
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one"):
            top(m, "is_nonzero")(f)
    check_op(lambda m, x: top(m, "adjoint")(x), (2, 3, 4))
