"""Losses vs PyTorch: values, dtypes, input and target gradients, options, errors, modules."""

import math

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from tests.helpers import assert_same, check_gradcheck, check_module, check_op

REDUCTIONS = ["mean", "sum", "none"]


def F(m):
    return EF if m is ember else torch.nn.functional


def ints(high, shape, seed=0, low=0):
    return np.random.default_rng(seed).integers(low, high, shape)


def probs(shape, seed=0):
    a = np.random.default_rng(seed).uniform(0.05, 1, shape)
    return (a / a.sum(1, keepdims=True)).astype(np.float32)


# -- cross_entropy with class indices -------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "tshape"),
    [((4, 5), (4,)), ((5,), ()), ((2, 4, 3), (2, 3)), ((2, 3, 2, 2), (2, 2, 2)), ((0, 3), (0,))],
)
def test_cross_entropy_indices(reduction, shape, tshape):
    C = shape[0] if len(shape) == 1 else shape[1]
    t = ints(C, tshape)
    check_op(lambda m, x: F(m).cross_entropy(x, m.tensor(t), reduction=reduction), shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("use_weight", [False, True])
def test_cross_entropy_weight_ignore_smoothing(reduction, smoothing, use_weight):
    t = np.array([0, 3, -100, 2, 3, -100])
    w = np.random.default_rng(3).uniform(0.2, 2, 5).astype(np.float32)

    def body(m, x):
        weight = m.tensor(w) if use_weight else None
        return F(m).cross_entropy(
            x, m.tensor(t), weight, reduction=reduction, label_smoothing=smoothing
        )

    check_op(body, (6, 5))


def test_cross_entropy_custom_ignore_index_kdim():
    t = ints(4, (2, 3, 2))
    t[0, 1, 1] = t[1, 2, 0] = 1
    check_op(lambda m, x: F(m).cross_entropy(x, m.tensor(t), ignore_index=1), (2, 4, 3, 2))
    check_op(
        lambda m, x: F(m).cross_entropy(x, m.tensor(t), ignore_index=1, label_smoothing=0.3),
        (2, 4, 3, 2),
    )


def test_cross_entropy_all_ignored_is_nan():
    t = np.array([-100, -100])
    check_op(lambda m, x: F(m).cross_entropy(x, m.tensor(t)), (2, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_large_logits(reduction):
    x = np.array([[1e4, 0, -1e4], [-1e4, 1e4, 1e4], [3, -1e4, 1e4 - 5]], dtype=np.float32)
    t = np.array([0, 2, 1])
    body = lambda m, a: F(m).cross_entropy(a, m.tensor(t), reduction=reduction)  # noqa: E731
    check_op(body, inputs=[x])
    p = probs((3, 3))
    check_op(lambda m, a, b: F(m).cross_entropy(a, b, reduction=reduction), inputs=[x, p])
    assert np.isfinite(
        EF.cross_entropy(ember.tensor(x), ember.tensor(t), reduction="none").data
    ).all()


def test_cross_entropy_noncontiguous():
    t = ints(4, (3,))
    check_op(lambda m, x: F(m).cross_entropy(x.T[:, 1:], m.tensor(t)), (5, 3))
    check_op(lambda m, x, y: F(m).cross_entropy(x[:, ::2], y.T), (3, 8), (4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("use_weight", [False, True])
def test_cross_entropy_probabilities(reduction, smoothing, use_weight):
    w = np.random.default_rng(3).uniform(0.2, 2, 4).astype(np.float32)

    def body(m, x, y):
        weight = m.tensor(w) if use_weight else None
        return F(m).cross_entropy(x, y, weight, reduction=reduction, label_smoothing=smoothing)

    check_op(
        body, inputs=[np.random.default_rng(1).standard_normal((5, 4)).astype("f"), probs((5, 4))]
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_kdim_and_unbatched(reduction):
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((2, 3, 4)).astype("f"), rng.uniform(0, 1, (2, 3, 4)).astype("f")
    check_op(lambda m, a, b: F(m).cross_entropy(a, b, reduction=reduction), inputs=[x, y])
    check_op(lambda m, a, b: F(m).cross_entropy(a, b, reduction=reduction), (4,), (4,))


def test_cross_entropy_dtypes():
    t = ints(3, (4,))
    check_op(lambda m, x: F(m).cross_entropy(x, m.tensor(t)), (4, 3), dtype="float64", rtol=1e-10)
    e = EF.cross_entropy(ember.ones(2, 3), ember.tensor(ints(3, (2,)), dtype=ember.uint8))
    assert e.dtype == ember.float32


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_low_precision_losses_keep_dtype(dtype, reduction):
    t = np.array([0, 2, 1, -100])

    def ce(m, x):
        return F(m).cross_entropy(x, m.tensor(t), reduction=reduction, label_smoothing=0.1)

    def nll(m, x):
        return F(m).nll_loss(x, m.tensor(t), reduction=reduction)

    for fn in (ce, nll):
        check_op(fn, (4, 5), dtype=dtype, rtol=2e-2, atol=2e-2)


def test_cross_entropy_gradcheck():
    t = np.array([0, 2, -100, 1])
    w = np.array([0.5, 2.0, 1.5])
    check_gradcheck(
        lambda m, x: F(m).cross_entropy(
            x, m.tensor(t), m.tensor(w), label_smoothing=0.1, reduction="sum"
        ),
        (4, 3),
    )
    check_gradcheck(lambda m, x: F(m).cross_entropy(x, m.tensor(t), reduction="none"), (4, 3))
    check_gradcheck(lambda m, x, y: F(m).cross_entropy(x, y, label_smoothing=0.2), (3, 4), (3, 4))
    check_gradcheck(
        lambda m, x: F(m).cross_entropy(x, m.tensor(ints(3, (2, 2))), reduction="sum"), (2, 3, 2)
    )


def test_cross_entropy_double_backward_matches_torch():
    t = np.array([1, 0, 3])

    def body(m, x, w):
        loss = F(m).cross_entropy(x * w, m.tensor(t), label_smoothing=0.1)
        (g,) = m.autograd.grad(loss, x, create_graph=True)
        return (g * g * w).sum()

    check_op(body, (3, 4), (3, 4))


def test_cross_entropy_errors():
    x = ember.randn(3, 5)
    with pytest.raises(IndexError, match=r"Target 5 is out of bounds\."):
        EF.cross_entropy(x, ember.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match=r"Target -1 is out of bounds\."):
        EF.cross_entropy(x, ember.tensor([0, 1, -1]))
    with pytest.raises(
        ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)."
    ):
        EF.cross_entropy(x, ember.tensor([0, 1, 2, 3]))
    with pytest.raises(
        RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"
    ):
        EF.cross_entropy(x, ember.zeros(3, 2, dtype=ember.int64))
    with pytest.raises(
        RuntimeError,
        match="Expected floating point type for target with class probabilities, got Long",
    ):
        EF.cross_entropy(x, ember.zeros(3, 5, dtype=ember.int64))
    with pytest.raises(
        RuntimeError, match="expected target dtype to be Long or Byte, but got Float"
    ):
        EF.cross_entropy(x, ember.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        EF.cross_entropy(x, ember.tensor([0, 1, 2], dtype=ember.int32))
    with pytest.raises(
        RuntimeError,
        match=r"weight tensor should be defined either for all 5 classes or no classes but got "
        r"weight tensor of shape: \[4\]",
    ):
        EF.cross_entropy(x, ember.tensor([0, 1, 2]), weight=ember.ones(4))
    with pytest.raises(
        RuntimeError, match=r"label_smoothing must be between 0\.0 and 1\.0\. Got: 1\.5"
    ):
        EF.cross_entropy(x, ember.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        EF.cross_entropy(x, ember.tensor([0, 1, 2]), reduction="foo")
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 3\]"):
        EF.cross_entropy(ember.randn(2, 5, 4), ember.zeros(2, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="only batches of spatial targets supported"):
        EF.cross_entropy(ember.randn(2, 5, 4, 3), ember.zeros(2, 4, dtype=ember.int64))
    with pytest.raises(
        ValueError, match="For 1D input, 1D target must have size 1, but got target size: 2"
    ):
        EF.cross_entropy(ember.randn(5), ember.tensor([1, 2]))
    with pytest.raises(
        RuntimeError, match="ignore_index is not supported for floating point target"
    ):
        EF.cross_entropy(x, ember.rand(3, 5), ignore_index=1)
    with pytest.raises(NotImplementedError, match="not implemented for 'Int'"):
        EF.cross_entropy(x.int(), ember.tensor([0, 1, 2]))


# -- nll_loss -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("shape", "tshape"),
    [((4, 5), (4,)), ((5,), ()), ((2, 4, 3), (2, 3)), ((2, 3, 2, 2), (2, 2, 2))],
)
def test_nll_loss(reduction, shape, tshape):
    C = shape[0] if len(shape) == 1 else shape[1]
    t = ints(C, tshape)
    w = np.random.default_rng(1).uniform(0.5, 2, C).astype("f")
    check_op(lambda m, x: F(m).nll_loss(x, m.tensor(t), reduction=reduction), shape)
    check_op(
        lambda m, x: F(m).nll_loss(
            x, m.tensor(t), m.tensor(w), ignore_index=1, reduction=reduction
        ),
        shape,
    )


def test_nll_loss_gradcheck_and_errors():
    t = np.array([0, 2, -100])
    check_gradcheck(
        lambda m, x: F(m).nll_loss(x, m.tensor(t), m.tensor(np.array([1.0, 2, 3]))), (3, 3)
    )
    with pytest.raises(IndexError, match=r"Target 5 is out of bounds\."):
        EF.nll_loss(ember.randn(3, 5), ember.tensor([0, 1, 5]))
    with pytest.raises(
        ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)."
    ):
        EF.nll_loss(ember.randn(3, 5), ember.tensor([0, 1, 2, 3]))
    with pytest.raises(
        RuntimeError, match=r"size mismatch \(got input: \[2, 5, 4, 3\] , target: \[2, 4, 2\]"
    ):
        EF.nll_loss(ember.randn(2, 5, 4, 3), ember.zeros(2, 4, 2, dtype=ember.int64))
    with pytest.raises(ValueError, match=r"Expected 1 or more dimensions \(got 0\)"):
        EF.nll_loss(ember.tensor(1.0), ember.tensor(0))


# -- regression -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
        ("huber_loss", {}),
        ("huber_loss", {"delta": 0.3}),
        ("soft_margin_loss", {}),
    ],
)
def test_pointwise_losses(name, kwargs, reduction):
    def fn(m, x, y):
        if name == "soft_margin_loss":  # torch has no target gradient for it
            y = y.detach()
        return getattr(F(m), name)(x, y, reduction=reduction, **kwargs)

    check_op(fn, (3, 4), (3, 4))
    check_op(lambda m, x, y: fn(m, x.T, y[:, 1:]), (4, 3), (3, 5))  # non-contiguous


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_pointwise_losses(name, reduction):
    check_op(
        lambda m, x, y, w: getattr(F(m), name)(x, y, reduction=reduction, weight=w),
        (3, 4), (3, 4), (3, 4),
    )  # fmt: skip


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_broadcast_warns_as_torch(name):
    with pytest.warns(UserWarning, match="Using a target size"):
        check_op(lambda m, x, y: getattr(F(m), name)(x, y), (3, 4), (4,))


def test_pointwise_promotion_and_errors():
    x = np.random.default_rng(0).standard_normal((2, 3))
    e = EF.mse_loss(ember.tensor(x, dtype=ember.float32), ember.tensor(x, dtype=ember.float64))
    assert e.dtype == ember.float64
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Long'"):
        EF.mse_loss(ember.ones(2, dtype=ember.int64), ember.ones(2, dtype=ember.int64))
    with pytest.raises(
        RuntimeError, match=r"smooth_l1_loss does not support negative values for beta\."
    ):
        EF.smooth_l1_loss(ember.ones(2), ember.ones(2), beta=-1)
    with pytest.raises(
        RuntimeError, match=r"huber_loss does not support non-positive values for delta\."
    ):
        EF.huber_loss(ember.ones(2), ember.ones(2), delta=0)
    with pytest.raises(ValueError, match=r"Weights and input must have the same size\."):
        EF.mse_loss(ember.ones(2, 3), ember.ones(2, 3), weight=ember.ones(3))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        EF.l1_loss(ember.ones(2), ember.ones(2), reduction="foo")


def test_pointwise_gradcheck():
    for name in ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss"]:
        check_gradcheck(
            lambda m, x, y, name=name: getattr(F(m), name)(x, y, reduction="sum"), (2, 3), (2, 3)
        )
    check_gradcheck(lambda m, x, y: F(m).smooth_l1_loss(x, y, beta=0.7), (2, 3), (2, 3))
    check_gradcheck(lambda m, x, y: F(m).huber_loss(x, y, delta=0.7), (2, 3), (2, 3))


def test_legacy_size_average_reduce():
    for size_average, reduce, mode in [
        (False, None, "sum"),
        (None, False, "none"),
        (True, True, "mean"),
    ]:
        with pytest.warns(UserWarning, match=f"please use reduction='{mode}' instead"):
            check_op(
                lambda m, x, y, s=size_average, r=reduce: F(m).mse_loss(
                    x, y, size_average=s, reduce=r
                ),
                (3, 2), (3, 2),
            )  # fmt: skip


# -- binary cross entropy ---------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_binary_cross_entropy(reduction, use_weight):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, (3, 4)).astype("f")
    y = rng.uniform(0, 1, (3, 4)).astype("f")
    w = rng.uniform(0.5, 2, (4,)).astype("f")

    def body(m, a, b):
        return F(m).binary_cross_entropy(
            a, b, m.tensor(w) if use_weight else None, reduction=reduction
        )

    check_op(body, inputs=[x, y])


def test_binary_cross_entropy_at_0_and_1():
    x, y = np.array([0.0, 1.0, 0.0, 1.0], "f"), np.array([1.0, 0.0, 0.0, 1.0], "f")
    check_op(
        lambda m, a, b: F(m).binary_cross_entropy(a, b, reduction="none"), inputs=[x, y], grad=False
    )
    check_op(lambda m, a: F(m).binary_cross_entropy(a, m.tensor(y)), inputs=[x])


def test_binary_cross_entropy_gradcheck_and_errors():
    rng = np.random.default_rng(0)
    check_gradcheck(
        lambda m, a, b: F(m).binary_cross_entropy(a, b),
        inputs=[rng.uniform(0.1, 0.9, (2, 3)), rng.uniform(0, 1, (2, 3))],
    )
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        EF.binary_cross_entropy(ember.tensor([1.5, 0.5]), ember.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="that is different to the input size"):
        EF.binary_cross_entropy(ember.tensor([0.5, 0.5]), ember.tensor([1.0, 0.0, 1.0]))
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Float"):
        EF.binary_cross_entropy(ember.rand(3), ember.ones(3, dtype=ember.int64))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("use_pos_weight", [False, True])
def test_binary_cross_entropy_with_logits(reduction, use_weight, use_pos_weight):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 4)) * 3).astype("f")
    x[0, :2] = [60.0, -60.0]  # far in the tails: stable
    y = rng.uniform(0, 1, (3, 4)).astype("f")
    w = rng.uniform(0.5, 2, (3, 1)).astype("f")
    pw = rng.uniform(0.5, 3, (4,)).astype("f")

    def body(m, a, b):  # torch gives pos_weight no gradient: a constant here
        return F(m).binary_cross_entropy_with_logits(
            a, b, m.tensor(w) if use_weight else None, reduction=reduction,
            pos_weight=m.tensor(pw) if use_pos_weight else None,
        )  # fmt: skip

    check_op(body, inputs=[x, y])


