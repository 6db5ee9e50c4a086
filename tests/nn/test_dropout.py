"""Dropout functions and layers: statistics, reproducibility, gradients, modes, errors.

Masks come from Ember's generator, so values cannot be compared with PyTorch's; the tests check
the distribution, that the gradient is the mask times the scale, and PyTorch's API behaviour.
"""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check_module

F = ember.nn.functional
SELU_ALPHA_SCALED = 1.7580993408473766


def _ones(*shape, requires_grad=True):
    return ember.ones(*shape, requires_grad=requires_grad)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    ember.manual_seed(0)
    x = _ones(200, 500)
    out = F.dropout(x, p).detach().numpy()
    kept = out != 0
    assert abs(1 - kept.mean() - p) < 0.01  # 100k draws: sd of the fraction < 0.002
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)
    assert abs(out.mean() - 1) < 0.05  # the scale keeps the expectation
    assert out.dtype == np.float32


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d])
def test_gradient_is_mask_times_scale(fn):
    ember.manual_seed(1)
    shape = {F.dropout: (4, 6), F.dropout1d: (4, 6, 5)}.get(fn, (2, 3, 4, 5, 2))
    if fn is F.dropout2d:
        shape = (2, 3, 4, 5)
    x = ember.randn(*shape, requires_grad=True)
    out = fn(x, 0.4)
    scaled_mask = (out / x).detach().numpy()  # 0 or 1 / (1 - p) at each element
    g = ember.randn(*shape)
    (grad,) = ember.autograd.grad(out, x, g)
    np.testing.assert_allclose(grad.numpy(), g.numpy() * scaled_mask, rtol=1e-6)
    assert np.all(np.isclose(scaled_mask, 0) | np.isclose(scaled_mask, 1 / 0.6))
    assert 0 < (scaled_mask == 0).mean() < 1


def test_same_seed_same_mask():
    x = ember.ones(50, 40)
    ember.manual_seed(7)
    a = F.dropout(x, 0.3).numpy()
    b = F.dropout(x, 0.3).numpy()
    ember.manual_seed(7)
    c = F.dropout(x, 0.3).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)  # the generator moves on


@pytest.mark.parametrize(
    "fn, shape, channel_shape",
    [
        (F.dropout1d, (8, 30, 20), (8, 30, 1)),
        (F.dropout1d, (30, 20), (30, 1)),
        (F.dropout2d, (8, 30, 5, 4), (8, 30, 1, 1)),
        (F.dropout3d, (4, 30, 3, 2, 2), (4, 30, 1, 1, 1)),
        (F.dropout3d, (30, 3, 2, 2), (30, 1, 1, 1)),
    ],
)
def test_channel_dropout_drops_whole_channels(fn, shape, channel_shape):
    ember.manual_seed(2)
    out = fn(ember.ones(*shape), 0.5).numpy()
    assert np.all((out == 0) | (out == 2))
    # Every element of a channel shares its fate: constant over the spatial dims.
    axes = tuple(i for i, n in enumerate(channel_shape) if n == 1)
    lo, hi = out.min(axis=axes, keepdims=True), out.max(axis=axes, keepdims=True)
    np.testing.assert_array_equal(lo, hi)
    assert lo.shape == channel_shape
    assert 0.3 < (lo == 0).mean() < 0.7


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.nn.Dropout(), (2, 3)),
        (lambda m: m.nn.Dropout(0.2, True), (2, 3)),
        (lambda m: m.nn.Dropout1d(0.3), (2, 3, 4)),
        (lambda m: m.nn.Dropout2d(), (2, 3, 4, 5)),
        (lambda m: m.nn.Dropout3d(0.1), (2, 3, 4, 5, 2)),
        (lambda m: m.nn.AlphaDropout(0.2), (2, 3)),
        (lambda m: m.nn.FeatureAlphaDropout(), (2, 3, 4)),
    ],
)
def test_modules_repr_and_eval_identity(make, shape):
    e_layer, t_layer = check_module(make, shape, train=False)
    assert repr(e_layer) == repr(t_layer)
    x = ember.randn(*shape)
    assert e_layer(x) is x  # eval mode returns the input itself, as PyTorch


def test_module_train_mode_drops():
    layer = ember.nn.Dropout(0.5)
    ember.manual_seed(0)
    out = layer(ember.ones(1000)).numpy()
    assert 400 < (out == 0).sum() < 600
    layer.eval()
    np.testing.assert_array_equal(layer(ember.ones(1000)).numpy(), 1)


