"""Hook-based nn.utils.spectral_norm / remove_spectral_norm against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.nn.utils.spectral_norm import SpectralNorm, remove_spectral_norm, spectral_norm
from tests.helpers import assert_same, state_dict_to_ember


def _sn(m, module, *args, **kwargs):
    fn = spectral_norm if m is ember else torch.nn.utils.spectral_norm
    return fn(module, *args, **kwargs)


def _pair(make, *args, **kwargs):
    """The same layer in both libraries with spectral_norm, torch's state (u, v too) copied."""
    torch.manual_seed(0)
    t = _sn(torch, make(torch), *args, **kwargs)
    e = _sn(ember, make(ember), *args, **kwargs)
    t_sd, e_sd = t.state_dict(), e.state_dict()
    assert list(e_sd) == list(t_sd)
    assert [tuple(v.shape) for v in e_sd.values()] == [tuple(v.shape) for v in t_sd.values()]
    e.load_state_dict(state_dict_to_ember(t_sd))
    return e, t


LAYERS = [
    (lambda m: m.nn.Linear(5, 4), (3, 5), {}),
    (lambda m: m.nn.Linear(5, 4), (3, 5), {"n_power_iterations": 3}),
    (lambda m: m.nn.Linear(5, 4), (3, 5), {"dim": 1, "eps": 1e-6}),
    (lambda m: m.nn.Conv1d(3, 4, 3), (2, 3, 7), {}),
    (lambda m: m.nn.Conv2d(2, 3, 3, padding=1), (1, 2, 5, 5), {"dim": 2}),
    (lambda m: m.nn.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4), {}),  # dim defaults to 1
    (lambda m: m.nn.ConvTranspose1d(3, 2, 3), (2, 3, 5), {"dim": 0}),
]


@pytest.mark.parametrize(("make", "shape", "kwargs"), LAYERS)
def test_training_forwards_and_grads_match_torch(make, shape, kwargs):
    e, t = _pair(make, **kwargs)
    rng = np.random.default_rng(1)
    for _ in range(3):  # one power-iteration update per forward in both
        x = rng.uniform(-2, 2, shape).astype(np.float32)
        xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ye, yt = e(xe), t(xt)
        assert_same(ye, yt, atol=1e-5)
        assert_same(e.weight_u, t.weight_u, atol=1e-5)
        assert_same(e.weight_v, t.weight_v, atol=1e-5)
        up = rng.uniform(-1, 1, tuple(yt.shape)).astype(np.float32)
        ye.backward(ember.tensor(up))
        yt.backward(torch.tensor(up))
        assert_same(xe.grad, xt.grad, atol=1e-5)
        for key, tp in t.named_parameters():
            assert_same(dict(e.named_parameters())[key].grad, tp.grad, atol=1e-4)


@pytest.mark.parametrize(("make", "shape", "kwargs"), LAYERS[:1] + LAYERS[4:6])
def test_eval_uses_stored_vectors(make, shape, kwargs):
    e, t = _pair(make, **kwargs)
    e.eval()
    t.eval()
    u = e.weight_u.detach().data.copy()
    x = np.random.default_rng(2).uniform(-2, 2, shape).astype(np.float32)
    for _ in range(2):
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-5)
    np.testing.assert_array_equal(e.weight_u.detach().data, u)
    assert_same(e.weight_v, t.weight_v)


def test_registration_layout():
    e, t = _pair(lambda m: m.nn.Conv2d(2, 3, 3))
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert [k for k, _ in e.named_buffers()] == [k for k, _ in t.named_buffers()]
    assert isinstance(e.weight_orig, ember.nn.Parameter)
    assert not isinstance(e.weight, ember.nn.Parameter)
    # fresh u and v are unit vectors, of sizes (out, in * kh * kw)
    fresh = spectral_norm(ember.nn.Conv2d(2, 3, 3))
    assert tuple(fresh.weight_u.shape) == (3,) and tuple(fresh.weight_v.shape) == (18,)
    np.testing.assert_allclose(np.linalg.norm(fresh.weight_u.data), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(fresh.weight_v.data), 1.0, rtol=1e-5)
    assert fresh.weight_u.dtype == ember.float32


def test_converges_to_largest_singular_value():
    torch.manual_seed(0)
    e = spectral_norm(ember.nn.Linear(6, 4), n_power_iterations=50)
    w = e.weight_orig.detach().data.astype(np.float64)
    e(ember.randn(1, 6))
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(e.weight.detach().data, w / sigma, rtol=1e-4, atol=1e-5)


def test_non_contiguous_input():
    e, t = _pair(lambda m: m.nn.Linear(4, 3))
    x = np.random.default_rng(3).uniform(-1, 1, (4, 5)).astype(np.float32)
    assert_same(e(ember.tensor(x).T), t(torch.tensor(x).T), atol=1e-5)
    assert_same(e(ember.tensor(x)[:, 1:].T), t(torch.tensor(x)[:, 1:].T), atol=1e-5)