def test_binary_cross_entropy_with_logits_gradcheck_and_errors():
    check_gradcheck(
        lambda m, a, b, p: F(m).binary_cross_entropy_with_logits(a, b, pos_weight=p),
        (2, 3),
        (2, 3),
        (3,),
    )
    check_gradcheck(lambda m, a, b: F(m).binary_cross_entropy_with_logits(a, b), (2, 3), (2, 3))
    with pytest.raises(
        ValueError, match=r"Target size \(ember.Size\(\[3\]\)\) must be the same as input size"
    ):
        EF.binary_cross_entropy_with_logits(ember.ones(2), ember.ones(3))
    with pytest.raises(RuntimeError, match="must match the size"):
        EF.binary_cross_entropy_with_logits(
            ember.ones(3, 4), ember.ones(3, 4), pos_weight=ember.ones(3)
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("use_weight", [False, True])
def test_multilabel_soft_margin_loss(reduction, use_weight):
    y = (np.random.default_rng(1).uniform(0, 1, (3, 4)) > 0.5).astype("f")
    w = np.random.default_rng(2).uniform(0.5, 2, 4).astype("f")

    def body(m, x):
        weight = m.tensor(w) if use_weight else None
        return F(m).multilabel_soft_margin_loss(x, m.tensor(y), weight, reduction=reduction)

    check_op(body, (3, 4))
    check_gradcheck(
        lambda m, x: F(m).multilabel_soft_margin_loss(x, m.tensor(y.astype("float64"))), (3, 4)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2), (-1, 0), (0.5, 1.5)])
