"""swa_utils against torch.optim.swa_utils: averaged weights, SWALR rates, update_bn statistics."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.optim.swa_utils

import ember
import ember.optim
from ember.optim import swa_utils
from tests.helpers import assert_same

LIBS = [ember, torch]
SWA = {ember: swa_utils, torch: torch.optim.swa_utils}


def make_model(m):
    return m.nn.Sequential(m.nn.Linear(4, 6), m.nn.BatchNorm1d(6), m.nn.ReLU(), m.nn.Linear(6, 3))


def model_pair(seed=0):
    """The same model in both libraries: torch's initial weights copied into Ember's."""
    torch.manual_seed(seed)
    t_model = make_model(torch)
    e_model = make_model(ember)
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    return e_model, t_model


def perturb(models, rng):
    """Apply the same random change to the parameters and buffers of both models."""
    e_model, t_model = models
    for (name, e), (_, t) in zip(e_model.state_dict().items(), t_model.state_dict().items()):
        if "num_batches" in name:
            delta = rng.integers(0, 5, e.shape)
        else:
            delta = rng.standard_normal(e.shape).astype(np.float32)
        with ember.no_grad():
            e.copy_(e + ember.tensor(delta))
        with torch.no_grad():
            t.copy_(t + torch.tensor(delta))


def assert_state_same(e_module, t_module, rtol=1e-6, atol=1e-7):
    e_state, t_state = e_module.state_dict(), t_module.state_dict()
    assert list(e_state) == list(t_state)
    for key in t_state:
        assert_same(e_state[key], t_state[key], rtol, atol)


AVERAGING = {
    "swa": lambda s: {},
    "swa_buffers": lambda s: {"use_buffers": True},
    "ema_multi": lambda s: {"multi_avg_fn": s.get_ema_multi_avg_fn(0.9)},
    "ema_multi_buffers": lambda s: {
        "multi_avg_fn": s.get_ema_multi_avg_fn(0.8),
        "use_buffers": True,
    },
    "ema": lambda s: {"avg_fn": s.get_ema_avg_fn(0.7)},
    "swa_multi": lambda s: {"multi_avg_fn": s.get_swa_multi_avg_fn()},
    "custom": lambda s: {"avg_fn": lambda avg, p, n: 0.5 * avg + 0.5 * p},
}


@pytest.mark.parametrize("name", list(AVERAGING))
def test_averaged_model_matches_torch(name):
    models = model_pair()
    rng = np.random.default_rng(1)
    averaged = [
        SWA[m].AveragedModel(model, **AVERAGING[name](SWA[m])) for m, model in zip(LIBS, models)
    ]
    assert_state_same(*averaged)
    for _ in range(5):
        perturb(models, rng)
        for avg, model in zip(averaged, models):
            avg.update_parameters(model)
        assert_state_same(*averaged)
    assert int(averaged[0].n_averaged.item()) == 5
    # the averaged model runs like the model it wraps
    x = rng.standard_normal((5, 4)).astype(np.float32)
    for avg in averaged:
        avg.eval()
    assert_same(averaged[0](ember.tensor(x)), averaged[1](torch.tensor(x)), rtol=1e-5, atol=1e-6)


def test_averaged_model_is_a_copy():
    model, _ = model_pair()
    avg = swa_utils.AveragedModel(model)
    assert avg.module is not model
    assert avg.module[0].weight is not model[0].weight
    assert next(iter(avg.state_dict())) == "n_averaged"
    assert all(k == "n_averaged" or k.startswith("module.") for k in avg.state_dict())
    with ember.no_grad():
        model[0].weight.fill_(3.0)
    assert not np.allclose(avg.module[0].weight.data, 3.0)


def test_averaged_model_gradients_stay_off_the_graph():
    model, _ = model_pair()
    avg = swa_utils.AveragedModel(model)
    avg.update_parameters(model)
    avg.update_parameters(model)
    for p in avg.parameters():
        assert p.grad_fn is None
        assert p.requires_grad


def test_averaged_model_state_dict_round_trip_with_torch():
    models = model_pair()
    rng = np.random.default_rng(2)
    e_avg = swa_utils.AveragedModel(models[0])
    t_avg = torch.optim.swa_utils.AveragedModel(models[1])
    for _ in range(3):
        perturb(models, rng)
        e_avg.update_parameters(models[0])
        t_avg.update_parameters(models[1])
    fresh = swa_utils.AveragedModel(make_model(ember))
    fresh.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_avg.state_dict().items()})
    assert int(fresh.n_averaged.item()) == 3
    perturb(models, rng)
    fresh.update_parameters(models[0])
    t_avg.update_parameters(models[1])
    assert_state_same(fresh, t_avg)


@pytest.mark.parametrize("m", LIBS, ids=["ember", "torch"])
def test_averaging_errors(m):
    s = SWA[m]
    with pytest.raises(
        AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"
    ):
        s.AveragedModel(
            m.nn.Linear(2, 2), avg_fn=s.get_swa_avg_fn(), multi_avg_fn=s.get_swa_multi_avg_fn()
        )
    for fn in (s.get_ema_avg_fn, s.get_ema_multi_avg_fn):
        with pytest.raises(
            ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1\]"
        ):
            fn(1.5)


def make_sgd(m):
    params = [m.nn.Parameter(m.ones(2)) for _ in range(2)]
    for p in params:
        p.grad = m.ones(2)
    return m.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}], lr=0.1)


SWALR_CASES = {
    "cos": {"swa_lr": 0.01, "anneal_epochs": 5},
    "linear": {"swa_lr": [0.02, 0.2], "anneal_epochs": 7, "anneal_strategy": "linear"},
    "instant": {"swa_lr": 0.03, "anneal_epochs": 0},
    "default": {"swa_lr": 0.5},
}


def run_swalr(m, kwargs, steps, opt=None, sched=None, before=None):
    opt = opt if opt is not None else make_sgd(m)
    if before is not None:  # a schedule before SWA starts
        first = m.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        for _ in range(before):
            opt.step()
            first.step()
    sched = sched if sched is not None else SWA[m].SWALR(opt, **kwargs)
    history = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        history.append(sched.get_last_lr())
    return history, opt, sched


@pytest.mark.parametrize("before", [None, 6])
@pytest.mark.parametrize("name", list(SWALR_CASES))
def test_swalr_matches_torch(name, before):
    out = [run_swalr(m, SWALR_CASES[name], 20, before=before)[0] for m in LIBS]
    np.testing.assert_allclose(np.array(out[0]), np.array(out[1]), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["cos", "linear"])
def test_swalr_state_dict_resumption(name):
    kwargs = SWALR_CASES[name]
    whole = run_swalr(torch, kwargs, 12)[0]
    first, opt, sched = run_swalr(ember, kwargs, 4)
    opt_state, state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "anneal_func" not in state and "optimizer" not in state
    opt2 = make_sgd(ember)
    sched2 = swa_utils.SWALR(opt2, **kwargs)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(state)
    rest = run_swalr(ember, kwargs, 8, opt=opt2, sched=sched2)[0]
    np.testing.assert_allclose(np.array(first + rest[1:]), np.array(whole), rtol=1e-12)


@pytest.mark.parametrize("m", LIBS, ids=["ember", "torch"])
def test_swalr_errors(m):
    s = SWA[m]
    with pytest.raises(
        ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"
    ):
        s.SWALR(make_sgd(m), 0.1, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0, got -1"):
        s.SWALR(make_sgd(m), 0.1, anneal_epochs=-1)
    with pytest.raises(
        ValueError, match=r"swa_lr must have the same length as optimizer\.param_groups"
    ):
        s.SWALR(make_sgd(m), [0.1, 0.2, 0.3])


def test_update_bn_matches_torch():
    models = model_pair()
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((n, 4)).astype(np.float32) * 2 + 1 for n in (8, 5, 7)]
    for model in models:
        model.eval()
    ember_loader = [ember.tensor(x) for x in batches]
    torch_loader = [torch.tensor(x) for x in batches]
    swa_utils.update_bn(ember_loader, models[0])
    torch.optim.swa_utils.update_bn(torch_loader, models[1])
    assert_state_same(models[0], models[1], rtol=1e-5, atol=1e-6)
    assert not models[0].training
    assert models[0][1].momentum == 0.1
    # (x, y) batches, a training model, and BatchNorm with momentum None
    models = model_pair(seed=1)
    for model in models:
        model[1].momentum = None
    swa_utils.update_bn([[x, ember.zeros(1)] for x in ember_loader], models[0])
    torch.optim.swa_utils.update_bn([(x, torch.zeros(1)) for x in torch_loader], models[1])
    assert_state_same(models[0], models[1], rtol=1e-5, atol=1e-6)
    assert models[0].training and models[0][1].momentum is None


def test_update_bn_on_averaged_model():
    models = model_pair()
    rng = np.random.default_rng(4)
    averaged = [SWA[m].AveragedModel(model) for m, model in zip(LIBS, models)]
    for _ in range(3):
        perturb(models, rng)
        for avg, model in zip(averaged, models):
            avg.update_parameters(model)
    batches = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(4)]
    swa_utils.update_bn([ember.tensor(x) for x in batches], averaged[0])
    torch.optim.swa_utils.update_bn([torch.tensor(x) for x in batches], averaged[1])
    assert_state_same(*averaged, rtol=1e-5, atol=1e-6)


def test_update_bn_without_batchnorm_does_nothing():
    model = ember.nn.Linear(3, 2)
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    swa_utils.update_bn([ember.ones(2, 3)], model)
    assert calls == []
