"""State-dict hooks, extra state and the rarer Module methods, against PyTorch."""

import functools
import typing

import numpy as np
import pytest
import torch

import ember

MODULES = [ember, torch]


@functools.cache
def classes(m):
    """Small modules defined identically on top of ember and torch."""

    class Counter(m.nn.Module):
        """A layer with extra state (a step count and a name)."""

        def __init__(self):
            super().__init__()
            self.lin = m.nn.Linear(2, 2)
            self.steps = 0
            self.tag = "a"

        def get_extra_state(self):
            return {"steps": self.steps, "tag": self.tag}

        def set_extra_state(self, state):
            self.steps, self.tag = state["steps"], state["tag"]

    class SetOnly(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.got = None

        def set_extra_state(self, state):
            self.got = state

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = m.nn.Linear(2, 3)
            self.b = m.nn.Sequential(m.nn.Linear(3, 3), Counter())
            self.register_buffer("running", m.zeros(3))

    return Counter, SetOnly, Net


def hook_log(module, log, name=None):
    """Register every state-dict hook kind on module; calls go to log with their arguments."""
    tag = name or type(module).__name__
    module.register_state_dict_pre_hook(
        lambda mod, prefix, keep_vars: log.append(("pre", tag, prefix, keep_vars))
    )
    module.register_state_dict_post_hook(
        lambda mod, sd, prefix, meta: log.append(("post", tag, prefix, list(sd), dict(meta)))
    )
    module.register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, meta, strict, missing, unexpected, errors: log.append(
            ("load_pre", tag, prefix, sorted(sd), strict, list(missing), list(unexpected))
        )
    )
    module.register_load_state_dict_post_hook(
        lambda mod, keys: log.append(("load_post", tag, list(keys.missing_keys)))
    )


def both(fn):
    """fn(m) for ember and torch."""
    return fn(ember), fn(torch)


def net_with_hooks(m):
    net = classes(m)[2]()
    log = []
    for name, sub in net.named_modules():
        hook_log(sub, log, name or "root")
    return net, log


def test_state_dict_hook_order_and_arguments():
    (e_net, e_log), (t_net, t_log) = both(net_with_hooks)
    e_sd, t_sd = e_net.state_dict(prefix="top."), t_net.state_dict(prefix="top.")
    assert list(e_sd) == list(t_sd)
    assert e_log == t_log
    assert e_sd._metadata == t_sd._metadata
    e_log.clear()
    t_log.clear()
    e_net.state_dict(keep_vars=True)
    t_net.state_dict(keep_vars=True)
    assert e_log == t_log


def test_load_state_dict_hook_order_and_arguments():
    (e_net, e_log), (t_net, t_log) = both(net_with_hooks)
    e_sd, t_sd = e_net.state_dict(), t_net.state_dict()
    del e_sd["b.0.bias"], t_sd["b.0.bias"]
    e_log.clear()
    t_log.clear()
    e_res = e_net.load_state_dict(e_sd, strict=False)
    t_res = t_net.load_state_dict(t_sd, strict=False)
    # Pre-hooks match call for call. Differences from PyTorch: Ember runs the post-hooks after
    # copying (same order, children first), so each sees the complete missing-key list.
    assert [e for e in e_log if e[0] == "load_pre"] == [t for t in t_log if t[0] == "load_pre"]
    e_post, t_post = (
        [e for e in e_log if e[0] == "load_post"],
        [t for t in t_log if t[0] == "load_post"],
    )
    assert (
        [e[1] for e in e_post]
        == [t[1] for t in t_post]
        == ["a", "b.0", "b.1.lin", "b.1", "b", "root"]
    )
    assert all(e[2] == ["b.0.bias"] for e in e_post) and t_post[-1][2] == ["b.0.bias"]
    assert e_res == t_res
    assert e_res.missing_keys == ["b.0.bias"]


@pytest.mark.parametrize("m", MODULES)
def test_post_hook_mutating_keys_decides_strict_errors(m):
    net = classes(m)[2]()
    sd = net.state_dict()
    del sd["a.weight"]
    sd["extra"] = m.zeros(1)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "a.weight"'):
        net.load_state_dict(sd)

    def clear(mod, keys):
        keys.missing_keys.clear()
        keys.unexpected_keys.clear()

    handle = net.register_load_state_dict_post_hook(clear)
    result = net.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    handle.remove()
    net.b.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.append("made.up"))
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "made.up"'):
        net.load_state_dict(net.state_dict())


