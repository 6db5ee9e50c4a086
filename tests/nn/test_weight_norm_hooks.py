"""Hook-based nn.utils.weight_norm / remove_weight_norm against torch: keys, values, grads."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.nn.utils.weight_norm import WeightNorm, remove_weight_norm, weight_norm
from tests.helpers import assert_same, state_dict_to_ember


def _wn(m, module, *args, **kwargs):
    """Apply m's hook-based weight_norm, silencing the (tested elsewhere) FutureWarning."""
    fn = weight_norm if m is ember else torch.nn.utils.weight_norm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(module, *args, **kwargs)


def _pair(make, *args, **kwargs):
    torch.manual_seed(0)
    t = _wn(torch, make(torch), *args, **kwargs)
    e = _wn(ember, make(ember), *args, **kwargs)
    t_sd, e_sd = t.state_dict(), e.state_dict()
    assert list(e_sd) == list(t_sd)
    assert [tuple(v.shape) for v in e_sd.values()] == [tuple(v.shape) for v in t_sd.values()]
    e.load_state_dict(state_dict_to_ember(t_sd))
    return e, t


LAYERS = [
    (lambda m: m.nn.Linear(5, 4), (3, 5), {}),
    (lambda m: m.nn.Linear(5, 4), (3, 5), {"dim": 1}),
    (lambda m: m.nn.Linear(5, 4), (3, 5), {"dim": None}),
    (lambda m: m.nn.Linear(5, 4), (3, 5), {"dim": -2}),
    (lambda m: m.nn.Linear(5, 4), (3, 5), {"name": "bias"}),
    (lambda m: m.nn.Conv1d(3, 4, 3), (2, 3, 7), {}),
    (lambda m: m.nn.Conv1d(3, 4, 3), (2, 3, 7), {"dim": 2}),
    (lambda m: m.nn.Conv2d(2, 3, 3, padding=1), (1, 2, 5, 5), {"dim": None}),
    (lambda m: m.nn.ConvTranspose1d(3, 4, 3), (2, 3, 6), {"dim": 1}),
]


@pytest.mark.parametrize(("make", "shape", "kwargs"), LAYERS)
def test_forward_and_grads_match_torch(make, shape, kwargs):
    e, t = _pair(make, **kwargs)
    name = kwargs.get("name", "weight")
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, shape).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = e(xe), t(xt)
    assert_same(ye, yt)
    assert_same(getattr(e, name), getattr(t, name))
    up = rng.uniform(-1, 1, tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.tensor(up))
    yt.backward(torch.tensor(up))
    assert_same(xe.grad, xt.grad)
    for key, tp in t.named_parameters():
        assert_same(dict(e.named_parameters())[key].grad, tp.grad, atol=1e-5)


def test_parameter_order_and_types():
    e, t = _pair(lambda m: m.nn.Conv1d(3, 4, 3))
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert isinstance(e.weight_g, ember.nn.Parameter) and isinstance(e.weight_v, ember.nn.Parameter)
    assert not isinstance(e.weight, ember.nn.Parameter)  # a computed plain tensor
    assert "weight" not in dict(e.named_parameters())
    assert tuple(e.weight_g.shape) == (4, 1, 1)
    assert [type(h).__name__ for h in e._forward_pre_hooks.values()] == ["WeightNorm"]


def test_initial_weight_is_preserved():
    torch.manual_seed(0)
    e = ember.nn.Linear(5, 4)
    before = e.weight.detach().data.copy()
    _wn(ember, e, dim=None)
    np.testing.assert_allclose(e.weight.detach().data, before, rtol=1e-5, atol=1e-6)
    assert tuple(e.weight_g.shape) == ()


def test_hook_recomputes_after_update():
    e, t = _pair(lambda m: m.nn.Linear(4, 3))
    with torch.no_grad():
        t.weight_g.mul_(2.0)
        t.weight_v.add_(0.5)
    e.load_state_dict(state_dict_to_ember(t.state_dict()))
    x = np.random.default_rng(2).uniform(-1, 1, (2, 4)).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))
    assert_same(e.weight, t.weight)