def test_sigmoid_focal_loss_matches_torchvision_formula(reduction, alpha, gamma):
    def torchvision_focal(inputs, targets):  # torchvision.ops.sigmoid_focal_loss, verbatim
        p = torch.sigmoid(inputs)
        ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(
            inputs, targets, reduction="none"
        )
        p_t = p * targets + (1 - p) * (1 - targets)
        loss = ce_loss * ((1 - p_t) ** gamma)
        if alpha >= 0:
            loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]

    def body(m, x, y):
        if m is torch:
            return torchvision_focal(x, y)
        return EF.sigmoid_focal_loss(x, y, alpha=alpha, gamma=gamma, reduction=reduction)

    check_op(
        body, inputs=[np.random.default_rng(0).standard_normal((3, 4)).astype("f"), probs((3, 4))]
    )
    with pytest.raises(ValueError, match="Invalid Value for arg 'reduction'"):
        EF.sigmoid_focal_loss(ember.ones(2), ember.ones(2), reduction="batchmean")


# -- probabilistic ----------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(probs((3, 4), seed=1))
    y = np.log(probs((3, 4), seed=2)) if log_target else probs((3, 4), seed=2)
    fn = lambda m, a, b: F(m).kl_div(a, b, reduction=reduction, log_target=log_target)  # noqa: E731
    check_op(fn, inputs=[x, y])
    if not log_target:  # zero targets contribute 0 (the target gradient there: see below)
        y[0, 1] = y[2, 3] = 0.0
        check_op(lambda m, a: fn(m, a, m.tensor(y)), inputs=[x])


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
def test_kl_div_target_gradient_at_zero_is_zero():
    # Differences from PyTorch: torch's xlogy gives NaN there; the limit t log t -> 0 gives 0.
    y = ember.tensor(probs((2, 3), seed=2), requires_grad=True)
    with ember.no_grad():
        y[0, 1] = 0.0
    (g,) = ember.autograd.grad(EF.kl_div(ember.randn(2, 3), y, reduction="sum"), y)
    assert g.data[0, 1] == 0 and np.isfinite(g.data).all()