@pytest.mark.parametrize("m", MODULES)
def test_load_post_hook_must_return_none(m):
    net = m.nn.Linear(2, 2)
    net.register_load_state_dict_post_hook(lambda mod, keys: keys)
    with pytest.raises(AssertionError, match="not expected to return new values"):
        net.load_state_dict(net.state_dict())


@pytest.mark.parametrize("m", MODULES)
def test_load_pre_hook_renames_keys_and_reports_errors(m):
    def rename(mod, sd, prefix, meta, strict, missing, unexpected, errors):
        for key in [k for k in sd if k.startswith(prefix + "old_")]:
            sd[prefix + key[len(prefix) + 4 :]] = sd.pop(key)

    net = m.nn.Sequential(m.nn.Linear(2, 2))
    net[0].register_load_state_dict_pre_hook(rename)
    source = {"0.old_weight": m.ones(2, 2), "0.old_bias": m.ones(2)}
    net.load_state_dict(source)
    assert list(source) == ["0.old_weight", "0.old_bias"]  # the caller's dict is untouched
    assert float(net[0].weight.detach().sum()) == 4.0
    net[0].register_load_state_dict_pre_hook(
        lambda mod, sd, prefix, meta, strict, missing, unexpected, errors: errors.append("bad")
    )
    with pytest.raises(RuntimeError, match="Error\\(s\\) in loading state_dict for Sequential"):
        net.load_state_dict(source)


def test_private_load_pre_hook_without_module():
    for m in MODULES:
        layer = m.nn.Linear(2, 2)
        calls = []
        layer._register_load_state_dict_pre_hook(lambda *args, c=calls: c.append(len(args)))
        layer._register_load_state_dict_pre_hook(
            lambda *args, c=calls, lay=layer: c.append(args[0] is lay), with_module=True
        )
        layer.load_state_dict(layer.state_dict())
        assert calls == [7, True]