def test_identity_cases_return_input():
    x = ember.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(ember.ones(0, 3, 2, 2)).shape == (0, 3, 2, 2)
    assert F.alpha_dropout(x, 0.5) is x  # alpha dropout defaults to training=False
    t = torch.randn(3, 4)
    assert torch.nn.functional.dropout(t, 0.5, training=False) is t  # the same rule in torch


def test_p_one_zeros_everything():
    x = ember.randn(3, 4, requires_grad=True)
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.detach().numpy(), 0)
    (grad,) = ember.autograd.grad(out.sum(), x)
    np.testing.assert_array_equal(grad.numpy(), 0)
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True).detach().numpy(), 0)


def test_inplace():
    ember.manual_seed(4)
    base = ember.randn(20, 30, requires_grad=True)
    y = base * 1
    out = F.dropout(y, 0.5, inplace=True)
    assert out is y
    (grad,) = ember.autograd.grad(out.sum(), base)
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(grad.numpy(), kept * 2.0)
    z = ember.ones(10, 8, 3)
    assert F.dropout1d(z, 0.5, inplace=True) is z
    assert set(np.unique(z.numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_statistics(feature):
    ember.manual_seed(5)
    p = 0.3
    x = ember.randn(100, 100, 10) if feature else ember.randn(1000, 1000)
    fn = F.feature_alpha_dropout if feature else F.alpha_dropout
    out = fn(x, p, training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1) < 0.02  # mean 0, variance 1 kept
    a = 1 / np.sqrt((SELU_ALPHA_SCALED**2 * p + 1) * (1 - p))
    dropped_value = -SELU_ALPHA_SCALED * a + SELU_ALPHA_SCALED * a * p
    dropped = np.isclose(out, dropped_value, atol=1e-6)
    assert abs(dropped.mean() - p) < 0.02
    if feature:  # a channel is dropped or kept whole
        np.testing.assert_array_equal(dropped.all(axis=2), dropped.any(axis=2))


def test_alpha_dropout_gradient():
    ember.manual_seed(6)
    p = 0.4
    x = ember.randn(30, 40, requires_grad=True)
    out = F.alpha_dropout(x, p, training=True)
    g = ember.randn(30, 40)
    (grad,) = ember.autograd.grad(out, x, g)
    a = 1 / np.sqrt((SELU_ALPHA_SCALED**2 * p + 1) * (1 - p))
    b_kept = SELU_ALPHA_SCALED * a * p
    kept = ~np.isclose(out.detach().numpy(), -SELU_ALPHA_SCALED * a + b_kept, atol=1e-6)
    np.testing.assert_allclose(grad.numpy(), g.numpy() * kept * a, rtol=1e-5)
    np.testing.assert_allclose(
        out.detach().numpy()[kept], x.detach().numpy()[kept] * a + b_kept, rtol=1e-5, atol=1e-6
    )


def test_double_backward_through_dropout():
    ember.manual_seed(8)
    x = ember.randn(5, 6, requires_grad=True)
    out = F.dropout(x, 0.5)
    (g,) = ember.autograd.grad((out * out).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x)
    mask = (out / x).detach().numpy()
    np.testing.assert_allclose(gg.numpy(), 2 * mask * mask, rtol=1e-5)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout])
@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_p_errors(fn, p):
    with pytest.raises(
        ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"
    ):
        fn(ember.ones(2, 3, 4, 5), p)


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"])
def test_module_p_errors(cls):
    with pytest.raises(
        ValueError, match="dropout probability has to be between 0 and 1, but got 2"
    ):
        getattr(ember.nn, cls)(2)


def test_shape_errors_and_warnings():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D"):
        F.dropout1d(ember.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d"):
        F.dropout2d(ember.ones(2, 3))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d and assuming"):
        F.dropout2d(ember.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d"):
        F.dropout3d(ember.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(ember.ones(3), 0.5, training=True)


def test_integer_input_in_training_is_refused():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output"):
        F.dropout(ember.tensor([1, 2, 3]), 0.5)
    x = ember.tensor([1, 2, 3])
    assert F.dropout(x, 0.5, training=False) is x


@pytest.mark.parametrize("dtype", [ember.float16, ember.bfloat16, ember.float64])
def test_dtypes_are_kept(dtype):
    out = F.dropout(ember.ones(100, dtype=dtype), 0.25)
    assert out.dtype is dtype
    values = set(np.unique(out.float().numpy()).tolist())
    assert values <= {0.0, float(ember.tensor(1 / 0.75, dtype=dtype).float().item())}