def test_kl_div_warns_and_gradcheck():
    x, y = np.log(probs((3, 4), 1)), probs((3, 4), 2)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        EF.kl_div(ember.tensor(x), ember.tensor(y))
    check_gradcheck(
        lambda m, a, b: F(m).kl_div(a, b, reduction="batchmean"),
        inputs=[x.astype("float64"), y.astype("float64")],
    )
    check_gradcheck(
        lambda m, a, b: F(m).kl_div(a, b, reduction="sum", log_target=True), (2, 3), (2, 3)
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss(reduction, log_input, full):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 2, (3, 4)).astype("f")
    y = rng.poisson(2.0, (3, 4)).astype("f")  # counts: 0, 1 and above
    fn = lambda m, a, b: F(m).poisson_nll_loss(a, b, log_input, full, reduction=reduction)  # noqa: E731
    check_op(lambda m, a: fn(m, a, m.tensor(y)), inputs=[x])
    # target gradients too, away from target 0 (where torch's Stirling term gives NaN)
    check_op(fn, inputs=[x, y + 0.5])
    check_gradcheck(
        lambda m, a, b: F(m).poisson_nll_loss(a, b, log_input, full),
        inputs=[x.astype("float64"), y.astype("float64") + 0.5],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("vshape", [(3, 4), (3,), (3, 1), (1, 4)])
def test_gaussian_nll_loss(reduction, full, vshape):
    rng = np.random.default_rng(0)
    var = rng.uniform(0.1, 2, vshape).astype("f")
    var.flat[0] = 1e-8  # below eps: the value is clamped, the gradient passes
    check_op(
        lambda m, x, y, v: F(m).gaussian_nll_loss(x, y, v, full=full, reduction=reduction),
        inputs=[
            rng.standard_normal((3, 4)).astype("f"),
            rng.standard_normal((3, 4)).astype("f"),
            var,
        ],
    )


def test_gaussian_nll_loss_float_var_gradcheck_and_errors():
    check_op(lambda m, x, y: F(m).gaussian_nll_loss(x, y, 0.5), (3, 2), (3, 2))
    check_gradcheck(
        lambda m, x, y, v: F(m).gaussian_nll_loss(x, y, v), (2, 3), (2, 3), (2, 1), low=0.5, high=2
    )
    x = ember.randn(3, 5)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        EF.gaussian_nll_loss(x, x, ember.ones(3, 2))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        EF.gaussian_nll_loss(x, x, -ember.ones(3, 5))
    with pytest.raises(ValueError, match="var has negative entry/entries"):
        EF.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="foo is not valid"):
        EF.gaussian_nll_loss(x, x, ember.ones(3, 5), reduction="foo")


