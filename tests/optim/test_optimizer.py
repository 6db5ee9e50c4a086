"""The Optimizer base against torch.optim: param groups, zero_grad, closures, hooks, repr,
state_dict layout and errors; Lion against a direct NumPy transcription of the paper."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.optim
from ember.optim.optimizer import register_optimizer_step_post_hook

from .test_optimizers import make_data, make_opt, set_grads


def params_for(m, seed=0):
    rng = np.random.default_rng(seed)
    return [m.nn.Parameter(m.tensor(rng.standard_normal(s).astype(np.float32))) for s in SHAPES]


SHAPES = [(2, 3), (4,), (3,)]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_different_lr(name):
    results = {}
    for m in (ember, torch):
        a, b, c = params_for(m)
        opt = getattr(m.optim, name)(
            [{"params": [a, b]}, {"params": [c], "lr": 0.5, "weight_decay": 0.1}], lr=0.01
        )
        assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[0]["lr"] == 0.01
        rng = np.random.default_rng(3)
        for _ in range(5):
            for p in (a, b, c):
                p.grad = m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32))
            opt.step()
        results[m.__name__] = [p.detach().numpy().copy() for p in (a, b, c)]
        results[m.__name__ + "_sd"] = opt.state_dict()["param_groups"]
    for e, t in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
    assert results["ember_sd"] == results["torch_sd"]


def test_add_param_group_and_defaults():
    for m in (ember, torch):
        a, b, c = params_for(m)
        opt = m.optim.SGD([a], lr=0.1, momentum=0.9)
        opt.add_param_group({"params": b, "lr": 0.2})
        assert opt.param_groups[1]["params"] == [b]
        assert opt.param_groups[1]["momentum"] == 0.9
        with pytest.raises(ValueError, match="some parameters appear in more than one"):
            opt.add_param_group({"params": [c, a]})
        with pytest.raises(TypeError, match="param_group must be a dict"):
            opt.add_param_group([c])
        with pytest.raises(TypeError, match="ordered collections"):
            opt.add_param_group({"params": {c}})
        assert len(opt.param_groups) == 2


def test_named_parameters():
    for m in (ember, torch):
        model = m.nn.Linear(3, 2)
        opt = m.optim.Adam(model.named_parameters())
        assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
        assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_duplicate_parameter_warns():
    for m in (ember, torch):
        (a, *_) = params_for(m)
        with pytest.warns(UserWarning, match="duplicate parameters"):
            m.optim.SGD([a, a], lr=0.1)


@pytest.mark.parametrize(
    ("make", "err", "match"),
    [
        (lambda m, p: m.optim.SGD(p[0]), TypeError, "should be an iterable of Tensors or dicts"),
        (lambda m, p: m.optim.SGD([]), ValueError, "optimizer got an empty parameter list"),
        (lambda m, p: m.optim.SGD([p[0] * 2]), ValueError, "can't optimize a non-leaf Tensor"),
        (lambda m, p: m.optim.SGD([1.0]), TypeError, "but one of the params is float$"),
        (lambda m, p: m.optim.SGD(p, lr=-1.0), ValueError, r"Invalid learning rate: -1.0"),
        (lambda m, p: m.optim.SGD(p, momentum=-1), ValueError, "Invalid momentum value: -1"),
        (lambda m, p: m.optim.SGD(p, weight_decay=-1), ValueError, "Invalid weight_decay"),
        (lambda m, p: m.optim.SGD(p, nesterov=True), ValueError, "Nesterov momentum requires"),
        (lambda m, p: m.optim.Adam(p, eps=-1), ValueError, "Invalid epsilon value: -1"),
        (lambda m, p: m.optim.Adam(p, betas=(1.0, 0.9)), ValueError, "beta parameter at index 0"),
        (lambda m, p: m.optim.AdamW(p, betas=(0.9, -1)), ValueError, "beta parameter at index 1"),
        (lambda m, p: m.optim.Adamax(p, lr=-1), ValueError, "Invalid learning rate"),
        (lambda m, p: m.optim.NAdam(p, momentum_decay=-1), ValueError, "momentum_decay"),
        (lambda m, p: m.optim.RAdam(p, weight_decay=-1), ValueError, "Invalid weight_decay"),
        (lambda m, p: m.optim.RMSprop(p, alpha=-1), ValueError, "Invalid alpha value: -1"),
        (lambda m, p: m.optim.RMSprop(p, momentum=-1), ValueError, "Invalid momentum value"),
        (lambda m, p: m.optim.Adagrad(p, lr_decay=-1), ValueError, "Invalid lr_decay value"),
        (
            lambda m, p: m.optim.Adagrad(p, initial_accumulator_value=-1),
            ValueError,
            "Invalid initial_accumulator_value value: -1",
        ),
        (lambda m, p: m.optim.Adadelta(p, rho=1.5), ValueError, "Invalid rho value: 1.5"),
        (lambda m, p: m.optim.Rprop(p, etas=(1.2, 0.5)), ValueError, "Invalid eta values"),
        (lambda m, p: m.optim.ASGD(p, weight_decay=-1), ValueError, "Invalid weight_decay"),
        (lambda m, p: m.optim.Adafactor(p, d=0.5), ValueError, "Clipping threshold d"),
        (lambda m, p: m.optim.Adafactor(p, beta2_decay=1), ValueError, "beta2_decay should be"),
        (lambda m, p: m.optim.Adafactor(p, eps=(-1, 1)), ValueError, "epsilon1 should be"),
        (lambda m, p: m.optim.Adafactor(p, lr=-1), ValueError, "Learning rate should be >= 0"),
    ],
)
def test_errors_match_torch(make, err, match):
    for m in (ember, torch):
        with pytest.raises(err, match=match):
            make(m, params_for(m))


def test_load_state_dict_errors_leave_optimizer_unchanged():
    a, b, c = params_for(ember)
    opt = ember.optim.Adam([a, b], lr=0.1)
    other = ember.optim.Adam([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict(ember.optim.Adam([a, b, c]).state_dict())
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["params"] == [a, b]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    for m in (ember, torch):
        a, b, c = params_for(m)
        opt = m.optim.SGD([a, b], lr=0.1)
        a.grad = m.ones(2, 3)
        c.grad = m.ones(3)
        grad = a.grad
        opt.zero_grad(set_to_none=set_to_none)
        if set_to_none:
            assert a.grad is None
        else:
            assert a.grad is grad and float(a.grad.abs().sum()) == 0
        assert b.grad is None
        assert float(c.grad.sum()) == 3  # not in the optimizer


def test_none_grads_are_skipped():
    for m in (ember, torch):
        a, b, _ = params_for(m)
        before = b.detach().numpy().copy()
        opt = m.optim.Adam([a, b], lr=0.1)
        a.grad = m.ones(2, 3)
        opt.step()
        np.testing.assert_array_equal(b.detach().numpy(), before)
        assert list(opt.state_dict()["state"]) == [0]


def run_closure(m):
    a, *_ = params_for(m)
    opt = m.optim.SGD([a], lr=0.1, momentum=0.9)
    calls = []

    def closure():
        calls.append(m.is_grad_enabled())
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    with m.no_grad():
        out = [opt.step(closure).item() for _ in range(3)]
    assert calls == [True] * 3
    return out, a.detach().numpy()


def test_closure_loss_and_enable_grad():
    e_losses, e_param = run_closure(ember)
    t_losses, t_param = run_closure(torch)
    np.testing.assert_allclose(e_losses, t_losses, rtol=1e-6)
    np.testing.assert_allclose(e_param, t_param, rtol=1e-6)


@pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])
def test_step_hooks(m):
    a, *_ = params_for(m)
    opt = m.optim.SGD([a], lr=0.1)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", o, args)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", o)))
    a.grad = m.ones(2, 3)
    opt.step()
    assert seen == [("pre", opt, (opt,)), ("post", opt)]
    pre.remove()
    post.remove()
    opt.step()
    assert len(seen) == 2


def test_step_pre_hook_replaces_arguments_and_global_hook():
    a, *_ = params_for(ember)
    opt = ember.optim.SGD([a], lr=0.1)
    opt.register_step_pre_hook(lambda o, args, kwargs: ((o,), {"closure": lambda: 7}))
    seen = []
    handle = register_optimizer_step_post_hook(lambda o, args, kwargs: seen.append(kwargs))
    try:
        assert opt.step() == 7
    finally:
        handle.remove()
    assert list(seen[0]) == ["closure"]
    opt.register_step_pre_hook(lambda o, args, kwargs: 3)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_state_dict_hooks():
    a, *_ = params_for(ember)
    opt = ember.optim.Adam([a])
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append("load_pre"))
    opt.register_load_state_dict_post_hook(lambda o: calls.append("load_post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert calls == ["pre", "load_pre", "load_post"]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "Rprop", "Adafactor"])
def test_repr_matches_torch(name):
    e_opt = getattr(ember.optim, name)(params_for(ember), lr=0.1)
    t_opt = getattr(torch.optim, name)(params_for(torch), lr=0.1)
    assert repr(e_opt) == repr(t_opt)


def test_adagrad_state_exists_before_first_step():
    e_opt = ember.optim.Adagrad(params_for(ember), initial_accumulator_value=0.3)
    t_opt = torch.optim.Adagrad(params_for(torch), initial_accumulator_value=0.3)
    e_sd, t_sd = e_opt.state_dict(), t_opt.state_dict()
    assert e_sd["state"].keys() == t_sd["state"].keys() == {0, 1, 2}
    np.testing.assert_array_equal(e_sd["state"][0]["sum"].numpy(), t_sd["state"][0]["sum"].numpy())


def test_step_bumps_version_and_keeps_storage():
    a, *_ = params_for(ember)
    data, version = a.data, a._version[0]
    opt = ember.optim.Adam([a])
    a.grad = ember.ones(2, 3)
    opt.step()
    assert a.data is data and a._version[0] == version + 1


def test_loaded_state_is_a_copy():
    arrays, grads = make_data()
    params, opt = make_opt(ember, "Adam", {"lr": 0.1}, arrays)
    set_grads(params, grads[0], ember)
    opt.step()
    sd = opt.state_dict()
    params2, opt2 = make_opt(ember, "Adam", {}, arrays)
    opt2.load_state_dict(sd)
    exp_avg = sd["state"][0]["exp_avg"].numpy().copy()
    set_grads(params2, grads[1], ember)
    opt2.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), exp_avg)
    assert opt2.state[params2[0]]["step"].dtype is ember.float32


def lion_reference(p, grads, lr, betas, weight_decay):
    """The paper's Program 1, in float64 NumPy."""
    p, m = p.astype(np.float64), np.zeros(p.shape)
    out = []
    for g in grads:
        update = np.sign(betas[0] * m + (1 - betas[0]) * g)
        p = p * (1 - lr * weight_decay) - lr * update
        m = betas[1] * m + (1 - betas[1]) * g
        out.append(p)
    return out


