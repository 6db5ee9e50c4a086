"""SparseAdam vs torch.optim.SparseAdam: torch gets the sparse gradient, Ember the dense one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.optim.sparse_adam import SparseAdam

STEPS = 20
RTOL, ATOL = 1e-5, 1e-6


def row_sparse_grads(shape, seed, steps=STEPS):
    """Embedding-style gradients: a random subset of rows nonzero, the others exactly zero."""
    rng = np.random.default_rng(seed)
    grads = []
    for i in range(steps):
        g = rng.standard_normal(shape).astype(np.float32)
        keep = rng.random(shape[0]) < 0.4
        if i == 3:
            keep[:] = False  # an all-zero gradient: skipped, but the step still counts
        g[~keep] = 0
        grads.append(g)
    return grads


def make_opt(m, array, **kwargs):
    param = m.nn.Parameter(m.tensor(array.copy()))
    cls = SparseAdam if m is ember else torch.optim.SparseAdam
    return param, cls([param], **kwargs)


CASES = [
    ((10, 4), {}),
    ((10, 4), {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-3}),
    ((7, 3, 2), {"lr": 0.05, "maximize": True}),
    ((12,), {"lr": 0.02}),
]


@pytest.mark.parametrize("shape, kwargs", CASES)
def test_matches_torch_sparse_gradients(shape, kwargs):
    rng = np.random.default_rng(0)
    array = rng.standard_normal(shape).astype(np.float32)
    e_param, e_opt = make_opt(ember, array, **kwargs)
    t_param, t_opt = make_opt(torch, array, **kwargs)
    for i, g in enumerate(row_sparse_grads(shape, seed=1)):
        untouched = np.all(g.reshape(shape[0], -1) == 0, axis=1) if len(shape) > 1 else g == 0
        before = e_param.detach().numpy().copy()
        e_param.grad = ember.tensor(g)
        t_param.grad = torch.tensor(g).to_sparse()
        e_opt.step()
        t_opt.step()
        assert e_param.dtype is ember.float32
        np.testing.assert_allclose(
            e_param.detach().numpy(),
            t_param.detach().numpy(),
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"step {i + 1}",
        )
        np.testing.assert_array_equal(e_param.detach().numpy()[untouched], before[untouched])
    e_state, t_state = e_opt.state[e_param], t_opt.state[t_param]
    assert e_state["step"] == t_state["step"] == STEPS and isinstance(e_state["step"], int)
    for key in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(
            e_state[key].numpy(), t_state[key].numpy(), rtol=RTOL, atol=ATOL, err_msg=key
        )


def test_embedding_sparse_true_matches_torch():
    """Ember's nn.Embedding(sparse=True) gives a dense gradient; the training run matches."""
    torch.manual_seed(0)
    t_emb = torch.nn.Embedding(20, 5, sparse=True)
    e_emb = ember.nn.Embedding(20, 5, sparse=True)
    e_emb.load_state_dict({"weight": ember.tensor(t_emb.weight.detach().numpy())})
    t_opt = torch.optim.SparseAdam(t_emb.parameters(), lr=0.05)
    e_opt = SparseAdam(e_emb.parameters(), lr=0.05)
    rng = np.random.default_rng(4)
    for _ in range(10):
        idx = rng.integers(0, 20, (6,))  # repeated indices are summed, as coalesce() does
        target = rng.standard_normal((6, 5)).astype(np.float32)
        for m, emb, opt in [(ember, e_emb, e_opt), (torch, t_emb, t_opt)]:
            opt.zero_grad()
            out = emb(m.tensor(idx))
            loss = ((out - m.tensor(target)) ** 2).sum()
            loss.backward()
            opt.step()
        np.testing.assert_allclose(
            e_emb.weight.detach().numpy(), t_emb.weight.detach().numpy(), rtol=RTOL, atol=ATOL
        )


def test_state_dict_layout_and_resume():
    shape = (8, 3)
    array = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    grads = row_sparse_grads(shape, seed=3)
    e_param, e_opt = make_opt(ember, array, lr=0.01)
    t_param, t_opt = make_opt(torch, array, lr=0.01)
    for g in grads[:10]:
        e_param.grad, t_param.grad = ember.tensor(g), torch.tensor(g).to_sparse()
        e_opt.step()
        t_opt.step()
    e_sd, t_sd = e_opt.state_dict(), t_opt.state_dict()
    assert e_sd["param_groups"] == t_sd["param_groups"]
    assert list(e_sd["state"][0]) == list(t_sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq"]
    assert e_sd["state"][0]["step"] == t_sd["state"][0]["step"] == 10
    converted = {
        "state": {
            0: {
                k: (ember.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v)
                for k, v in t_sd["state"][0].items()
            }
        },
        "param_groups": t_sd["param_groups"],
    }
    own_param, own_opt = make_opt(ember, e_param.detach().numpy(), lr=123.0)
    own_opt.load_state_dict(e_opt.state_dict())
    conv_param, conv_opt = make_opt(ember, t_param.detach().numpy(), lr=0.01)
    conv_opt.load_state_dict(converted)
    for g in grads[10:]:
        for param, opt in [(e_param, e_opt), (own_param, own_opt), (conv_param, conv_opt)]:
            param.grad = ember.tensor(g)
            opt.step()
        t_param.grad = torch.tensor(g).to_sparse()
        t_opt.step()
    for param in (e_param, own_param, conv_param):
        np.testing.assert_allclose(
            param.detach().numpy(), t_param.detach().numpy(), rtol=RTOL, atol=ATOL
        )


def test_defaults_and_repr():
    e_opt = SparseAdam([ember.nn.Parameter(ember.zeros(2, 3))])
    t_opt = torch.optim.SparseAdam([torch.nn.Parameter(torch.zeros(2, 3))])
    assert e_opt.defaults == t_opt.defaults
    assert repr(e_opt) == repr(t_opt)


def test_zero_dim_param():
    e_param, e_opt = make_opt(ember, np.float32(0.5), lr=0.1)
    t_param, t_opt = make_opt(torch, np.float32(0.5), lr=0.1)
    for g in (1.0, 0.0, -2.0):
        e_param.grad, t_param.grad = ember.tensor(np.float32(g)), torch.tensor(g).to_sparse()
        e_opt.step()
        t_opt.step()
        np.testing.assert_allclose(e_param.item(), t_param.item(), rtol=RTOL)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lr": 0.0}, "Invalid learning rate: 0.0"),
        ({"lr": -1.0}, "Invalid learning rate: -1.0"),
        ({"eps": 0.0}, "Invalid epsilon value: 0.0"),
        ({"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
        ({"betas": (0.9, -0.1)}, r"Invalid beta parameter at index 1: -0.1"),
    ],
)
def test_constructor_errors(kwargs, match):
    for m, cls in [(ember, SparseAdam), (torch, torch.optim.SparseAdam)]:
        with pytest.raises(ValueError, match=match):
            cls([m.nn.Parameter(m.zeros(2, 2))], **kwargs)