# -- margin and embedding losses ----------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3])
def test_cosine_embedding_loss(reduction, margin):
    y = np.array([1, -1, 1, -1], "f")
    check_op(
        lambda m, a, b: F(m).cosine_embedding_loss(a, b, m.tensor(y), margin, reduction=reduction),
        (4, 3), (4, 3),
    )  # fmt: skip
    check_op(
        lambda m, a, b: F(m).cosine_embedding_loss(a, b, m.tensor(-1.0), margin=-0.5), (3,), (3,)
    )


def test_cosine_embedding_loss_gradcheck_and_errors():
    y = np.array([1.0, -1.0])
    check_gradcheck(
        lambda m, a, b: F(m).cosine_embedding_loss(a, b, m.tensor(y), -0.5), (2, 3), (2, 3)
    )
    x = ember.randn(3, 5)
    with pytest.raises(
        RuntimeError, match="0D target tensor expects 1D input tensors, but found inputs with sizes"
    ):
        EF.cosine_embedding_loss(x, x, ember.tensor(1.0))
    with pytest.raises(
        RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"
    ):
        EF.cosine_embedding_loss(x, x, ember.ones(3, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_and_hinge_embedding(reduction):
    y = np.array([1, -1, 1, -1, 1], "f")
    check_op(
        lambda m, a, b: F(m).margin_ranking_loss(a, b, m.tensor(y), 0.5, reduction=reduction),
        (5,),
        (5,),
    )
    y2 = np.array([[1, -1, 1], [-1, 1, 1]], "f")
    check_op(
        lambda m, a: F(m).hinge_embedding_loss(a, m.tensor(y2), 0.7, reduction=reduction), (2, 3)
    )
    check_gradcheck(
        lambda m, a, b: F(m).margin_ranking_loss(a, b, m.tensor(y.astype("float64")), 0.5),
        (5,),
        (5,),
    )
    check_gradcheck(
        lambda m, a: F(m).hinge_embedding_loss(a, m.tensor(y2.astype("float64"))), (2, 3)
    )
    with pytest.raises(
        RuntimeError, match="margin_ranking_loss : All input tensors should have same dimension"
    ):
        EF.margin_ranking_loss(ember.ones(3, 5), ember.ones(3, 5), ember.ones(3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("p", "swap"), [(2, False), (1, True), (3, False), (2, True)])
def test_triplet_margin_loss(reduction, p, swap):
    check_op(
        lambda m, a, b, c: F(m).triplet_margin_loss(
            a, b, c, 0.5, p, swap=swap, reduction=reduction
        ),
        (4, 3), (4, 3), (4, 3),
    )  # fmt: skip
    check_op(lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, p=p, swap=swap), (3,), (3,), (3,))


def test_triplet_margin_with_distance_loss():
    check_op(
        lambda m, a, b, c: F(m).triplet_margin_with_distance_loss(a, b, c, swap=True),
        (4, 3),
        (4, 3),
        (4, 3),
    )

    def cosine(m):
        return lambda x, y: 1 - (x * y).sum(-1) / (x.norm(dim=-1) * y.norm(dim=-1))

    check_op(
        lambda m, a, b, c: F(m).triplet_margin_with_distance_loss(
            a, b, c, distance_function=cosine(m), margin=0.4, reduction="none"
        ),
        (4, 3), (4, 3), (4, 3),
    )  # fmt: skip


def test_triplet_gradcheck_and_errors():
    check_gradcheck(
        lambda m, a, b, c: F(m).triplet_margin_loss(a, b, c, margin=2.0, swap=True),
        (2, 3),
        (2, 3),
        (2, 3),
    )
    x = ember.randn(3, 5)
    with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
        EF.triplet_margin_loss(x, x, x, margin=-1)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D inputs"):
        EF.triplet_margin_loss(x, x, ember.randn(5))
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        EF.triplet_margin_with_distance_loss(x, x, x, margin=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("use_weight", [False, True])
def test_multi_margin_loss(reduction, p, use_weight):
    t = ints(5, (4,))
    w = np.random.default_rng(1).uniform(0.5, 2, 5).astype("f")

    def body(m, x):
        weight = m.tensor(w) if use_weight else None
        return F(m).multi_margin_loss(x, m.tensor(t), p, 0.8, weight, reduction=reduction)

    check_op(body, (4, 5))
    check_op(lambda m, x: F(m).multi_margin_loss(x, m.tensor(2), p, reduction=reduction), (5,))


def test_multi_margin_loss_gradcheck_and_errors():
    check_gradcheck(lambda m, x: F(m).multi_margin_loss(x, m.tensor(np.array([0, 2])), p=2), (2, 3))
    x = ember.randn(3, 5)
    with pytest.raises(RuntimeError, match="target out of range"):
        EF.multi_margin_loss(x, ember.tensor([0, 1, 5]))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        EF.multi_margin_loss(x, ember.tensor([0, 1, 2]), p=3)
    with pytest.raises(RuntimeError, match=r"inconsistent weight size, expected 5 but got \[4\]"):
        EF.multi_margin_loss(x, ember.tensor([0, 1, 2]), weight=ember.ones(4))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3\], but got \[2\]"):
        EF.multi_margin_loss(x, ember.tensor([0, 1]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 4, 0, -1], [-1, 1, 2, 3, 4], [4, 4, -1, 0, 0]])
    check_op(lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(t), reduction=reduction), (4, 5))
    check_op(lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(t[1]), reduction=reduction), (5,))
    check_gradcheck(
        lambda m, x: F(m).multilabel_margin_loss(x, m.tensor(t[:2, :4].clip(-1, 3))), (2, 4)
    )
    with pytest.raises(
        RuntimeError, match=r"inconsistent target size: \[3\] for input of size: \[3, 5\]"
    ):
        EF.multilabel_margin_loss(ember.randn(3, 5), ember.tensor([0, 1, 2]))
    with pytest.raises(RuntimeError, match="expected scalar type Long but found Int"):
        EF.multilabel_margin_loss(ember.randn(5), ember.tensor([0, 1, 2, -1, 0], dtype=ember.int32))


