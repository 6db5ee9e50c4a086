"""Anomaly mode (ember.autograd.anomaly_mode) against torch.autograd.anomaly_mode."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.autograd.anomaly_mode import (
    _set_anomaly_enabled,
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
    set_detect_anomaly,
)
from ember.autograd.function import TensorFunction
from tests.helpers import assert_same

ENABLED = "Anomaly Detection has been enabled"
MODS = pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])


@pytest.fixture(autouse=True)
def _restore_modes():
    yield
    _set_anomaly_enabled(False, True)
    torch.autograd.set_detect_anomaly(False)


def _api(m):
    """(detect_anomaly, set_detect_anomaly, is_enabled, is_check_nan, Function) of m."""
    if m is ember:
        return (
            detect_anomaly,
            set_detect_anomaly,
            is_anomaly_enabled,
            is_anomaly_check_nan_enabled,
            TensorFunction,
        )
    ag = torch.autograd
    return (
        ag.detect_anomaly,
        ag.set_detect_anomaly,
        torch.is_anomaly_enabled,
        torch.is_anomaly_check_nan_enabled,
        ag.Function,
    )


def _nan_function(m):
    base = _api(m)[4]

    class NanGrad(base):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    return NanGrad


def _raising_function(m):
    base = _api(m)[4]

    class Boom(base):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            raise ValueError("boom in backward")

    return Boom


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_defaults(m):
    _, _, enabled, check_nan, _ = _api(m)
    assert enabled() is False
    assert check_nan() is True


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_detect_anomaly_warns_on_creation(m):
    detect = _api(m)[0]
    with pytest.warns(UserWarning, match=ENABLED):
        ctx = detect()
    with ctx:
        assert _api(m)[2]() is True
    assert _api(m)[2]() is False


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_nan_in_custom_backward_raises(m):
    detect = _api(m)[0]
    fn = _nan_function(m)
    x = m.ones(3, requires_grad=True)
    with pytest.warns(UserWarning, match=ENABLED):
        ctx = detect()
    name = "NanGradBackward0" if m is ember else "NanGradBackward"
    with ctx:
        y = fn.apply(x).sum()  # the forward line the warning must show
        message = f"^Function '{name}' returned nan values in its 0th output.$"
        warns = pytest.warns(UserWarning, match=f"Error detected in {name}")
        with warns as record, pytest.raises(RuntimeError, match=message):
            y.backward()
    text = "".join(str(w.message) for w in record)
    assert "Traceback of forward call that caused the error" in text
    assert "y = fn.apply(x).sum()" in text


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_nan_from_builtin_op(m):
    # sqrt'(0) = inf; times an upstream 0 gives NaN in SqrtBackward0 (as in both libraries).
    x = m.zeros(2, requires_grad=True)
    with pytest.warns(UserWarning, match=ENABLED):
        ctx = _api(m)[0]()
    with ctx, np.errstate(all="ignore"):
        y = (m.sqrt(x) * 0).sum()
        message = "Function 'SqrtBackward0' returned nan values in its 0th output"
        warns = pytest.warns(UserWarning, match="Error detected in SqrtBackward0")
        with warns, pytest.raises(RuntimeError, match=message):
            y.backward()


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_check_nan_false_lets_nan_through(m):
    fn = _nan_function(m)
    x = m.ones(3, requires_grad=True)
    with pytest.warns(UserWarning, match=ENABLED):
        ctx = _api(m)[0](check_nan=False)
    with ctx:
        assert _api(m)[3]() is False
        fn.apply(x).sum().backward()
    assert np.isnan(x.grad.detach().numpy() if m is torch else x.grad.data).all()
    assert _api(m)[3]() is True


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_nan_not_checked_when_off(m):
    fn = _nan_function(m)
    x = m.ones(2, requires_grad=True)
    fn.apply(x).sum().backward()
    grad = x.grad.detach().numpy() if m is torch else x.grad.data
    assert np.isnan(grad).all()


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_backward_error_warns_forward_stack_and_reraises(m):
    fn = _raising_function(m)
    x = m.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match=ENABLED):
        ctx = _api(m)[0](check_nan=False)
    with ctx:
        out = fn.apply(x)  # marker-forward-line
        warns = pytest.warns(UserWarning, match="Error detected in Boom")
        with warns as record, pytest.raises(ValueError, match="boom in backward"):
            out.sum().backward()
    text = "".join(str(w.message) for w in record)
    assert "Traceback of forward call that caused the error:" in text
    assert "marker-forward-line" in text
    assert "test_anomaly.py" in text


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_node_made_before_anomaly_has_no_stack(m):
    fn = _raising_function(m)
    x = m.ones(2, requires_grad=True)
    out = fn.apply(x).sum()
    warns = pytest.warns(UserWarning, match="No forward pass information available")
    with warns, pytest.raises(ValueError, match="boom"), _api(m)[1](True):
        out.backward()


def test_stack_recorded_only_when_on():
    x = ember.ones(2, requires_grad=True)
    assert "forward_stack" not in (x * 2).grad_fn.__dict__
    with set_detect_anomaly(True):
        node = (x * 2).grad_fn
    assert any("test_stack_recorded_only_when_on" in line for line in node.forward_stack)


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_set_detect_anomaly_call_nesting_and_restore(m):
    _, set_mode, enabled, check_nan, _ = _api(m)
    set_mode(True)  # a plain call takes effect at once
    assert enabled() is True and check_nan() is True
    with set_mode(False):
        assert enabled() is False
        with set_mode(True, check_nan=False):
            assert enabled() is True and check_nan() is False
        assert enabled() is False and check_nan() is True
    assert enabled() is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inner = _api(m)[0](check_nan=False)
    with inner:
        assert enabled() is True and check_nan() is False
    assert enabled() is True and check_nan() is True
    set_mode(False)
    assert enabled() is False


@MODS
def test_set_anomaly_enabled(m):
    setter = set_anomaly_enabled if m is ember else torch.set_anomaly_enabled
    _, _, enabled, check_nan, _ = _api(m)
    setter(True, check_nan=False)
    assert (enabled(), check_nan()) == (True, False)
    setter(False)
    assert (enabled(), check_nan()) == (False, True)


def test_decorator_forms():
    @set_detect_anomaly(True, check_nan=False)
    def inside():
        return is_anomaly_enabled(), is_anomaly_check_nan_enabled()

    assert is_anomaly_enabled() is False  # decorating does not switch the mode
    assert inside() == (True, False)
    assert (is_anomaly_enabled(), is_anomaly_check_nan_enabled()) == (False, True)

    with pytest.warns(UserWarning, match=ENABLED):

        @detect_anomaly()
        def inside2():
            return is_anomaly_enabled()

    assert inside2() is True
    assert is_anomaly_enabled() is False


def test_decorator_restores_after_error():
    @set_detect_anomaly(True)
    def failing():
        raise KeyError("x")

    with pytest.raises(KeyError):
        failing()
    assert is_anomaly_enabled() is False


def test_context_restores_after_error():
    with pytest.raises(KeyError), set_detect_anomaly(True, check_nan=False):
        raise KeyError("x")
    assert (is_anomaly_enabled(), is_anomaly_check_nan_enabled()) == (False, True)


def test_gradients_unchanged_under_anomaly():
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2, (3, 4)).astype(np.float32)
    b = rng.uniform(-1, 1, (4,)).astype(np.float32)
    results = []
    for m in (ember, torch):
        x = m.tensor(a, requires_grad=True)
        w = m.tensor(b, requires_grad=True)
        y = ((x.T[:, 1:] * 2).log().sum(0) + (x * w).tanh().mean(0)[2:]).sum()
        if m is ember:
            with set_detect_anomaly(True):
                g = ember.autograd.grad(y, (x, w), create_graph=True)
                gg = ember.autograd.grad(g[0].sum(), w)
        else:
            g = torch.autograd.grad(y, (x, w), create_graph=True)
            gg = torch.autograd.grad(g[0].sum(), w)
        results.append((y, g, gg))
    assert_same(results[0], results[1])