@pytest.mark.parametrize("m", MODULES)
def test_state_dict_post_hook_edits_in_place_and_must_return_none(m):
    layer = m.nn.Linear(2, 2)
    layer.register_state_dict_post_hook(lambda mod, sd, prefix, meta: 1)
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        layer.state_dict()
    layer = m.nn.Linear(2, 2)

    def drop_bias(mod, sd, prefix, meta):
        del sd[prefix + "bias"]

    handle = layer.register_state_dict_post_hook(drop_bias)
    assert list(layer.state_dict()) == ["weight"]
    handle.remove()
    assert list(layer.state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("m", MODULES)
def test_private_state_dict_hook_may_replace_the_dict_at_the_root(m):
    def replace(mod, sd, prefix, meta):
        return {"only": 1}

    net = m.nn.Sequential(m.nn.Linear(2, 2))
    net[0]._register_state_dict_hook(replace)
    assert "0.weight" in net.state_dict()  # a child's return value is ignored
    net._register_state_dict_hook(replace)
    assert net.state_dict() == {"only": 1}
    public = m.nn.Linear(2, 2)

    def hook(mod, sd, prefix, meta):
        return None

    public.register_state_dict_post_hook(hook)
    with pytest.raises(RuntimeError, match="Cannot register the same function"):
        public._register_state_dict_hook(hook)


def test_extra_state_round_trip():
    e_net, t_net = both(lambda m: classes(m)[2]())
    for net in (e_net, t_net):
        net.b[1].steps, net.b[1].tag = 7, "z"
    e_sd, t_sd = e_net.state_dict(), t_net.state_dict()
    assert list(e_sd) == list(t_sd)
    assert e_sd["b.1._extra_state"] == t_sd["b.1._extra_state"] == {"steps": 7, "tag": "z"}
    for sd, m in ((e_sd, ember), (t_sd, torch)):
        fresh = classes(m)[2]()
        assert fresh.b[1].steps == 0
        fresh.load_state_dict(sd)
        assert (fresh.b[1].steps, fresh.b[1].tag) == (7, "z")


@pytest.mark.parametrize("m", MODULES)
def test_extra_state_missing_and_unexpected(m):
    counter = classes(m)[0]()
    sd = counter.state_dict()
    del sd["_extra_state"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "_extra_state"'):
        counter.load_state_dict(sd)
    assert counter.load_state_dict(sd, strict=False).missing_keys == ["_extra_state"]
    plain = m.nn.Linear(2, 2)
    sd = plain.state_dict()
    sd["_extra_state"] = 3
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "_extra_state"'):
        plain.load_state_dict(sd)
    set_only = classes(m)[1]()
    assert "_extra_state" not in set_only.state_dict()
    set_only.load_state_dict({"_extra_state": [1, 2]})
    assert set_only.got == [1, 2]


@pytest.mark.parametrize("m", MODULES)
def test_base_extra_state_methods_raise(m):
    with pytest.raises(RuntimeError, match="should never be called"):
        m.nn.Linear(1, 1).get_extra_state()
    with pytest.raises(RuntimeError, match="should never be called"):
        m.nn.Linear(1, 1).set_extra_state(None)


def test_load_error_leaves_module_unchanged_with_hooks():
    net = classes(ember)[2]()
    net.b[1].steps = 5
    before = {k: np.array(v.data) for k, v in net.state_dict().items() if k[-5:] != "state"}
    sd = classes(ember)[2]().state_dict()
    sd["a.weight"] = ember.zeros(4, 4)
    calls = []
    net.register_load_state_dict_post_hook(lambda mod, keys: calls.append(1))
    with pytest.raises(RuntimeError, match=r"size mismatch for a\.weight"):
        net.load_state_dict(sd)
    after = net.state_dict()
    for key, value in before.items():
        np.testing.assert_array_equal(after[key].data, value)
    assert net.b[1].steps == 5 and calls == []


# -- set_submodule and the rarer methods ----------------------------------------------------
def errors_of(fn):
    out = []
    for m in MODULES:
        try:
            fn(m)
            out.append(None)
        except (AttributeError, ValueError) as err:
            out.append((type(err), str(err)))
    return out


@pytest.mark.parametrize(
    "target, strict",
    [("", False), ("b.x.y", False), ("a.weight", False), ("b.nope", True), ("nothing", True)],
)
def test_set_submodule_errors_match_torch(target, strict):
    e_err, t_err = errors_of(
        lambda m: classes(m)[2]().set_submodule(target, m.nn.ReLU(), strict=strict)
    )
    assert e_err is not None and e_err == t_err


def test_set_submodule_non_module_and_replace():
    e_err, t_err = errors_of(lambda m: classes(m)[2]().set_submodule("a", 3))
    assert e_err[0] is ValueError and e_err[1].startswith("`module` is not an nn.Module, found")
    assert t_err[0] is ValueError
    for m in MODULES:
        net = classes(m)[2]()
        net.set_submodule("b.0", m.nn.Tanh(), strict=True)
        net.set_submodule("b.new", m.nn.ReLU())
        net.set_submodule("c", m.nn.ReLU())
        assert isinstance(net.b[0], m.nn.Tanh) and isinstance(net.b.new, m.nn.ReLU)
        assert [n for n, _ in net.named_children()] == ["a", "b", "c"]


def test_to_empty_type_and_misc():
    net = classes(ember)[2]()
    with ember.no_grad():
        net.a.weight.fill_(3.0)
    weight = net.a.weight
    assert net.to_empty(device="cpu") is net
    assert net.a.weight is weight and float(weight.abs().sum()) == 0.0
    assert weight.requires_grad
    net = ember.nn.Sequential(ember.nn.Linear(2, 2))
    with ember.no_grad():
        net[0].weight.fill_(1.0)
    net.to_empty(device="cpu", recurse=False)
    assert float(net[0].weight.detach().sum()) == 4.0
    for m in MODULES:
        layer = m.nn.Linear(2, 2)
        assert layer.type(m.float64) is layer
        assert layer.weight.dtype == m.float64 and isinstance(layer.weight, m.nn.Parameter)
        assert layer.share_memory() is layer
        assert m.nn.Module.call_super_init is False and m.nn.Module.dump_patches is False
    assert isinstance(ember.nn.Module.T_destination, typing.TypeVar)
    layer = ember.nn.Linear(2, 2)
    assert layer.compile() is None  # torch's would import inductor: not compared
    layer.compile(mode="max-autotune", fullgraph=True)
    x = ember.ones(1, 2)
    np.testing.assert_array_equal(layer(x).data, layer.forward(x).data)


# -- optimizer hook types and DataLoader contexts --------------------------------------------
def test_optimizer_hook_aliases_and_profile_hook_step():
    from ember.optim.optimizer import Optimizer

    assert Optimizer.OptimizerPreHook is not None and Optimizer.OptimizerPostHook is not None
    calls = []

    class Plain(Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    def step(self, closure=None):
        calls.append("step")

    Plain.step = Optimizer.profile_hook_step(step)  # a step assigned later gets the hooks too
    opt = Plain([ember.nn.Parameter(ember.ones(2))])
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    opt.step()
    assert calls == ["pre", "step", "post"]
    t_calls = []
    t_opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1)
    t_opt.register_step_pre_hook(lambda o, args, kwargs: t_calls.append("pre"))
    t_opt.register_step_post_hook(lambda o, args, kwargs: t_calls.append("post"))
    t_opt.step()
    e_calls = []
    e_opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(2))], lr=0.1)
    e_opt.register_step_pre_hook(lambda o, args, kwargs: e_calls.append("pre"))
    e_opt.register_step_post_hook(lambda o, args, kwargs: e_calls.append("post"))
    e_opt.step()
    assert e_calls == t_calls == ["pre", "post"]