# -- CTC ----------------------------------------------------------------------------------------
def _ctc_problem(T=12, N=4, C=5, S=4, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C)).astype("f")
    target_lengths = np.array([4, 1, 0, 3])[:N]
    input_lengths = np.array([T, T - 3, 5, T - 1])[:N]
    targets = rng.integers(1, C, (N, S))
    targets[0, 1] = targets[0, S - 1]  # a repeated label needs a blank between
    return logits, targets, input_lengths, target_lengths


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_ctc_loss(reduction, layout):
    logits, targets, il, tl = _ctc_problem()
    if layout == "concatenated":
        targets = np.concatenate([row[:n] for row, n in zip(targets, tl)])

    def body(m, x):
        lp = F(m).log_softmax(x, 2)
        return F(m).ctc_loss(lp, m.tensor(targets), m.tensor(il), m.tensor(tl), reduction=reduction)

    check_op(body, inputs=[logits], rtol=1e-4, atol=1e-4)


def test_ctc_loss_gradient_on_log_probs_directly():
    logits, targets, il, tl = _ctc_problem(seed=1)
    lp = torch.log_softmax(torch.tensor(logits), 2).numpy()
    check_op(
        lambda m, x: F(m).ctc_loss(x, m.tensor(targets), list(il), tuple(tl), blank=0),
        inputs=[lp],
        atol=1e-4,
    )