@pytest.mark.parametrize(
    "kwargs", [{}, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.003, "betas": (0.5, 0.7)}]
)
def test_lion_matches_paper(kwargs):
    arrays, grads = make_data()
    params, opt = make_opt(ember, "Lion", kwargs, arrays)
    full = {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0, **kwargs}
    refs = [lion_reference(a, [g[i] for g in grads], **full) for i, a in enumerate(arrays)]
    for step, g in enumerate(grads):
        set_grads(params, g, ember)
        opt.step()
        for p, ref in zip(params, refs):
            assert p.dtype is ember.float32
            np.testing.assert_allclose(p.detach().numpy(), ref[step], rtol=1e-5, atol=1e-6)
    assert set(opt.state[params[0]]) == {"exp_avg"}


def test_lion_maximize_and_errors():
    arrays, grads = make_data()
    p1, opt1 = make_opt(ember, "Lion", {"lr": 0.01, "maximize": True}, arrays)
    p2, opt2 = make_opt(ember, "Lion", {"lr": 0.01}, arrays)
    for g in grads[:5]:
        set_grads(p1, g, ember)
        set_grads(p2, [-x for x in g], ember)
        opt1.step()
        opt2.step()
    np.testing.assert_array_equal(p1[0].detach().numpy(), p2[0].detach().numpy())
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.Lion(p1, lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        ember.optim.Lion(p1, betas=(0.9, 1.5))