class Squares(ember.utils.data.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        return np.float32(i) ** 2


@pytest.mark.parametrize("context", ["spawn"])  # forkserver works too; spawn alone costs ~8 s
def test_dataloader_multiprocessing_context_same_batches(context):
    import multiprocessing

    from ember.utils.data import DataLoader

    plain = [b.data.tolist() for b in DataLoader(Squares(), batch_size=3)]
    loader = DataLoader(Squares(), batch_size=3, num_workers=2, multiprocessing_context=context)
    assert loader.multiprocessing_context.get_start_method() == context
    assert [b.data.tolist() for b in loader] == plain
    ctx = multiprocessing.get_context(context)
    assert (
        DataLoader(Squares(), num_workers=1, multiprocessing_context=ctx).multiprocessing_context
        is ctx
    )


def test_dataloader_multiprocessing_context_errors_match_torch():
    from ember.utils.data import DataLoader

    for kwargs in ({"num_workers": 0}, {"num_workers": 1}):
        name = "bogus" if kwargs["num_workers"] else "spawn"
        messages = []
        for loader_cls, data in (
            (DataLoader, Squares()),
            (torch.utils.data.DataLoader, list(range(10))),
        ):
            with pytest.raises(ValueError) as info:
                loader_cls(data, multiprocessing_context=name, **kwargs)
            messages.append(str(info.value))
        assert messages[0] == messages[1]
    with pytest.raises(TypeError, match="should be a valid context object or a string"):
        DataLoader(Squares(), num_workers=1, multiprocessing_context=3)


def test_unpickling_a_module_without_the_hook_dicts():
    import pickle

    layer = ember.nn.Linear(2, 2)
    state = layer.__getstate__() if hasattr(layer, "__getstate__") else dict(layer.__dict__)
    state = {k: v for k, v in state.items() if "state_dict" not in k and "backward" not in k}
    old = object.__new__(ember.nn.Linear)
    old.__setstate__(state)
    restored = pickle.loads(pickle.dumps(old))
    assert list(restored.state_dict()) == ["weight", "bias"]
    restored.register_full_backward_hook(lambda *a: None)
    restored(ember.ones(1, 2, requires_grad=True)).sum().backward()


def test_state_dict_positional_args_are_deprecated_as_torch():
    results = []
    for m in MODULES:
        layer = m.nn.Linear(2, 2)
        dest = {}
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            out = layer.state_dict(dest, "p.", True)
        assert out is dest
        results.append((list(dest), dest["p.weight"].requires_grad))
    assert results[0] == results[1] == (["p.weight", "p.bias"], True)