def test_ctc_loss_blank_unbatched_and_zero_infinity():
    logits, targets, il, tl = _ctc_problem(C=6, seed=2)
    t = np.where(targets == 5, 0, targets)  # blank=5, labels 0..4
    check_op(
        lambda m, x: F(m).ctc_loss(
            F(m).log_softmax(x, 2), m.tensor(t), m.tensor(il), m.tensor(tl), blank=5
        ),
        inputs=[logits],
        atol=1e-4,
    )
    check_op(
        lambda m, x: F(m).ctc_loss(
            F(m).log_softmax(x, 1), m.tensor(t[0]), m.tensor(12), m.tensor(4), reduction="none"
        ),
        inputs=[logits[:, 0]],
        atol=1e-4,
    )
    # impossible alignments (target longer than the input): inf, or 0 with zero_infinity
    short = np.array([12, 2, 5, 1])
    for zero_infinity in (False, True):
        check_op(
            lambda m, x, z=zero_infinity: F(m).ctc_loss(
                F(m).log_softmax(x, 2), m.tensor(t), m.tensor(short), m.tensor(tl), 0, "sum", z
            ),
            inputs=[logits], atol=1e-4, grad=zero_infinity,
        )  # fmt: skip


def test_ctc_loss_gradcheck_and_double_backward_refused():
    logits, targets, _, _ = _ctc_problem(T=6, N=2, C=4, S=2)
    targets = targets.clip(1, 3)

    def fn(m, x):
        lp = F(m).log_softmax(x, 2)
        return F(m).ctc_loss(lp, m.tensor(targets), m.tensor([6, 4]), m.tensor([2, 1]))

    check_gradcheck(fn, inputs=[logits.astype("float64")], second_order=False)
    x = ember.tensor(logits, requires_grad=True)
    (g,) = ember.autograd.grad(fn(ember, x), x, create_graph=True)
    with pytest.raises(
        RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"
    ):
        ember.autograd.grad(g.sum(), x)


def test_ctc_loss_errors():
    lp = EF.log_softmax(ember.randn(10, 2, 5), 2)
    t = ember.tensor([[1, 2], [1, 2]])
    with pytest.raises(
        RuntimeError, match="Expected input_lengths to have value at most 10, but got value 11"
    ):
        EF.ctc_loss(lp, t, [10, 11], [2, 2])
    with pytest.raises(
        RuntimeError, match="Expected tensor to have size at least 3 at dimension 1, but got size 2"
    ):
        EF.ctc_loss(lp, t, [10, 10], [2, 3])
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        EF.ctc_loss(lp, t, [10, 10], [2, 2], blank=5)
    with pytest.raises(RuntimeError, match="input_lengths must be of size batch_size"):
        EF.ctc_loss(lp, t, [10], [2, 2])
    with pytest.raises(
        RuntimeError, match="Expected tensor to have size 4 at dimension 0, but got size 3"
    ):
        EF.ctc_loss(lp, ember.tensor([1, 2, 1]), [10, 10], [2, 2])


# -- modules --------------------------------------------------------------------------------
def _weight(m, n=4):
    return m.tensor(np.linspace(0.5, 2.0, n, dtype=np.float32))


