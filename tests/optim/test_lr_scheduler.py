"""LR schedulers against torch.optim.lr_scheduler: the same rates (and momenta) step by step."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.optim
import ember.optim.lr_scheduler
from tests.helpers import assert_same

LIBS = [ember, torch]


def make_sgd(m, momentum=0.9):
    """SGD over two param groups with different lrs and momenta (a grad so step updates)."""
    params = [m.nn.Parameter(m.ones(2)) for _ in range(2)]
    for p in params:
        p.grad = m.ones(2)
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}]
    return m.optim.SGD(groups, lr=0.1, momentum=momentum)


def record(opt, sched):
    return (
        list(sched.get_last_lr()),
        [g["lr"] for g in opt.param_groups],
        [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups],
    )


def run(m, make, steps=100, opt=None, sched=None, metrics=None):
    """Build (unless given) and step optimizer and scheduler; return the history of rates."""
    opt = opt if opt is not None else make_sgd(m)
    sched = sched if sched is not None else make(m.optim.lr_scheduler, opt)
    history = [record(opt, sched)]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        history.append(record(opt, sched))
    return history, opt, sched


def assert_history(e, t):
    assert len(e) == len(t)
    for i, (he, ht) in enumerate(zip(e, t)):
        for ve, vt in zip(he, ht):
            np.testing.assert_allclose(
                np.array(ve, dtype=float),
                np.array(vt, dtype=float),
                rtol=1e-12,
                atol=1e-15,
                err_msg=f"step {i}",
            )


SCHEDULERS = {
    "lambda": lambda s, o: s.LambdaLR(o, lambda e: 0.95**e),
    "lambda_list": lambda s, o: s.LambdaLR(o, [lambda e: 0.9**e, lambda e: 1 / (e + 1)]),
    "multiplicative": lambda s, o: s.MultiplicativeLR(o, lambda e: 0.97),
    "step": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "multistep": lambda s, o: s.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
    "constant": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=12),
    "linear": lambda s, o: s.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=40),
    "linear_down": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=30),
    "exponential": lambda s, o: s.ExponentialLR(o, gamma=0.96),
    "polynomial": lambda s, o: s.PolynomialLR(o, total_iters=60, power=2.0),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "warm_restarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=1e-3),
    "warm_restarts_mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "cyclic": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=9, step_size_down=5),
    "cyclic2": lambda s, o: s.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=6, mode="triangular2"),
    "cyclic_exp": lambda s, o: s.CyclicLR(
        o, 0.01, [0.1, 0.2], 10, mode="exp_range", gamma=0.98, base_momentum=[0.7, 0.75]
    ),
    "cyclic_scale_fn": lambda s, o: s.CyclicLR(
        o, 0.01, 0.1, 8, scale_fn=lambda x: 1 / (1 + 0.1 * x), scale_mode="iterations"
    ),
    "cyclic_no_momentum": lambda s, o: s.CyclicLR(o, 0.01, 0.1, 4, cycle_momentum=False),
    "one_cycle": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=100),
    "one_cycle_linear": lambda s, o: s.OneCycleLR(
        o, [0.5, 0.3], epochs=10, steps_per_epoch=11, anneal_strategy="linear", pct_start=0.4
    ),
    "one_cycle_three": lambda s, o: s.OneCycleLR(
        o, 1.0, total_steps=120, three_phase=True, div_factor=10.0, final_div_factor=100.0
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    make = SCHEDULERS[name]
    e, *_ = run(ember, make)
    t, *_ = run(torch, make)
    assert_history(e, t)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_resumption(name):
    """A state_dict taken after 50 steps, loaded into fresh objects, continues identically."""
    make = SCHEDULERS[name]
    t, *_ = run(torch, make)
    e_first, opt, sched = run(ember, make, steps=50)
    opt_state, sched_state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert "optimizer" not in sched_state
    opt2 = make_sgd(ember)
    sched2 = make(ember.optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    e_rest, *_ = run(ember, make, steps=50, opt=opt2, sched=sched2)
    assert_history(e_first + e_rest[1:], t)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_last_epoch_constructor(name):
    """A scheduler constructed with last_epoch=k on a running optimizer, as torch."""
    make = SCHEDULERS[name]

    def resume(s, o):
        return make(_WithLastEpoch(s, 40), o)

    out = []
    for m in LIBS:
        _, opt, _ = run(m, make, steps=40)
        history, *_ = run(m, None, steps=40, opt=opt, sched=resume(m.optim.lr_scheduler, opt))
        out.append(history)
    assert_history(*out)


class _WithLastEpoch:
    """The lr_scheduler module, with last_epoch passed to every scheduler it builds."""

    def __init__(self, module, last_epoch):
        self.module, self.last_epoch = module, last_epoch

    def __getattr__(self, name):
        cls = getattr(self.module, name)
        return lambda *args, **kwargs: cls(*args, **kwargs, last_epoch=self.last_epoch)


def test_last_epoch_requires_initial_lr():
    for m in LIBS:
        opt = make_sgd(m)
        with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups"):
            m.optim.lr_scheduler.StepLR(opt, 3, last_epoch=4)


def test_initial_lr_set_and_kept():
    out = []
    for m in LIBS:
        opt = make_sgd(m)
        opt.param_groups[1]["initial_lr"] = 0.2  # an existing initial_lr is not overwritten
        sched = m.optim.lr_scheduler.StepLR(opt, 2)
        out.append(([g["initial_lr"] for g in opt.param_groups], sched.base_lrs, sched.last_epoch))
    assert out[0] == out[1]


def test_sequential_lr():
    def make(s, o):
        warm = s.LinearLR(o, start_factor=0.1, total_iters=10)
        cos = s.CosineAnnealingLR(o, T_max=40, eta_min=0.001)
        decay = s.ExponentialLR(o, gamma=0.9)
        return s.SequentialLR(o, [warm, cos, decay], milestones=[10, 50])

    e, opt, sched = run(ember, make)
    t, *_ = run(torch, make)
    assert_history(e, t)
    # resumption through SequentialLR's state_dict (nested scheduler states)
    e_first, opt, sched = run(ember, make, steps=30)
    opt_state, state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    assert len(state["_schedulers"]) == 3
    opt2 = make_sgd(ember)
    sched2 = make(ember.optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(state)
    e_rest, *_ = run(ember, make, steps=70, opt=opt2, sched=sched2)
    assert_history(e_first + e_rest[1:], t)


def test_chained_scheduler():
    def make(s, o):
        return s.ChainedScheduler(
            [s.ConstantLR(o, factor=0.5, total_iters=5), s.ExponentialLR(o, gamma=0.97),
             s.MultiStepLR(o, [20, 70], gamma=0.5)]
        )  # fmt: skip

    e, opt, sched = run(ember, make)
    t, *_ = run(torch, make)
    assert_history(e, t)
    e_first, opt, sched = run(ember, make, steps=50)
    opt_state, state = copy.deepcopy(opt.state_dict()), copy.deepcopy(sched.state_dict())
    opt2 = make_sgd(ember)
    sched2 = make(ember.optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(state)
    e_rest, *_ = run(ember, make, steps=50, opt=opt2, sched=sched2)
    assert_history(e_first + e_rest[1:], t)


def test_sequential_of_chained():
    def make(s, o):
        chain = s.ChainedScheduler([s.ConstantLR(o, 0.5, 8), s.ExponentialLR(o, 0.9)])
        # the nested initial step comes before any optimizer.step(): torch warns as well
        with pytest.warns(UserWarning, match="Detected call of `lr_scheduler.step"):
            return s.SequentialLR(o, [chain, s.StepLR(o, 10, 0.5)], milestones=[25])

    assert_history(run(ember, make)[0], run(torch, make)[0])


PLATEAU = {
    "min_rel": {},
    "max_abs": {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 2},
    "cooldown": {"patience": 1, "cooldown": 3, "factor": 0.5},
    "min_lr": {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.001]},
    "eps": {"patience": 0, "factor": 0.9, "min_lr": 0.0999, "eps": 1e-8},
    "max_rel": {"mode": "max", "patience": 3, "threshold": 0.1},
    "min_abs": {"threshold_mode": "abs", "threshold": 0.2, "patience": 2, "factor": 0.3},
}


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau(name):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(5, 1, 20), 1 + rng.uniform(-0.3, 0.3, 80)]).tolist()

    def make(s, o):
        return s.ReduceLROnPlateau(o, **PLATEAU[name])

    e, opt, sched = run(ember, make, metrics=metrics)
    t, *_ = run(torch, make, metrics=metrics)
    assert_history(e, t)
    # resumption
    e_first, opt, sched = run(ember, make, steps=50, metrics=metrics)
    state = copy.deepcopy(sched.state_dict())
    opt_state = copy.deepcopy(opt.state_dict())
    opt2 = make_sgd(ember)
    sched2 = make(ember.optim.lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(state)
    e_rest, *_ = run(ember, make, steps=50, opt=opt2, sched=sched2, metrics=metrics[50:])
    assert_history(e_first + e_rest[1:], t)


def test_reduce_lr_on_plateau_tensor_metric_and_epoch_warning():
    out = []
    for m in LIBS:
        opt = make_sgd(m)
        sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
        sched.step(m.tensor(1.0))
        sched.step(m.tensor(2.0))
        with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)`"):
            sched.step(3.0, epoch=7)
        out.append((sched.get_last_lr(), sched.last_epoch, sched.num_bad_epochs, sched.best))
    assert out[0] == out[1]


CLOSED_FORM = ["step", "multistep", "constant", "linear", "exponential", "polynomial", "cosine"]


@pytest.mark.parametrize("name", [*CLOSED_FORM, "lambda", "warm_restarts_mult"])
def test_step_with_epoch_uses_closed_form(name):
    epochs = [1, 2, 5, 5, 9, 20, 13, 40, 41, 3, 70]
    if name == "warm_restarts_mult":
        epochs = [0.5, 1.25, 2.0, 3.7, 9.0, 10.5, 25.0, 4.0]
    out = []
    for m in LIBS:
        opt = make_sgd(m)
        sched = SCHEDULERS[name](m.optim.lr_scheduler, opt)
        history = []
        for epoch in epochs:
            opt.step()
            if name == "warm_restarts_mult":  # fractional epochs are its documented use
                sched.step(epoch)
            else:
                with pytest.warns(UserWarning, match="The epoch parameter"):
                    sched.step(epoch)
            history.append(record(opt, sched))
        out.append(history)
    assert_history(*out)


def test_warm_restarts_negative_epoch():
    for m in LIBS:
        sched = m.optim.lr_scheduler.CosineAnnealingWarmRestarts(make_sgd(m), T_0=3)
        with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
            sched.step(-1)


def test_order_warning():
    for m in LIBS:
        opt = make_sgd(m)
        sched = m.optim.lr_scheduler.StepLR(opt, 3)
        with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before"):
            sched.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sched.step()  # only the first call is checked


def test_no_order_warning_when_optimizer_stepped_first():
    for m in LIBS:
        opt = make_sgd(m)
        sched = m.optim.lr_scheduler.StepLR(opt, 3)
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sched.step()


def test_overridden_step_warning():
    for m in LIBS:
        opt = make_sgd(m)
        sched = m.optim.lr_scheduler.StepLR(opt, 3)
        opt.step = lambda closure=None: None
        with pytest.warns(
            UserWarning, match=r"Seems like `optimizer.step\(\)` has been overridden"
        ):
            sched.step()


def test_optimizer_step_wrapped_once_and_still_steps():
    opt = make_sgd(ember)
    ember.optim.lr_scheduler.StepLR(opt, 3)
    wrapped = opt.step
    ember.optim.lr_scheduler.ExponentialLR(opt, 0.9)
    assert opt.step is wrapped
    before = opt.param_groups[0]["params"][0].detach().clone()
    opt.step()
    assert not np.allclose(before.data, opt.param_groups[0]["params"][0].data)


def test_get_lr_outside_step_warns():
    for m in LIBS:
        sched = m.optim.lr_scheduler.StepLR(make_sgd(m), 3)
        with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
            sched.get_lr()


def test_lambda_state_dict_saves_callable_objects():
    class Factor:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    for m in LIBS:
        sched = m.optim.lr_scheduler.LambdaLR(make_sgd(m), [Factor(0.5), lambda e: 1.0])
        state = sched.state_dict()
        assert state["lr_lambdas"] == [{"rate": 0.5}, None]
        fresh = m.optim.lr_scheduler.LambdaLR(make_sgd(m), [Factor(0.9), lambda e: 1.0])
        fresh.load_state_dict(state)
        assert fresh.lr_lambdas[0].rate == 0.5
        assert "lr_lambdas" in state  # the caller's dict is left intact


def test_state_dict_keys_match_torch():
    for name in ["step", "cosine", "cyclic", "one_cycle", "warm_restarts", "lambda"]:
        keys = []
        for m in LIBS:
            sched = SCHEDULERS[name](m.optim.lr_scheduler, make_sgd(m))
            keys.append(set(sched.state_dict()))
        assert keys[0] == keys[1], name


def test_cyclic_momentum_on_adam_betas():
    if not hasattr(ember.optim, "Adam"):
        pytest.skip("ember.optim.Adam is not there yet")  # TODO(#5): drop once Adam lands
    out = []
    for m in LIBS:
        params = [m.nn.Parameter(m.ones(2))]
        params[0].grad = m.ones(2)
        opt = m.optim.Adam(params, lr=0.01, betas=(0.9, 0.99))
        sched = m.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01, 5, base_momentum=0.8)
        history = [record(opt, sched)]
        for _ in range(30):
            opt.step()
            sched.step()
            history.append((*record(opt, sched), [opt.param_groups[0]["betas"][1]]))
        out.append(history)
    assert_history(*out)


def test_one_cycle_past_total_steps():
    for m in LIBS:
        opt = make_sgd(m)
        sched = m.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError, match=r"Tried to step 4 times\. The specified number of"):
            sched.step()


def _plain_optimizer(m):
    class Plain(m.optim.Optimizer):
        def step(self, closure=None):
            return None

    return Plain([m.nn.Parameter(m.ones(2))], {"lr": 0.1})


ERRORS = [
    (TypeError, "int is not an Optimizer", lambda s, o: s.StepLR(3, 2)),
    (TypeError, "list is not an Optimizer", lambda s, o: s.ReduceLROnPlateau([])),
    (TypeError, "str is not an Optimizer", lambda s, o: s.CyclicLR("x", 0.1, 1.0)),
    (TypeError, "float is not an Optimizer", lambda s, o: s.OneCycleLR(1.0, 0.1, 10)),
    (ValueError, "Expected 2 lr_lambdas, but got 1", lambda s, o: s.LambdaLR(o, [abs])),
    (ValueError, "Expected 2 lr_lambdas, but got 3", lambda s, o: s.MultiplicativeLR(o, [abs] * 3)),
    (
        TypeError,
        "lr_lambda should be a function, but got int",
        lambda s, o: s.MultiplicativeLR(o, 3),
    ),
    (ValueError, "Constant multiplicative factor expected", lambda s, o: s.ConstantLR(o, 1.5)),
    (ValueError, "Starting multiplicative factor expected", lambda s, o: s.LinearLR(o, 0.0)),
    (ValueError, "Ending multiplicative factor expected", lambda s, o: s.LinearLR(o, 0.5, -1.0)),
    (
        ValueError,
        "Expected positive integer T_0, but got 0",
        lambda s, o: s.CosineAnnealingWarmRestarts(o, 0),
    ),
    (
        ValueError,
        "Expected integer T_mult >= 1, but got 1.5",
        lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, 1.5),
    ),
    (
        ValueError,
        "Expected float or int eta_min",
        lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, eta_min="a"),
    ),
    (
        ValueError,
        "max_lr must have the same length as optimizer.param_groups. max_lr has 3 values",
        lambda s, o: s.CyclicLR(o, 0.1, [1.0] * 3),
    ),
    (
        ValueError,
        "mode is invalid and scale_fn is None",
        lambda s, o: s.CyclicLR(o, 0.1, 1.0, mode="tri"),
    ),
    (
        ValueError,
        "Expected positive integer total_steps, but got 0",
        lambda s, o: s.OneCycleLR(o, 0.1, 0),
    ),
    (
        ValueError,
        "Expected positive integer epochs, but got -1",
        lambda s, o: s.OneCycleLR(o, 0.1, epochs=-1, steps_per_epoch=2),
    ),
    (
        ValueError,
        "Expected positive integer steps_per_epoch, but got 0",
        lambda s, o: s.OneCycleLR(o, 0.1, epochs=1, steps_per_epoch=0),
    ),
    (
        ValueError,
        r"You must define either total_steps OR \(epochs AND steps_per_epoch\)",
        lambda s, o: s.OneCycleLR(o, 0.1),
    ),
    (
        ValueError,
        "Expected float between 0 and 1 pct_start, but got 1.5",
        lambda s, o: s.OneCycleLR(o, 0.1, 10, pct_start=1.5),
    ),
    (
        ValueError,
        "anneal_strategy must be one of 'cos' or 'linear', instead got exp",
        lambda s, o: s.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"),
    ),
    (ValueError, "Factor should be < 1.0.", lambda s, o: s.ReduceLROnPlateau(o, factor=1.0)),
    (ValueError, "expected 2 min_lrs, got 1", lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1])),
    (ValueError, "mode avg is unknown!", lambda s, o: s.ReduceLROnPlateau(o, mode="avg")),
    (
        ValueError,
        "threshold mode x is unknown!",
        lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="x"),
    ),
    (
        ValueError,
        "SequentialLR expects at least one scheduler",
        lambda s, o: s.SequentialLR(o, [], []),
    ),
    (
        ValueError,
        "ChainedScheduler expects at least one scheduler to be chained",
        lambda s, o: s.ChainedScheduler([]),
    ),
    (
        ValueError,
        "Sequential Schedulers expects number of schedulers provided to be one more",
        lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2)], [3]),
    ),
    (
        TypeError,
        "SequentialLR at index 0 should have `optimizer` as its attribute.",
        lambda s, o: s.SequentialLR(o, [3], []),
    ),
    (
        ValueError,
        "SequentialLR does not support `ReduceLROnPlateau` scheduler",
        lambda s, o: s.SequentialLR(o, [s.ReduceLROnPlateau(o)], []),
    ),
    (
        ValueError,
        "ChainedScheduler does not support `ReduceLROnPlateau` scheduler",
        lambda s, o: s.ChainedScheduler([s.ReduceLROnPlateau(o)]),
    ),
]


@pytest.mark.parametrize("err, msg, build", ERRORS, ids=[e[1][:40] for e in ERRORS])
@pytest.mark.parametrize("m", LIBS, ids=["ember", "torch"])
def test_errors(m, err, msg, build):
    with pytest.raises(err, match=msg):
        build(m.optim.lr_scheduler, make_sgd(m))


@pytest.mark.parametrize("m", LIBS, ids=["ember", "torch"])
def test_cycle_momentum_requires_momentum(m):
    opt = _plain_optimizer(m)
    for build in (lambda: m.optim.lr_scheduler.CyclicLR(opt, 0.1, 1.0),
                  lambda: m.optim.lr_scheduler.OneCycleLR(opt, 0.1, 10)):  # fmt: skip
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            build()


@pytest.mark.parametrize("m", LIBS, ids=["ember", "torch"])
def test_schedulers_of_different_optimizers(m):
    opt, other = make_sgd(m), make_sgd(m)
    s = m.optim.lr_scheduler
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        s.SequentialLR(opt, [s.StepLR(opt, 2), s.StepLR(other, 2)], [3])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        s.ChainedScheduler([s.StepLR(opt, 2), s.StepLR(other, 2)])


@pytest.mark.parametrize("m", LIBS, ids=["ember", "torch"])
def test_plateau_new_param_group(m):
    opt = make_sgd(m)
    sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [m.nn.Parameter(m.ones(1))]})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match=r"The number of param groups in the `optimizer` \(3\)"):
        sched.step(2.0)


def test_plateau_default_min_lr_follows_new_groups():
    out = []
    for m in LIBS:
        opt = make_sgd(m)
        sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.01)
        opt.add_param_group({"params": [m.nn.Parameter(m.ones(1))], "lr": 0.5})
        for metric in (1.0, 2.0, 3.0, 4.0):
            sched.step(metric)
        out.append(sched.get_last_lr())
    assert out[0] == pytest.approx(out[1])


def test_tensor_lr_is_filled_in_place():
    out = []
    for m in LIBS:
        p = m.nn.Parameter(m.ones(2))
        p.grad = m.ones(2)
        lr = m.tensor(0.1)
        opt = m.optim.SGD([p], lr=lr, momentum=0.9)
        sched = m.optim.lr_scheduler.CosineAnnealingLR(opt, 10)
        for _ in range(3):
            opt.step()
            sched.step()
        last = sched.get_last_lr()[0]
        assert opt.param_groups[0]["lr"] is lr and last is not lr  # no aliasing of the lr
        out.append((float(lr), float(last), p.detach().clone()))
    assert out[0][:2] == pytest.approx(out[1][:2], rel=1e-6)
    assert_same(out[0][2], out[1][2])