def test_non_contiguous_input():
    e, t = _pair(lambda m: m.nn.Linear(4, 3))
    x = np.random.default_rng(3).uniform(-1, 1, (4, 5)).astype(np.float32)
    assert_same(e(ember.tensor(x).T), t(torch.tensor(x).T))
    assert_same(e(ember.tensor(x)[:, 1:].T[1:]), t(torch.tensor(x)[:, 1:].T[1:]))


def test_double_backward_matches_torch():
    e, t = _pair(lambda m: m.nn.Linear(3, 2))
    x = np.random.default_rng(4).uniform(-1, 1, (2, 3)).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ge,) = ember.autograd.grad((e(xe) ** 2).sum(), (e.weight_v,), create_graph=True)
    (gt,) = torch.autograd.grad((t(xt) ** 2).sum(), (t.weight_v,), create_graph=True)
    assert_same(ge, gt)
    (gge,) = ember.autograd.grad(ge.sum(), (e.weight_g,))
    (ggt,) = torch.autograd.grad(gt.sum(), (t.weight_g,))
    assert_same(gge, ggt, atol=1e-4)


def _compute(g, v, dim):
    holder = ember.nn.Module()
    holder.w_g, holder.w_v = g, v  # plain tensors: attributes only
    return WeightNorm("w", dim).compute_weight(holder)


@pytest.mark.parametrize(("g_shape", "dim"), [((2, 1), 0), ((1, 3), 1), ((), None)])
def test_gradcheck_float64(g_shape, dim):
    rng = np.random.default_rng(8)
    g = rng.uniform(0.5, 2, g_shape)
    v = rng.uniform(-2, 2, (2, 3))
    xs = tuple(ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in (g, v))
    assert ember.autograd.gradcheck(lambda a, b: _compute(a, b, dim), xs)
    assert ember.autograd.gradgradcheck(lambda a, b: _compute(a, b, dim), xs)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_remove_gives_the_same_plain_weight(dim):
    e, t = _pair(lambda m: m.nn.Linear(5, 4), dim=dim)
    assert remove_weight_norm(e) is e
    torch.nn.utils.remove_weight_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert isinstance(e.weight, ember.nn.Parameter)
    assert_same(e.weight, t.weight)
    assert not e._forward_pre_hooks
    x = np.random.default_rng(5).uniform(-1, 1, (2, 5)).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))


def test_load_torch_checkpoint_file(tmp_path):
    torch.manual_seed(0)

    def make(m):
        return m.nn.Sequential(
            _wn(m, m.nn.Conv1d(2, 4, 3, padding=1)), m.nn.ReLU(), _wn(m, m.nn.Conv1d(4, 2, 1))
        )

    t = make(torch)
    path = tmp_path / "wn.pt"
    torch.save(t.state_dict(), path)
    e = make(ember)
    e.load_state_dict(ember.load(str(path)))
    assert list(e.state_dict()) == list(t.state_dict())
    x = np.random.default_rng(6).uniform(-1, 1, (2, 2, 8)).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))


def test_two_names_on_one_module():
    e, t = _pair(lambda m: _wn(m, m.nn.Linear(3, 4), "bias"), "weight")
    assert list(e.state_dict()) == ["bias_g", "bias_v", "weight_g", "weight_v"]
    remove_weight_norm(e, "bias")
    torch.nn.utils.remove_weight_norm(t, "bias")
    assert list(e.state_dict()) == list(t.state_dict())
    x = np.random.default_rng(7).uniform(-1, 1, (2, 3)).astype(np.float32)
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))


def test_future_warning():
    with pytest.warns(FutureWarning, match=r"`torch.nn.utils.weight_norm` is deprecated in favor"):
        weight_norm(ember.nn.Linear(2, 2))


def test_error_twice():
    layer = _wn(ember, ember.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same "):
        _wn(ember, layer)


def test_error_remove_absent():
    e, t = ember.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    with pytest.raises(ValueError) as t_err:
        torch.nn.utils.remove_weight_norm(t)
    with pytest.raises(ValueError, match=r"weight_norm of 'weight' not found in Linear\(") as err:
        remove_weight_norm(e)
    assert str(err.value) == str(t_err.value)
    _wn(ember, e, "bias")
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        remove_weight_norm(e)


def test_error_uninitialized():
    with pytest.raises(ValueError, match="can't have uninitialized parameters"):
        _wn(ember, ember.nn.LazyLinear(3))
