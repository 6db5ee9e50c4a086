"""Muon against torch.optim.Muon: 20 fixed gradients step by step, state_dict, errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import ember
from ember.optim.muon import Muon, _zeropower_via_newtonschulz

STEPS = 20
CASES = [
    ((8, 16), {}),
    ((16, 8), {"nesterov": False, "adjust_lr_fn": "match_rms_adamw"}),
    ((12, 12), {"lr": 0.02, "weight_decay": 0.0, "momentum": 0.9}),
    ((24, 16), {"lr": 0.01, "adjust_lr_fn": "original", "ns_steps": 3}),
    ((6, 20), {"ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-3, "weight_decay": 0.5}),
]


def case_id(case):
    shape, kwargs = case
    return "x".join(map(str, shape)) + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def make_data(shape, seed=0):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(STEPS)]
    return param, grads


def make_opt(m, array, **kwargs):
    param = m.nn.Parameter(m.tensor(array.copy()))
    opt = Muon([param], **kwargs) if m is ember else torch.optim.Muon([param], **kwargs)
    return param, opt


def tolerance(kwargs, shape):
    """Absolute tolerance: a bfloat16 tie that PyTorch's BLAS rounds the other way moves an
    entry of the orthogonalised update by one bfloat16 ulp (2**-8 of values below 1)."""
    lr = kwargs.get("lr", 1e-3)
    scale = max(1.0, 0.2 * max(shape) if kwargs.get("adjust_lr_fn") == "match_rms_adamw" else 1.0)
    return 4 * lr * scale * max(1.0, (shape[0] / shape[1]) ** 0.5) * 2.0**-8


def assert_close(e, t, atol, where=""):
    assert e.dtype is ember.float32
    np.testing.assert_allclose(
        e.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=atol, err_msg=where
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_step_by_step(case):
    shape, kwargs = case
    array, grads = make_data(shape)
    e_param, e_opt = make_opt(ember, array, **kwargs)
    t_param, t_opt = make_opt(torch, array, **kwargs)
    atol = tolerance(kwargs, shape)
    for i, g in enumerate(grads):
        e_param.grad = ember.tensor(g)
        t_param.grad = torch.tensor(g)
        e_opt.step()
        t_opt.step()
        assert_close(e_param, t_param, atol, f"step {i + 1}")
        np.testing.assert_array_equal(  # the momentum is bit-identical (PyTorch's FMA lerp)
            e_opt.state[e_param]["momentum_buffer"].numpy(),
            t_opt.state[t_param]["momentum_buffer"].numpy(),
        )


@pytest.mark.parametrize("shape", [(8, 16), (16, 8), (32, 24), (5, 5)])
@pytest.mark.parametrize("ns_steps", [0, 1, 5])
def test_newton_schulz_bit_identical_to_torch(shape, ns_steps):
    from torch.optim._muon import _zeropower_via_newtonschulz as torch_ns

    coefficients = (3.4445, -4.775, 2.0315)
    g = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    expected = torch_ns(torch.tensor(g), coefficients, ns_steps, 1e-7).float().numpy()
    got = _zeropower_via_newtonschulz(g, coefficients, ns_steps, 1e-7)
    assert got.dtype == np.float32 and got.shape == shape
    np.testing.assert_array_equal(got, expected)


def test_several_params_groups_and_none_grad():
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4, 6), (6, 4), (3, 3)]]
    opts, params = {}, {}
    for m in (ember, torch):
        ps = [m.nn.Parameter(m.tensor(a.copy())) for a in arrays]
        groups = [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05, "nesterov": False}]
        opts[m] = Muon(groups, lr=0.01) if m is ember else torch.optim.Muon(groups, lr=0.01)
        params[m] = ps
    for step in range(5):
        grads = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]
        for m in (ember, torch):
            for i, (p, g) in enumerate(zip(params[m], grads)):
                p.grad = None if (i == 1 and step % 2) else m.tensor(g)
            opts[m].step()
        for e, t in zip(params[ember], params[torch]):
            assert_close(e, t, 4 * 0.05 * 2.0**-8)
    assert len(opts[ember].state) == len(opts[torch].state) == 3


def test_state_dict_layout_and_resume():
    shape, kwargs = (8, 12), {"lr": 0.01}
    array, grads = make_data(shape, seed=1)
    e_param, e_opt = make_opt(ember, array, **kwargs)
    t_param, t_opt = make_opt(torch, array, **kwargs)
    for g in grads[:10]:
        e_param.grad, t_param.grad = ember.tensor(g), torch.tensor(g)
        e_opt.step()
        t_opt.step()
    e_sd, t_sd = e_opt.state_dict(), t_opt.state_dict()
    assert e_sd["param_groups"] == t_sd["param_groups"]
    assert list(e_sd["state"][0]) == list(t_sd["state"][0]) == ["momentum_buffer"]
    assert e_sd["state"][0]["momentum_buffer"].dtype is ember.float32
    np.testing.assert_array_equal(
        e_sd["state"][0]["momentum_buffer"].numpy(), t_sd["state"][0]["momentum_buffer"].numpy()
    )
    # A fresh Ember optimizer loads Ember's state; another loads torch's (converted).
    own_param, own_opt = make_opt(ember, e_param.detach().numpy(), lr=123.0)
    own_opt.load_state_dict(e_opt.state_dict())
    conv_param, conv_opt = make_opt(ember, t_param.detach().numpy(), **kwargs)
    converted = {
        "state": {
            0: {"momentum_buffer": ember.tensor(t_sd["state"][0]["momentum_buffer"].numpy())}
        },
        "param_groups": t_sd["param_groups"],
    }
    conv_opt.load_state_dict(converted)
    assert own_opt.param_groups[0]["lr"] == 0.01
    for g in grads[10:]:
        for param, opt in [(e_param, e_opt), (own_param, own_opt), (conv_param, conv_opt)]:
            param.grad = ember.tensor(g)
            opt.step()
        t_param.grad = torch.tensor(g)
        t_opt.step()
    np.testing.assert_array_equal(own_param.detach().numpy(), e_param.detach().numpy())
    for param in (e_param, own_param, conv_param):
        assert_close(param, t_param, tolerance(kwargs, shape))


def test_float64_param():
    array, grads = make_data((6, 10), seed=2)
    e_param, e_opt = make_opt(ember, array.astype(np.float64))
    t_param, t_opt = make_opt(torch, array.astype(np.float64))
    for g in grads[:5]:
        e_param.grad, t_param.grad = (
            ember.tensor(g.astype(np.float64)),
            torch.tensor(g, dtype=torch.float64),
        )
        e_opt.step()
        t_opt.step()
    assert e_param.dtype is ember.float64
    np.testing.assert_allclose(
        e_param.detach().numpy(), t_param.detach().numpy(), rtol=1e-6, atol=1e-6
    )


def test_defaults_and_repr():
    p = ember.nn.Parameter(ember.zeros(2, 3))
    t = torch.nn.Parameter(torch.zeros(2, 3))
    e_opt, t_opt = Muon([p]), torch.optim.Muon([t])
    assert e_opt.defaults == t_opt.defaults
    assert repr(e_opt) == repr(t_opt)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
        ({"momentum": -0.5}, "momentum should be >= 0 but is: -0.5"),
        ({"weight_decay": -0.1}, "weight decay should be >= 0 but is: -0.1"),
        ({"adjust_lr_fn": "nope"}, "Adjust learning rate function nope is not supported"),
    ],
)
def test_constructor_errors(kwargs, match):
    for m, cls in [(ember, Muon), (torch, torch.optim.Muon)]:
        with pytest.raises(ValueError, match=match):
            cls([m.nn.Parameter(m.zeros(2, 2))], **kwargs)


@pytest.mark.parametrize("shape", [(3,), (2, 3, 4)])
def test_rejects_non_2d_params(shape):
    for m, cls in [(ember, Muon), (torch, torch.optim.Muon)]:
        size = re.escape(f"{m.__name__}.Size({list(shape)})")
        match = "Muon only supports 2D parameters whereas we found a parameter with size: " + size
        with pytest.raises(ValueError, match=match):
            cls([m.nn.Parameter(m.zeros(2, 2)), m.nn.Parameter(m.zeros(*shape))])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ns_steps": 100}, "Number of steps must be less than 100 for computational efficiency"),
        ({"ns_coefficients": (1.0, 2.0)}, "Coefficients must be a tuple of exactly 3 values"),
    ],
)
def test_step_errors(kwargs, match):
    for m, cls in [(ember, Muon), (torch, torch.optim.Muon)]:
        p = m.nn.Parameter(m.zeros(2, 2))
        p.grad = m.ones(2, 2)
        opt = cls([p], **kwargs)
        with pytest.raises(ValueError, match=match):
            opt.step()


def test_non_2d_param_added_later_fails_at_step():
    for m, cls in [(ember, Muon), (torch, torch.optim.Muon)]:
        opt = cls([m.nn.Parameter(m.zeros(2, 2))])
        p = m.nn.Parameter(m.zeros(3))
        p.grad = m.ones(3)
        opt.add_param_group({"params": [p]})
        with pytest.raises(ValueError, match="Param gradient must be a 2D matrix"):
            opt.step()


def test_zero_gradient_keeps_param_finite():
    for m, cls in [(ember, Muon), (torch, torch.optim.Muon)]:
        p = m.nn.Parameter(m.ones(3, 4))
        p.grad = m.zeros(3, 4)
        cls([p], lr=0.1).step()
        np.testing.assert_allclose(p.detach().numpy(), np.full((3, 4), 0.99, np.float32), rtol=1e-6)
