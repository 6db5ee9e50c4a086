"""gumbel_softmax vs PyTorch with the noise fixed, the straight-through hard sample, statistics.

The Exp(1) draws are fixed in both libraries (torch's ``Tensor.exponential_`` and Ember's
``exponential_`` patched to copy the same array), so the real torch function is the oracle.
"""

import numpy as np
import pytest
import torch

import ember
import ember.ops.gumbel as gumbel
from ember.ops.gumbel import gumbel_softmax
from tests.helpers import assert_same, check_gradcheck


@pytest.fixture
def fixed_noise(monkeypatch):
    """Make both libraries draw the Exp(1) values in ``state['e']`` (set by the test)."""
    state = {}

    def t_exp(self, *args, **kwargs):
        with torch.no_grad():
            return self.copy_(torch.tensor(state["e"]))

    def e_exp(input, *args, **kwargs):
        input.data[...] = state["e"]
        return input

    monkeypatch.setattr(torch.Tensor, "exponential_", t_exp)
    monkeypatch.setattr(gumbel, "exponential_", e_exp)
    return state


def run(m, x, **kwargs):
    F = torch.nn.functional if m is torch else gumbel
    return F.gumbel_softmax(x, **kwargs)


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((3, 5), {}),
        ((3, 5), {"tau": 0.5}),
        ((2, 3, 4), {"dim": 1, "tau": 2.0}),
        ((3, 5), {"hard": True}),
        ((2, 3, 4), {"hard": True, "dim": 0, "tau": 0.7}),
        ((6,), {"hard": True}),
    ],
)
def test_gumbel_softmax_matches_torch(fixed_noise, shape, kwargs):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    fixed_noise["e"] = rng.exponential(size=shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    e_x, t_x = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    e_out, t_out = run(ember, e_x, **kwargs), run(torch, t_x, **kwargs)
    assert_same(e_out, t_out.detach(), 1e-5, 1e-6)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    assert_same(e_x.grad, t_x.grad, 1e-4, 1e-5)


def test_gumbel_softmax_noncontiguous(fixed_noise):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    fixed_noise["e"] = rng.exponential(size=(5, 4)).astype(np.float32)
    e_out = gumbel_softmax(ember.tensor(x).T[1:], tau=0.5)
    t_out = torch.nn.functional.gumbel_softmax(torch.tensor(x).T[1:], tau=0.5)
    assert_same(e_out, t_out, 1e-5, 1e-6)


def test_gumbel_softmax_hard_is_one_hot_with_soft_gradient():
    ember.manual_seed(0)
    x = ember.randn(5, 7, requires_grad=True)
    g = ember.randn(5, 7)
    ember.manual_seed(3)
    hard = gumbel_softmax(x, tau=0.5, hard=True)
    ember.manual_seed(3)
    soft = gumbel_softmax(x, tau=0.5)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0}
    np.testing.assert_array_equal(h.sum(1), 1)
    np.testing.assert_array_equal(h.argmax(1), soft.detach().numpy().argmax(1))
    (g_hard,) = ember.autograd.grad(hard, [x], g)
    (g_soft,) = ember.autograd.grad(soft, [x], g)
    np.testing.assert_allclose(g_hard.numpy(), g_soft.numpy(), rtol=1e-5, atol=1e-6)
    assert hard.dtype == ember.float32


def test_gumbel_softmax_argmax_frequencies_follow_softmax():
    ember.manual_seed(0)
    logits = np.array([1.0, 0.0, -1.0, 2.0, 0.5], np.float32)
    x = ember.tensor(np.broadcast_to(logits, (20000, 5)).copy())
    counts = gumbel_softmax(x, hard=True).numpy().sum(0) / 20000
    p = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(counts, p, atol=0.015)


def test_gumbel_softmax_gradcheck(fixed_noise):
    fixed_noise["e"] = np.random.default_rng(2).exponential(size=(2, 3))
    check_gradcheck(lambda m, x: gumbel_softmax(x, tau=0.8), (2, 3), low=-1, high=1)


def test_gumbel_softmax_eps_is_deprecated():
    x = ember.randn(2, 3)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        gumbel_softmax(x, eps=1e-3)
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated"):
        torch.nn.functional.gumbel_softmax(torch.randn(2, 3), eps=1e-3)


def test_gumbel_softmax_integer_logits_error():
    for m, F in ((torch, torch.nn.functional), (ember, gumbel)):
        with pytest.raises(RuntimeError, match="Exponential distribution is a continuous"):
            F.gumbel_softmax(m.ones(2, 3, dtype=m.int64))
