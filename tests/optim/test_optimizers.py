"""Every optimizer and option against torch.optim: 20 fixed gradients, step for step.

Also: a state_dict taken after step 10 (Ember's own, and torch's converted to Ember tensors)
continues identically, and a small MLP trained with each optimizer reaches torch's loss.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.optim

SHAPES = [(3, 4), (5,)]
STEPS = 20
RTOL, ATOL = 1e-5, 1e-6

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9), "maximize": True, "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True, "maximize": True}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "weight_decay": 0.1, "maximize": True, "betas": (0.8, 0.9)}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01, "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.01}),
    ("RAdam", {"lr": 0.01, "betas": (0.9, 0.9), "weight_decay": 0.1}),
    (
        "RAdam",
        {
            "lr": 0.01,
            "betas": (0.8, 0.7),
            "weight_decay": 0.1,
            "maximize": True,
            "decoupled_weight_decay": True,
        },
    ),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "maximize": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adadelta", {"lr": 2.0, "eps": 1e-3}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2), "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 0, "maximize": True}),
    ("Adafactor", {}),
    ("Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0}),
    ("Adafactor", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
]


def make_data(seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return params, grads


def make_opt(m, name, kwargs, arrays):
    params = [m.nn.Parameter(m.tensor(a.copy())) for a in arrays]
    return params, getattr(m.optim, name)(params, **kwargs)


def set_grads(params, grads, m):
    for p, g in zip(params, grads):
        p.grad = m.tensor(g)


def assert_params(e_params, t_params, where):
    for e, t in zip(e_params, t_params):
        assert e.dtype is ember.float32
        np.testing.assert_allclose(
            e.detach().numpy(), t.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=where
        )


def to_ember(value):
    """A torch optimizer state_dict with every tensor turned into an Ember tensor."""
    if isinstance(value, torch.Tensor):
        return ember.tensor(value.numpy())
    if isinstance(value, dict):
        return {k: to_ember(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_ember(v) for v in value]
    return value


def case_id(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_step_by_step(case):
    name, kwargs = case
    arrays, grads = make_data()
    e_params, e_opt = make_opt(ember, name, kwargs, arrays)
    t_params, t_opt = make_opt(torch, name, kwargs, arrays)
    for i, g in enumerate(grads):
        set_grads(e_params, g, ember)
        set_grads(t_params, g, torch)
        e_opt.step()
        t_opt.step()
        assert_params(e_params, t_params, f"step {i + 1}")


def assert_state_like_torch(e_sd, t_sd):
    assert e_sd["param_groups"] == t_sd["param_groups"]
    assert e_sd["state"].keys() == t_sd["state"].keys()
    for k, t_state in t_sd["state"].items():
        e_state = e_sd["state"][k]
        assert e_state.keys() == t_state.keys()
        for key, t_value in t_state.items():
            e_value = e_state[key]
            if isinstance(t_value, torch.Tensor):
                assert str(e_value.dtype) == str(t_value.dtype).replace("torch", "ember"), key
                np.testing.assert_allclose(
                    e_value.numpy(), t_value.numpy(), rtol=RTOL, atol=ATOL, err_msg=key
                )
            else:
                assert e_value == t_value, key


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_state_dict_resumes(case):
    name, kwargs = case
    arrays, grads = make_data(1)
    e_params, e_opt = make_opt(ember, name, kwargs, arrays)
    t_params, t_opt = make_opt(torch, name, kwargs, arrays)
    for g in grads[:10]:
        set_grads(e_params, g, ember)
        set_grads(t_params, g, torch)
        e_opt.step()
        t_opt.step()
    assert_state_like_torch(e_opt.state_dict(), t_opt.state_dict())
    # Fresh optimizers: one loads Ember's state_dict, one loads torch's converted.
    now = [p.detach().numpy().copy() for p in e_params]
    own_params, own_opt = make_opt(ember, name, {**kwargs, "lr": 123.0}, now)
    own_opt.load_state_dict(e_opt.state_dict())
    conv_params, conv_opt = make_opt(ember, name, kwargs, [p.detach().numpy() for p in t_params])
    conv_opt.load_state_dict(to_ember(t_opt.state_dict()))
    for i, g in enumerate(grads[10:]):
        for params, opt in [(e_params, e_opt), (own_params, own_opt), (conv_params, conv_opt)]:
            set_grads(params, g, ember)
            opt.step()
        set_grads(t_params, g, torch)
        t_opt.step()
        for params in (e_params, own_params, conv_params):
            assert_params(params, t_params, f"step {i + 11}")


def mlp(m, hidden=8):
    return m.nn.Sequential(m.nn.Linear(4, hidden), m.nn.ReLU(), m.nn.Linear(hidden, 1))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_mlp_training_reaches_torch_loss(case):
    name, kwargs = case
    kwargs = {k: v for k, v in kwargs.items() if k != "maximize"}  # ascend would diverge
    torch.manual_seed(0)
    t_model = mlp(torch)
    e_model = mlp(ember)
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    rng = np.random.default_rng(2)
    w_true = rng.standard_normal((4, 1)).astype(np.float32)
    e_opt = getattr(ember.optim, name)(e_model.parameters(), **kwargs)
    t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
    for _ in range(30):
        x = rng.standard_normal((16, 4)).astype(np.float32)
        y = np.tanh(x @ w_true)
        for m, model, opt in [(ember, e_model, e_opt), (torch, t_model, t_opt)]:
            opt.zero_grad()
            loss = m.nn.functional.mse_loss(model(m.tensor(x)), m.tensor(y))
            loss.backward()
            opt.step()
            if m is ember:
                e_loss = loss.item()
            else:
                t_loss = loss.item()
    assert e_loss == pytest.approx(t_loss, rel=1e-4)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("Adam", {"lr": 0.01}),
        ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
        ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
        ("AdamW", {"lr": 0.01, "amsgrad": True, "betas": (0.3, 0.9)}),
    ],
)
def test_adam_chunked_and_strided_match_torch(name, kwargs):
    """Adam walks large parameters in chunks (a partial last one here) and falls back to
    whole-array passes for a non-contiguous gradient; both match torch."""
    rng = np.random.default_rng(7)
    shapes = [(300, 500), (70000,), (40, 30)]
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    e_params, e_opt = make_opt(ember, name, kwargs, arrays)
    t_params, t_opt = make_opt(torch, name, kwargs, arrays)
    for _ in range(5):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        grads[2] = np.ascontiguousarray(grads[2].T).T  # a transposed (F-ordered) gradient
        set_grads(e_params, grads, ember)
        set_grads(t_params, grads, torch)
        e_opt.step()
        t_opt.step()
        assert_params(e_params, t_params, name)
