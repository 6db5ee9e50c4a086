"""Normalisation: F.batch_norm/layer_norm/group_norm/instance_norm/rms_norm/local_response_norm
and their layers, against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.helpers import assert_same, check_gradcheck, check_module, check_op, state_dict_to_ember


def F(m):
    return EF if m is ember else TF


# -- functional: values and gradients ---------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    def fn(m, x, w, b):
        return F(m).batch_norm(x, None, None, w if affine else None, b if affine else None, True)

    check_op(fn, shape, (3,), (3,))


def test_batch_norm_weight_only_and_bias_only():
    check_op(lambda m, x, w: F(m).batch_norm(x, None, None, w, None, True), (4, 3, 5), (3,))
    check_op(lambda m, x, b: F(m).batch_norm(x, None, None, None, b, True), (4, 3, 5), (3,))


def test_batch_norm_eval():
    rm, rv = np.array([0.5, -1.0, 0.0], "float32"), np.array([0.5, 2.0, 1.0], "float32")

    def fn(m, x, w, b):
        return F(m).batch_norm(x, m.tensor(rm), m.tensor(rv), w, b, False, eps=1e-3)

    check_op(fn, (4, 3, 5), (3,), (3,))
    check_op(lambda m, x: F(m).batch_norm(x.mT, m.tensor(rm), m.tensor(rv)), (4, 5, 3))


def test_batch_norm_noncontiguous():
    check_op(
        lambda m, x, w, b: F(m).batch_norm(x.transpose(0, 2), None, None, w, b, True),
        (5, 3, 4),
        (3,),
        (3,),
    )
    check_op(lambda m, x: F(m).batch_norm(x[:, 1:, ::2], None, None, None, None, True), (4, 4, 6))


def test_batch_norm_running_stats_functional():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3, 4)).astype(np.float32) * 3 + 1
    stats = {}
    for m in (ember, torch):
        rm, rv = m.zeros(3), m.ones(3)
        F(m).batch_norm(m.tensor(x), rm, rv, training=True, momentum=0.3)
        stats[m.__name__] = rm, rv
    assert_same(stats["ember"][0], stats["torch"][0])
    assert_same(stats["ember"][1], stats["torch"][1])


@pytest.mark.parametrize(
    "shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), (6,))]
)
def test_layer_norm(shape, normalized):
    check_op(lambda m, x, w, b: F(m).layer_norm(x, normalized, w, b), shape, normalized, normalized)
    check_op(lambda m, x: F(m).layer_norm(x, normalized, eps=1e-3), shape)


def test_layer_norm_weight_only_and_noncontiguous():
    check_op(lambda m, x, w: F(m).layer_norm(x, (3,), w), (2, 4, 3), (3,))
    check_op(lambda m, x, w, b: F(m).layer_norm(x.T, (4,), w, b), (4, 5), (4,), (4,))
    check_op(lambda m, x, b: F(m).layer_norm(x[:, 1:], (4,), None, b), (3, 5), (4,))


def test_layer_norm_float64_dtype():
    check_op(lambda m, x, w, b: F(m).layer_norm(x, (5,), w, b), (3, 5), (5,), (5,), dtype="float64")


def test_layer_norm_offset_input():
    # Rows far from zero: the statistics must keep the spread (E[x^2] - m^2 would be off by ~5%).
    fn = lambda m, x, w, b: F(m).layer_norm(x + 1000.0, (64,), w, b)  # noqa: E731
    check_op(fn, (6, 64), (64,), (64,), rtol=1e-3, atol=1e-3)  # float32 mean rounding ~1e-4
    check_op(fn, (6, 64), (64,), (64,), dtype="float64")


def test_layer_norm_output_modified_in_place():
    # The forward keeps its own normalised buffer: changing the output does not change grads.
    check_op(lambda m, x, w, b: F(m).layer_norm(x, (4,), w, b).mul_(2), (3, 4), (4,), (4,))
    check_op(lambda m, x, b: F(m).layer_norm(x, (4,), None, b).add_(1), (3, 4), (4,))


def test_layer_norm_backward_twice_and_weight_grad_only():
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((5, 8), (8,), (8,)))
    g = rng.standard_normal((5, 8)).astype(np.float32)
    grads = {}
    for m in (ember, torch):
        xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F(m).layer_norm(xt, (8,), wt, bt)
        y.backward(m.tensor(g), retain_graph=True)
        y.backward(m.tensor(g))  # saved buffers must survive the first backward
        frozen = F(m).layer_norm(m.tensor(x), (8,), wt)  # no input grad: weight only
        (gw,) = m.autograd.grad(frozen, wt, m.tensor(g))
        grads[m.__name__] = xt.grad, wt.grad, bt.grad, gw
    for e, t in zip(grads["ember"], grads["torch"], strict=True):
        assert_same(e, t, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "norm",
    [
        lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, True),
        lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b),
        lambda m, x, w, b: F(m).group_norm(x, 3, w, b),
    ],
    ids=["batch", "instance", "group"],
)
def test_offset_input_and_weight_grad_only(norm):
    fn = lambda m, x, w, b: norm(m, x + 1000.0, w, b)  # noqa: E731
    check_op(fn, (6, 3, 8), (3,), (3,), rtol=1e-3, atol=1e-3)  # float32 mean rounding ~1e-4
    check_op(fn, (6, 3, 8), (3,), (3,), dtype="float64")
    rng = np.random.default_rng(4)
    x, w, g = (rng.standard_normal(s).astype(np.float32) for s in ((4, 3, 5), (3,), (4, 3, 5)))
    grads = []
    for m in (ember, torch):
        wt = m.tensor(w, requires_grad=True)
        out = norm(m, m.tensor(x), wt, m.tensor(w))
        grads.append(m.autograd.grad(out, wt, m.tensor(g))[0])
    assert_same(*grads, rtol=1e-4, atol=1e-5)


def test_long_rows_fallback(monkeypatch):
    # Rows longer than _EINSUM_COLS take the pairwise-sum paths; shrink it to test them.
    import ember.ops.normalize_kernel as kernel

    monkeypatch.setattr(kernel, "_EINSUM_COLS", 2)
    check_op(lambda m, x, w, b: F(m).layer_norm(x, (4,), w, b), (3, 4), (4,), (4,))
    check_op(lambda m, x, w: F(m).layer_norm(x, (2, 3), w), (2, 2, 3), (2, 3))
    check_op(lambda m, x, w, b: F(m).group_norm(x, 2, w, b), (2, 4, 3), (4,), (4,))
    check_op(lambda m, x, w: F(m).instance_norm(x, weight=w), (2, 3, 5), (3,))
    check_gradcheck(lambda m, x, w, b: EF.layer_norm(x, (4,), w, b), (2, 4), (4,), (4,))


def test_group_norm_bias_only():
    # PyTorch fails on a bias without weight ("tensor does not have a device"): its oracle is
    # the same call with a weight of ones.
    def fn(m, x, b, groups):
        weight = None if m is ember else torch.ones(x.shape[1])
        return F(m).group_norm(x, groups, weight, b)

    check_op(lambda m, x, b: fn(m, x, b, 2), (2, 4, 3), (4,))
    check_op(lambda m, x, b: fn(m, x, b, 1), (2, 3, 5), (3,))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_computes_in_float32(dtype):
    tol = {"rtol": 2e-2, "atol": 2e-2}
    check_op(
        lambda m, x, w, b: F(m).layer_norm(x, (16,), w, b),
        (4, 16),
        (16,),
        (16,),
        dtype=dtype,
        **tol,
    )
    check_op(
        lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, True),
        (8, 3, 4),
        (3,),
        (3,),
        dtype=dtype,
        **tol,
    )


@pytest.mark.parametrize("shape, groups", [((2, 6, 5), 3), ((2, 4, 3, 3), 2), ((3, 12), 2)])
def test_group_norm(shape, groups):
    c = shape[1]
    check_op(lambda m, x, w, b: F(m).group_norm(x, groups, w, b), shape, (c,), (c,))
    check_op(lambda m, x: F(m).group_norm(x, groups), shape)


def test_group_norm_noncontiguous():
    check_op(lambda m, x, w: F(m).group_norm(x.transpose(1, 2), 2, w), (2, 5, 4), (4,))


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4)])
def test_instance_norm(shape):
    check_op(lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b), shape, (3,), (3,))
    check_op(lambda m, x: F(m).instance_norm(x, eps=1e-3), shape)


def test_instance_norm_running_stats():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 6)).astype(np.float32) * 2 + 0.5
    out = {}
    for m in (ember, torch):
        rm, rv = m.zeros(3), m.ones(3)
        y = F(m).instance_norm(m.tensor(x), rm, rv, momentum=0.2)
        z = F(m).instance_norm(m.tensor(x), rm, rv, use_input_stats=False)
        out[m.__name__] = (y, z, rm, rv)
    assert_same(out["ember"], out["torch"])


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (3, 4))])
def test_rms_norm(shape, normalized):
    check_op(lambda m, x, w: F(m).rms_norm(x, normalized, w), shape, normalized)
    check_op(lambda m, x: F(m).rms_norm(x, normalized, eps=1e-3), shape)
    check_op(lambda m, x: F(m).rms_norm(x.transpose(0, 1), normalized[-1:]), shape[::-1][:2])


def test_rms_norm_float16():
    check_op(lambda m, x: F(m).rms_norm(x, (6,)), (3, 6), dtype="float16", rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape, size", [((2, 5, 4), 3), ((2, 6, 3, 3), 2), ((1, 4, 2, 2, 2), 5)])
def test_local_response_norm(shape, size):
    check_op(lambda m, x: F(m).local_response_norm(x, size, alpha=0.1, beta=0.6, k=1.5), shape)
    check_op(lambda m, x: F(m).local_response_norm(x, size), shape)


def test_local_response_norm_noncontiguous():
    check_op(lambda m, x: F(m).local_response_norm(x.transpose(1, 2), 3, alpha=0.5), (2, 3, 5))


# -- gradcheck (float64), second order included ------------------------------------------------
def test_batch_norm_gradcheck():
    check_gradcheck(
        lambda m, x, w, b: EF.batch_norm(x, None, None, w, b, True), (4, 3, 2), (3,), (3,)
    )
    check_gradcheck(lambda m, x: EF.batch_norm(x, None, None, None, None, True), (3, 2, 2))


def test_batch_norm_eval_gradcheck():
    rm, rv = (
        ember.tensor([0.1, -0.2], dtype=ember.float64),
        ember.tensor([1.5, 0.7], dtype=ember.float64),
    )
    check_gradcheck(lambda m, x, w, b: EF.batch_norm(x, rm, rv, w, b, False), (3, 2, 2), (2,), (2,))


def test_layer_norm_gradcheck():
    check_gradcheck(lambda m, x, w, b: EF.layer_norm(x, (4,), w, b), (2, 3, 4), (4,), (4,))
    check_gradcheck(lambda m, x, w: EF.layer_norm(x, (2, 3), w), (2, 2, 3), (2, 3))


def test_group_norm_gradcheck():
    check_gradcheck(lambda m, x, w, b: EF.group_norm(x, 2, w, b), (2, 4, 3), (4,), (4,))


def test_instance_norm_gradcheck():
    check_gradcheck(lambda m, x, w: EF.instance_norm(x, weight=w), (2, 2, 3), (2,))


def test_rms_norm_gradcheck():
    check_gradcheck(lambda m, x, w: EF.rms_norm(x, (4,), w), (3, 4), (4,))


def test_local_response_norm_gradcheck():
    check_gradcheck(lambda m, x: EF.local_response_norm(x, 3, alpha=0.5), (2, 4, 3))


def test_layer_norm_third_order():
    # The double backward is itself built from Ember ops: a third derivative exists and agrees
    # with PyTorch's.
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((2, 4)), rng.standard_normal(4)
    results = {}
    for m in (ember, torch):
        xt = m.tensor(x, requires_grad=True)
        wt = m.tensor(w, requires_grad=True)
        y = (F(m).layer_norm(xt, (4,), wt) ** 3).sum()
        (g,) = m.autograd.grad(y, xt, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), xt, create_graph=True)
        (ggg,) = m.autograd.grad((gg * gg).sum(), wt)
        results[m.__name__] = ggg
    assert_same(results["ember"], results["torch"], rtol=1e-6, atol=1e-8)


# -- errors ------------------------------------------------------------------------------------
def test_batch_norm_errors():
    x = ember.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        EF.batch_norm(x, ember.zeros(4), ember.ones(3))
    with pytest.raises(RuntimeError, match="running_var should contain 3 elements not 4"):
        EF.batch_norm(x, ember.zeros(3), ember.ones(4))
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        EF.batch_norm(x, None, None)
    with pytest.raises(RuntimeError, match="running_var must be defined in evaluation mode"):
        EF.batch_norm(x, ember.zeros(3), None)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        EF.batch_norm(x, None, None, weight=ember.ones(4), training=True)
    with pytest.raises(RuntimeError, match="bias should contain 3 elements not 4"):
        EF.batch_norm(x, None, None, bias=ember.ones(4), training=True)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        EF.batch_norm(ember.randn(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        EF.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        EF.batch_norm(ember.randn(3), None, None, training=True)


def test_batch_norm_error_leaves_running_stats():
    rm, rv = ember.zeros(3), ember.ones(3)
    with pytest.raises(RuntimeError, match="weight should contain"):
        EF.batch_norm(ember.randn(4, 3), rm, rv, weight=ember.ones(2), training=True)
    assert not rm.data.any() and (rv.data == 1).all()


def test_layer_norm_errors():
    x = ember.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 4\], but got input"):
        EF.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*, 3, 4\]"):
        EF.layer_norm(x, (3, 4))
    with pytest.raises(RuntimeError, match=r"weight of shape \[4\] and normalized_shape = \[5\]"):
        EF.layer_norm(x, (5,), ember.ones(4))
    with pytest.raises(RuntimeError, match=r"bias of shape \[4\] and normalized_shape = \[5\]"):
        EF.layer_norm(x, (5,), None, ember.ones(4))
    with pytest.raises(RuntimeError, match="at least 1-dimensional"):
        EF.layer_norm(x, ())


def test_group_norm_errors():
    x = ember.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match="divisible by num_groups, but got input of shape"):
        EF.group_norm(x, 2)
    with pytest.raises(RuntimeError, match="weight to be a vector of size equal to the number"):
        EF.group_norm(x, 3, ember.ones(4))
    with pytest.raises(RuntimeError, match="Expected at least 2 dimensions"):
        EF.group_norm(ember.randn(3), 3)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        EF.group_norm(ember.randn(1, 2), 2)


def test_other_norm_errors():
    x = ember.randn(4, 3, 5)
    with pytest.raises(RuntimeError, match=r"expected input with shape \[\*4\]"):
        EF.rms_norm(x, (4,))
    with pytest.raises(RuntimeError, match="weight should contain 12 elements not 16"):
        EF.instance_norm(x, weight=ember.ones(4))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        EF.instance_norm(ember.randn(4, 3, 1))
    with pytest.raises(RuntimeError, match="to be defined when use_input_stats is false"):
        EF.instance_norm(x, use_input_stats=False)
    with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality .*\(got 2"):
        EF.local_response_norm(ember.randn(4, 3), 2)


# -- layers ------------------------------------------------------------------------------------
BATCH_NORMS = [
    ("BatchNorm1d", (4, 3)),
    ("BatchNorm1d", (4, 3, 5)),
    ("BatchNorm2d", (2, 3, 4, 3)),
    ("BatchNorm3d", (2, 3, 2, 3, 2)),
]


@pytest.mark.parametrize("name, shape", BATCH_NORMS)
@pytest.mark.parametrize("train", [True, False])
def test_batch_norm_module(name, shape, train):
    check_module(lambda m: getattr(m.nn, name)(3), shape, train=train)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": None},
        {"affine": False},
        {"track_running_stats": False},
        {"momentum": 0.5, "eps": 1e-3},
        {"bias": False},
    ],
)
def test_batch_norm_steps(kwargs):
    # Three training steps: outputs, gradients and running statistics follow PyTorch's; then
    # eval outputs (running statistics, or batch statistics without them).
    e_bn, t_bn = check_module(lambda m: m.nn.BatchNorm2d(3, **kwargs), (4, 3, 2, 2))
    rng = np.random.default_rng(3)
    for step in range(2):
        x = rng.standard_normal((4, 3, 2, 2)).astype(np.float32) * (step + 1) + step
        assert_same(e_bn(ember.tensor(x)), t_bn(torch.tensor(x)))
    e_buffers, t_buffers = dict(e_bn.named_buffers()), dict(t_bn.named_buffers())
    assert list(e_buffers) == list(t_buffers)
    for key, value in t_buffers.items():
        assert_same(e_buffers[key], value)
    e_bn.eval()
    t_bn.eval()
    x = rng.standard_normal((5, 3, 2, 2)).astype(np.float32)
    assert_same(e_bn(ember.tensor(x)), t_bn(torch.tensor(x)))


def test_batch_norm_state_dict_and_repr():
    e_bn, t_bn = ember.nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    assert list(e_bn.state_dict()) == list(t_bn.state_dict())
    assert e_bn.num_batches_tracked.dtype is ember.int64
    assert_same(e_bn.running_var, t_bn.running_var)
    assert_same(e_bn.weight, t_bn.weight)
    assert_same(e_bn.bias, t_bn.bias)
    for kwargs in ({}, {"momentum": None, "affine": False}, {"track_running_stats": False}):
        assert repr(ember.nn.BatchNorm2d(3, **kwargs)) == repr(torch.nn.BatchNorm2d(3, **kwargs))
    state = state_dict_to_ember(torch.nn.BatchNorm3d(2).state_dict())
    ember.nn.BatchNorm3d(2).load_state_dict(state)


def test_batch_norm_module_errors():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        ember.nn.BatchNorm1d(3)(ember.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        ember.nn.BatchNorm2d(3)(ember.randn(2, 3))
    with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
        ember.nn.BatchNorm3d(3)(ember.randn(2, 3, 2, 2))


@pytest.mark.parametrize(
    "name, shape",
    [
        ("InstanceNorm1d", (2, 3, 5)),
        ("InstanceNorm1d", (3, 5)),
        ("InstanceNorm2d", (2, 3, 3, 4)),
        ("InstanceNorm3d", (2, 3, 2, 2, 3)),
    ],
)
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True}])
@pytest.mark.parametrize("train", [True, False])
def test_instance_norm_module(name, shape, kwargs, train):
    e_layer, t_layer = check_module(lambda m: getattr(m.nn, name)(3, **kwargs), shape, train=train)
    for key, value in t_layer.state_dict().items():
        assert_same(e_layer.state_dict()[key], value)


def test_instance_norm_module_repr_and_errors():
    for kwargs in ({}, {"affine": True, "track_running_stats": True}):
        layer, t_layer = ember.nn.InstanceNorm2d(3, **kwargs), torch.nn.InstanceNorm2d(3, **kwargs)
        assert repr(layer) == repr(t_layer)
        assert list(layer.state_dict()) == list(t_layer.state_dict())
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        ember.nn.InstanceNorm2d(3)(ember.randn(2, 3))
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\), but got: 4"):
        ember.nn.InstanceNorm1d(3, affine=True)(ember.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        ember.nn.InstanceNorm1d(3)(ember.randn(2, 4, 5))


@pytest.mark.parametrize(
    "kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}]
)
@pytest.mark.parametrize("normalized, shape", [(5, (2, 3, 5)), ((3, 5), (2, 3, 5))])
def test_layer_norm_module(kwargs, normalized, shape):
    check_module(lambda m: m.nn.LayerNorm(normalized, **kwargs), shape)
    assert repr(ember.nn.LayerNorm(normalized, **kwargs)) == repr(
        torch.nn.LayerNorm(normalized, **kwargs)
    )


@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"bias": False}, {"eps": 1e-2}])
def test_group_norm_module(kwargs):
    check_module(lambda m: m.nn.GroupNorm(2, 4, **kwargs), (3, 4, 5))
    assert repr(ember.nn.GroupNorm(2, 4, **kwargs)) == repr(torch.nn.GroupNorm(2, 4, **kwargs))
    with pytest.raises(ValueError, match=r"num_channels \(3\) must be divisible by num_groups"):
        ember.nn.GroupNorm(2, 3)


@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"eps": 1e-3}])
def test_rms_norm_module(kwargs):
    check_module(lambda m: m.nn.RMSNorm([3, 4], **kwargs), (2, 3, 4))
    assert repr(ember.nn.RMSNorm(4, **kwargs)) == repr(torch.nn.RMSNorm(4, **kwargs))


def test_local_response_norm_module():
    check_module(lambda m: m.nn.LocalResponseNorm(3, alpha=0.2, beta=0.5, k=2.0), (2, 5, 3, 3))
    assert repr(ember.nn.LocalResponseNorm(3)) == repr(torch.nn.LocalResponseNorm(3))


def test_init_ones_and_zeros():
    for layer in (
        ember.nn.BatchNorm2d(3),
        ember.nn.LayerNorm(3),
        ember.nn.GroupNorm(1, 3),
        ember.nn.InstanceNorm1d(3, affine=True),
    ):
        assert (layer.weight.data == 1).all() and (layer.bias.data == 0).all()
        assert layer.weight.requires_grad and layer.weight.dtype is ember.float32
    assert (ember.nn.RMSNorm(3).weight.data == 1).all()
    layer = ember.nn.LayerNorm(3, dtype=ember.float64)
    assert layer.weight.dtype is ember.float64