POINTWISE_MODULES = [
    lambda m: m.nn.L1Loss(),
    lambda m: m.nn.MSELoss(reduction="sum"),
    lambda m: m.nn.SmoothL1Loss(beta=0.5),
    lambda m: m.nn.HuberLoss(reduction="none", delta=0.5),
    lambda m: m.nn.KLDivLoss(reduction="batchmean", log_target=True),
    lambda m: m.nn.PoissonNLLLoss(full=True),
    lambda m: m.nn.BCEWithLogitsLoss(weight=_weight(m), pos_weight=_weight(m) * 2),
    lambda m: m.nn.MultiLabelSoftMarginLoss(weight=_weight(m)),
]


@pytest.mark.parametrize("make", POINTWISE_MODULES)
def test_pointwise_modules(make):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4)).astype("f"), rng.uniform(0, 3, (3, 4)).astype("f")
    check_module(make, inputs=[x, y])


def test_classification_modules():
    t = np.array([0, 3, 1, -100])
    x = np.random.default_rng(0).standard_normal((4, 4)).astype("f")
    check_module(
        lambda m: m.nn.CrossEntropyLoss(weight=_weight(m), label_smoothing=0.1), inputs=[x, t]
    )
    check_module(
        lambda m: m.nn.CrossEntropyLoss(ignore_index=3, reduction="none"), inputs=[x, t.clip(0)]
    )
    check_module(lambda m: m.nn.NLLLoss(weight=_weight(m), reduction="sum"), inputs=[x, t])
    check_module(
        lambda m: m.nn.MultiMarginLoss(p=2, margin=0.5, weight=_weight(m)), inputs=[x, t.clip(0)]
    )
    labels = np.array([[1, 2, -1, 0]] * 4)
    check_module(lambda m: m.nn.MultiLabelMarginLoss(), inputs=[x, labels])
    e_layer, _ = check_module(
        lambda m: m.nn.BCELoss(weight=_weight(m)), inputs=[probs((4, 4)), probs((4, 4), 1)]
    )
    assert list(e_layer.state_dict()) == ["weight"]


def test_pair_and_triplet_modules():
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((4, 3)).astype("f") for _ in range(3))
    y = np.array([1, -1, 1, -1], "f")
    check_module(lambda m: m.nn.CosineEmbeddingLoss(margin=0.2), inputs=[a, b, y])
    check_module(lambda m: m.nn.MarginRankingLoss(margin=0.1), inputs=[a[:, 0], b[:, 0], y])
    check_module(lambda m: m.nn.HingeEmbeddingLoss(margin=0.5), inputs=[a, np.sign(b)])
    check_module(
        lambda m: m.nn.SoftMarginLoss(),
        inputs=[a, np.sign(b)],
        call=lambda layer, x, y: layer(x, y.detach()),
    )
    check_module(lambda m: m.nn.TripletMarginLoss(margin=0.5, p=1, swap=True), inputs=[a, b, c])
    check_module(
        lambda m: m.nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True), inputs=[a, b, c]
    )
    check_module(lambda m: m.nn.GaussianNLLLoss(full=True), inputs=[a, b, np.abs(c) + 0.1])


def _log_softmax(x):
    return EF.log_softmax(x, 2) if isinstance(x, ember.Tensor) else torch.log_softmax(x, 2)


def test_ctc_module():
    logits, targets, il, tl = _ctc_problem()
    check_module(
        lambda m: m.nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True),
        inputs=[logits, targets],
        call=lambda layer, x, t: layer(_log_softmax(x), t, tuple(il), tuple(tl)),
        atol=1e-4,
    )


def test_module_defaults_buffers_and_repr():
    for name in ["CrossEntropyLoss", "BCEWithLogitsLoss", "HuberLoss", "CTCLoss", "KLDivLoss"]:
        e, t = getattr(ember.nn, name)(), getattr(torch.nn, name)()
        assert repr(e) == repr(t)
        assert e.reduction == t.reduction
    e = ember.nn.BCEWithLogitsLoss(pos_weight=ember.ones(3))
    assert list(e.state_dict()) == ["pos_weight"] and e.weight is None
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        assert ember.nn.L1Loss(size_average=False).reduction == "sum"
    ce = ember.nn.CrossEntropyLoss()
    assert (ce.ignore_index, ce.label_smoothing) == (-100, 0.0)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got -1 instead"):
        ember.nn.TripletMarginLoss(margin=-1)
    assert math.isclose(ember.nn.PoissonNLLLoss().eps, 1e-8)


def test_cross_entropy_module_matches_functional_with_random_seeds():
    for seed in range(3):
        t = ints(7, (6,), seed=seed)
        check_op(
            lambda m, x, t=t: m.nn.CrossEntropyLoss(label_smoothing=0.05)(x, m.tensor(t)),
            (6, 7),
            seed=seed,
        )
        assert_same(
            EF.cross_entropy(ember.ones(2, 7), ember.tensor(t[:2])),
            torch.nn.functional.cross_entropy(torch.ones(2, 7), torch.tensor(t[:2])),
        )