def test_double_backward_matches_torch():
    e, t = _pair(lambda m: m.nn.Linear(3, 2))
    e.eval()
    t.eval()
    x = np.random.default_rng(4).uniform(-1, 1, (2, 3)).astype(np.float32)
    xe, xt = ember.tensor(x), torch.tensor(x)
    (ge,) = ember.autograd.grad((e(xe) ** 2).sum(), (e.weight_orig,), create_graph=True)
    (gt,) = torch.autograd.grad((t(xt) ** 2).sum(), (t.weight_orig,), create_graph=True)
    assert_same(ge, gt, atol=1e-5)
    (gge,) = ember.autograd.grad((ge**2).sum(), (e.weight_orig,))
    (ggt,) = torch.autograd.grad((gt**2).sum(), (t.weight_orig,))
    assert_same(gge, ggt, rtol=1e-3, atol=1e-4)


def _compute(w, u, v):
    holder = ember.nn.Module()
    holder.w_orig, holder.w_u, holder.w_v = w, u, v  # plain attributes
    return SpectralNorm("w", 1, 0, 1e-12).compute_weight(holder, do_power_iteration=False)


def test_gradcheck_float64():
    rng = np.random.default_rng(5)
    w = ember.tensor(rng.uniform(-2, 2, (3, 4)), dtype=ember.float64, requires_grad=True)
    u = ember.tensor(rng.uniform(0.5, 1, 3), dtype=ember.float64)
    v = ember.tensor(rng.uniform(0.5, 1, 4), dtype=ember.float64)
    assert ember.autograd.gradcheck(lambda a: _compute(a, u, v), (w,))
    assert ember.autograd.gradgradcheck(lambda a: _compute(a, u, v), (w,))


@pytest.mark.parametrize("train", [True, False])
def test_remove_gives_the_same_plain_weight(train):
    e, t = _pair(lambda m: m.nn.Conv1d(3, 4, 3))
    x = np.random.default_rng(6).uniform(-1, 1, (2, 3, 6)).astype(np.float32)
    e.train(train)
    t.train(train)
    e(ember.tensor(x))
    t(torch.tensor(x))
    assert remove_spectral_norm(e) is e
    torch.nn.utils.remove_spectral_norm(t)
    assert list(e.state_dict()) == list(t.state_dict()) == ["bias", "weight"]
    assert [k for k, _ in e.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert isinstance(e.weight, ember.nn.Parameter)
    assert_same(e.weight, t.weight, atol=1e-6)
    assert not e._forward_pre_hooks
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-5)


def test_load_torch_checkpoint_file(tmp_path):
    def make(m):
        return m.nn.Sequential(
            _sn(m, m.nn.Conv2d(2, 4, 3, padding=1)), m.nn.LeakyReLU(0.2), _sn(m, m.nn.Linear(4, 1))
        )

    torch.manual_seed(0)
    t = make(torch)
    x = np.random.default_rng(7).uniform(-1, 1, (2, 2, 3, 4)).astype(np.float32)
    t(torch.tensor(x))  # u and v moved on by a training step, as in a real checkpoint
    path = tmp_path / "sn.pt"
    torch.save(t.state_dict(), path)
    e = make(ember)
    e.load_state_dict(ember.load(str(path)))
    assert list(e.state_dict()) == list(t.state_dict())
    for mode in (True, False):
        e.train(mode)
        t.train(mode)
        assert_same(e(ember.tensor(x)), t(torch.tensor(x)), atol=1e-5)


def test_two_names_on_one_module():
    def make(m):
        layer = m.nn.Linear(3, 4)
        layer.extra = m.nn.Parameter(m.ones(2, 3))
        return layer

    e, t = _pair(make, "extra")
    e2, t2 = _sn(ember, e), _sn(torch, t)
    assert list(e2.state_dict()) == list(t2.state_dict())
    remove_spectral_norm(e, "extra")
    torch.nn.utils.remove_spectral_norm(t, "extra")
    assert list(e.state_dict()) == list(t.state_dict())
    assert_same(e.extra, t.extra, atol=1e-6)


def test_error_twice():
    layer = spectral_norm(ember.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same "):
        spectral_norm(layer)


def test_error_remove_absent():
    e, t = ember.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    with pytest.raises(ValueError) as t_err:
        torch.nn.utils.remove_spectral_norm(t)
    with pytest.raises(ValueError, match=r"spectral_norm of 'weight' not found in Linear\(") as err:
        remove_spectral_norm(e)
    assert str(err.value) == str(t_err.value)


def test_error_bad_arguments():
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive, but got"):
        spectral_norm(ember.nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="`SpectralNorm` cannot be applied as parameter `bias`"):
        spectral_norm(ember.nn.Linear(2, 2, bias=False), name="bias")
    with pytest.raises(KeyError, match="nope"):
        spectral_norm(ember.nn.Linear(2, 2), name="nope")
    with pytest.raises(ValueError, match="can't have uninitialized parameters"):
        spectral_norm(ember.nn.LazyLinear(3))
