"""Module backward hooks (full, pre, deprecated) against PyTorch on the same modules."""

import functools

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, state_dict_to_ember

MODULES = [ember, torch]


@functools.cache
def classes(m):
    """Small modules defined identically on top of ember and torch."""

    class Two(m.nn.Module):
        """Two positional inputs, a non-tensor argument and a tuple output."""

        def __init__(self):
            super().__init__()
            self.lin = m.nn.Linear(3, 2)

        def forward(self, x, scale, y):
            h = self.lin(x) * scale
            return h + y, h * y

    class Unused(m.nn.Module):
        def forward(self, x, y):
            return x * 2

    class NotTensor(m.nn.Module):
        def forward(self, x):
            return [x * 2]

    return Two, Unused, NotTensor


def build(make, seed=0):
    torch.manual_seed(seed)
    t_mod, e_mod = make(torch), make(ember)
    e_mod.load_state_dict(state_dict_to_ember(t_mod.state_dict()))
    return e_mod, t_mod


def tensors(arrays, grads):
    e = [ember.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    t = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    return e, t


def recorder(log, result=None):
    def hook(module, grad_input, grad_output):
        log.append((grad_input, grad_output))
        return result(grad_input) if result else None

    return hook


def assert_same_tuples(e, t):
    assert type(e) is tuple and len(e) == len(t)
    for a, b in zip(e, t):
        if b is None:
            assert a is None
        else:
            assert_same(a, b, 1e-5, 1e-6)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run_both(e_mod, t_mod, e_in, t_in, upstream, *extra):
    e_out, t_out = e_mod(*e_in[:1], *extra, *e_in[1:]), t_mod(*t_in[:1], *extra, *t_in[1:])
    e_first = e_out[0] if isinstance(e_out, tuple) else e_out
    t_first = t_out[0] if isinstance(t_out, tuple) else t_out
    e_first.backward(ember.tensor(upstream))
    t_first.backward(torch.tensor(upstream))
    return e_out, t_out


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.nn.Linear(4, 3), (5, 4)),
        (lambda m: m.nn.Conv2d(2, 3, 3, padding=1), (2, 2, 5, 5)),
        (lambda m: m.nn.Sequential(m.nn.Linear(4, 6), m.nn.Tanh(), m.nn.Linear(6, 2)), (3, 4)),
    ],
)
def test_full_backward_hook_grads_match_torch(make, shape):
    e_mod, t_mod = build(make)
    e_log, t_log = [], []
    e_mod.register_full_backward_hook(recorder(e_log))
    t_mod.register_full_backward_hook(recorder(t_log))
    (e_x,), (t_x,) = tensors([rand(*shape)], [True])
    out_shape = tuple(t_mod(t_x).shape)
    t_x.grad = None
    t_log.clear()
    run_both(e_mod, t_mod, [e_x], [t_x], rand(*out_shape, seed=1))
    assert len(e_log) == len(t_log) == 1
    assert_same_tuples(e_log[0][0], t_log[0][0])
    assert_same_tuples(e_log[0][1], t_log[0][1])
    assert_same(e_x.grad, t_x.grad, 1e-5, 1e-6)
    for e_p, t_p in zip(e_mod.parameters(), t_mod.parameters()):
        assert_same(e_p.grad, t_p.grad, 1e-4, 1e-5)


def test_hook_on_transposed_and_sliced_inputs():
    e_mod, t_mod = build(lambda m: m.nn.Linear(4, 3))
    e_log, t_log = [], []
    e_mod.register_full_backward_hook(recorder(e_log))
    t_mod.register_full_backward_hook(recorder(t_log))
    (e_x,), (t_x,) = tensors([rand(4, 6)], [True])
    e_out, t_out = e_mod(e_x.T[1:]), t_mod(t_x.T[1:])
    g = rand(5, 3, seed=2)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    assert_same_tuples(e_log[0][0], t_log[0][0])
    assert_same_tuples(e_log[0][1], t_log[0][1])
    assert_same(e_x.grad, t_x.grad, 1e-5, 1e-6)


@pytest.mark.parametrize("y_grad", [True, False])
def test_two_inputs_non_tensor_arg_and_tuple_output(y_grad):
    e_mod, t_mod = build(lambda m: classes(m)[0]())
    e_log, t_log, e_pre, t_pre = [], [], [], []
    e_mod.register_full_backward_hook(recorder(e_log))
    t_mod.register_full_backward_hook(recorder(t_log))
    e_mod.register_full_backward_pre_hook(lambda mod, go: e_pre.append(go))
    t_mod.register_full_backward_pre_hook(lambda mod, go: t_pre.append(go))
    e_in, t_in = tensors([rand(5, 3), rand(5, 2, seed=3)], [True, y_grad])
    e_out, t_out = e_mod(e_in[0], 0.5, e_in[1]), t_mod(t_in[0], 0.5, t_in[1])
    g0, g1 = rand(5, 2, seed=4), rand(5, 2, seed=5)
    (e_out[0] * ember.tensor(g0) + e_out[1] * ember.tensor(g1)).sum().backward()
    (t_out[0] * torch.tensor(g0) + t_out[1] * torch.tensor(g1)).sum().backward()
    assert len(e_log) == len(t_log) == 1 and len(e_pre) == len(t_pre) == 1
    grad_input, grad_output = e_log[0]
    assert len(grad_input) == 3 and grad_input[1] is None
    assert_same_tuples(grad_input, t_log[0][0])
    assert_same_tuples(grad_output, t_log[0][1])
    assert_same_tuples(e_pre[0], t_pre[0])
    for e, t in zip(e_in, t_in):
        if t.grad is not None:
            assert_same(e.grad, t.grad, 1e-5, 1e-6)


def test_unused_output_gives_none_grad_output():
    e_mod, t_mod = build(lambda m: classes(m)[0]())
    e_log, t_log = [], []
    e_mod.register_full_backward_hook(recorder(e_log))
    t_mod.register_full_backward_hook(recorder(t_log))
    e_in, t_in = tensors([rand(5, 3), rand(5, 2, seed=3)], [True, True])
    run_both(e_mod, t_mod, e_in, t_in, rand(5, 2, seed=6), 2.0)
    assert t_log[0][1][1] is None
    assert_same_tuples(e_log[0][1], t_log[0][1])
    assert_same_tuples(e_log[0][0], t_log[0][0])


def test_hook_returning_grad_input_changes_input_grad():
    e_mod, t_mod = build(lambda m: m.nn.Linear(4, 3))
    e_mod.register_full_backward_hook(recorder([], lambda gi: (gi[0] * 3,)))
    t_mod.register_full_backward_hook(recorder([], lambda gi: (gi[0] * 3,)))
    (e_x,), (t_x,) = tensors([rand(2, 4)], [True])
    e_y, t_y = e_x * 2, t_x * 2  # the input is not a leaf: the change flows on
    g = rand(2, 3, seed=1)
    e_mod(e_y).backward(ember.tensor(g))
    t_mod(t_y).backward(torch.tensor(g))
    assert_same(e_x.grad, t_x.grad, 1e-5, 1e-6)
    # parameter gradients are not changed by the hook
    assert_same(e_mod.weight.grad, t_mod.weight.grad, 1e-5, 1e-6)


def test_pre_hook_modifying_grad_output():
    e_mod, t_mod = build(lambda m: m.nn.Linear(4, 3))
    e_log, t_log = [], []
    e_mod.register_full_backward_pre_hook(lambda mod, go: (go[0] * -2,))
    t_mod.register_full_backward_pre_hook(lambda mod, go: (go[0] * -2,))
    e_mod.register_full_backward_hook(recorder(e_log))
    t_mod.register_full_backward_hook(recorder(t_log))
    (e_x,), (t_x,) = tensors([rand(2, 4)], [True])
    run_both(e_mod, t_mod, [e_x], [t_x], rand(2, 3, seed=1))
    assert_same_tuples(e_log[0][1], t_log[0][1])
    assert_same_tuples(e_log[0][0], t_log[0][0])
    assert_same(e_x.grad, t_x.grad, 1e-5, 1e-6)
    assert_same(e_mod.weight.grad, t_mod.weight.grad, 1e-5, 1e-6)
    assert_same(e_mod.bias.grad, t_mod.bias.grad, 1e-5, 1e-6)


@pytest.mark.parametrize("m", MODULES)
def test_call_counts_order_prepend_and_removal(m):
    layer = m.nn.Linear(2, 2)
    calls = []
    h1 = layer.register_full_backward_hook(lambda *a: calls.append("a"))
    layer.register_full_backward_hook(lambda *a: calls.append("b"))
    h3 = layer.register_full_backward_hook(lambda *a: calls.append("first"), prepend=True)
    layer.register_full_backward_pre_hook(lambda *a: calls.append("pre"))
    x = m.ones(1, 2, requires_grad=True)
    layer(x).sum().backward()
    layer(x).sum().backward()
    assert calls == ["pre", "first", "a", "b"] * 2
    h1.remove()
    h3.remove()
    h3.remove()
    calls.clear()
    layer(x).sum().backward()
    assert calls == ["pre", "b"]


def test_call_counts_match_torch_with_two_calls():
    counts = {}
    for m in MODULES:
        layer = m.nn.Linear(2, 2)
        log = []
        layer.register_full_backward_hook(lambda *a, log=log: log.append(1))
        x = m.ones(1, 2, requires_grad=True)
        (layer(x) + layer(x * 2)).sum().backward()
        with m.no_grad():
            layer(x)
        counts[m.__name__] = len(log)
    assert counts["ember"] == counts["torch"] == 2


def test_no_input_requires_grad_warns_and_calls_hook():
    logs = {}
    for m in MODULES:
        layer = m.nn.Linear(2, 2)
        log = []
        layer.register_full_backward_hook(lambda mod, gi, go, log=log: log.append((gi, go)))
        x = m.ones(1, 2)
        with pytest.warns(UserWarning, match="Full backward hook is firing"):
            layer(x).sum().backward()
        logs[m.__name__] = log
    assert len(logs["ember"]) == len(logs["torch"]) == 1
    assert logs["ember"][0][0] == (None,)
    assert_same_tuples(logs["ember"][0][1], logs["torch"][0][1])


@pytest.mark.parametrize("m", MODULES)
def test_no_input_requires_grad_hook_must_return_none(m):
    layer = m.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda mod, gi, go: (m.ones(1, 2),))
    firing = pytest.warns(UserWarning, match="Full backward hook is firing")
    with firing, pytest.raises(RuntimeError, match="should always return None"):
        layer(m.ones(1, 2)).sum().backward()


@pytest.mark.parametrize("m", MODULES)
def test_wrong_number_of_grads_errors(m):
    layer = m.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    x = m.ones(1, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(x).sum().backward()
    layer = m.nn.Linear(2, 2)
    layer.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 2, but expected 1"):
        layer(x).sum().backward()


@pytest.mark.parametrize("m", MODULES)
def test_non_tensor_output_warns(m):
    layer = classes(m)[2]()
    layer.register_full_backward_hook(lambda *a: None)
    with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple"):
        layer(m.ones(2, requires_grad=True))


@pytest.mark.parametrize("m", MODULES)
def test_mixing_regular_and_full_hooks_errors(m):
    layer = m.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        layer.register_backward_hook(lambda *a: None)
    layer = m.nn.Linear(2, 2)
    if m is ember:
        with pytest.warns(FutureWarning, match="register_full_backward_hook"):
            layer.register_backward_hook(lambda *a: None)
    else:
        layer.register_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        layer.register_full_backward_hook(lambda *a: None)


def test_deprecated_backward_hook_runs_as_full_hook():
    layer = ember.nn.Linear(3, 2)
    log = []
    with pytest.warns(FutureWarning):
        layer.register_backward_hook(lambda mod, gi, go: log.append((gi, go)))
    x = ember.ones(4, 3, requires_grad=True)
    layer(x).sum().backward()
    (grad_input,), (grad_output,) = log[0]
    assert_same(grad_input, torch.tensor(x.grad.data))
    assert grad_output.shape == (4, 2)


def test_double_backward_through_hooked_module():
    results = []
    for m in (torch, ember):
        torch.manual_seed(0)
        layer = m.nn.Sequential(m.nn.Linear(3, 3), m.nn.Tanh())
        if m is torch:
            weights = state_dict_to_ember(layer.state_dict())
        else:
            layer.load_state_dict(weights)
        log = []
        layer.register_full_backward_hook(lambda mod, gi, go, log=log: log.append(1))
        x = m.tensor(rand(2, 3), requires_grad=True)
        (g,) = m.autograd.grad(layer(x).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), x)
        results.append((g.detach(), gg, len(log)))
    assert_same(results[1][0], results[0][0], 1e-5, 1e-6)
    assert_same(results[1][1], results[0][1], 1e-4, 1e-5)
    assert results[0][2] == results[1][2]


def test_forward_hooks_with_kwargs_and_backward_hooks_together():
    layer = ember.nn.Linear(2, 2)
    seen = []
    layer.register_forward_pre_hook(
        lambda mod, args, kwargs: ((args[0] * 2,), kwargs), with_kwargs=True
    )
    layer.register_forward_hook(
        lambda mod, args, kwargs, out: seen.append(kwargs), with_kwargs=True
    )
    layer.register_full_backward_hook(lambda mod, gi, go: seen.append(len(gi)))
    x = ember.ones(1, 2, requires_grad=True)
    layer(x).sum().backward()
    assert seen == [{}, 1]
    expected = 2 * layer.weight.data.sum(0)
    np.testing.assert_allclose(x.grad.data[0], expected, rtol=1e-6)


def test_unused_input_gets_zero_grad_input_as_torch():
    e_mod, t_mod = build(lambda m: classes(m)[1]())
    e_log, t_log = [], []
    e_mod.register_full_backward_hook(recorder(e_log))
    t_mod.register_full_backward_hook(recorder(t_log))
    e_in, t_in = tensors([rand(2, 3), rand(2, 3, seed=1)], [True, True])
    run_both(e_mod, t_mod, e_in, t_in, rand(2, 3, seed=2))
    assert_same_tuples(e_log[0][0], t_log[0][0])
    assert_same(e_in[1].grad, t_in[1].grad)  # PyTorch materialises it as zeros


@pytest.mark.parametrize("where", ["output", "input"])
def test_inplace_on_hooked_tensors(where):
    # PyTorch forbids these in-place ops; Ember records them after the hook node, giving the
    # gradients PyTorch gives when the tensor is cloned first.
    logs = []
    for m in (torch, ember):
        torch.manual_seed(0)
        relu = m.nn.ReLU(inplace=(m is ember and where == "input"))
        layer = m.nn.Sequential(m.nn.Linear(3, 3), relu) if where == "input" else m.nn.Linear(3, 3)
        if m is torch:
            weights = state_dict_to_ember(layer.state_dict())
        else:
            layer.load_state_dict(weights)
        hooked = layer[1] if where == "input" else layer
        log = []
        hooked.register_full_backward_hook(lambda mod, gi, go, log=log: log.append((gi, go)))
        x = m.tensor(rand(2, 3), requires_grad=True)
        y = layer(x)
        if where == "output":
            y = y.add_(1) if m is ember else y.clone().add_(1)
        (y * m.tensor(rand(2, 3, seed=1))).sum().backward()
        logs.append((log, x.grad))
    (t_log, t_grad), (e_log, e_grad) = logs
    assert len(e_log) == len(t_log) == 1
    assert_same_tuples(e_log[0][0], t_log[0][0])
    assert_same_tuples(e_log[0][1], t_log[0][1])
    assert_same(e_grad, t_grad, 1e-5, 1e-6)


@pytest.mark.parametrize("m", MODULES)
def test_forward_hook_always_call_runs_when_forward_raises(m):
    layer = m.nn.Linear(2, 2)
    calls = []
    layer.register_forward_hook(lambda mod, args, out: calls.append(("plain", out)))
    layer.register_forward_hook(
        lambda mod, args, out: calls.append(("always", out)), always_call=True
    )
    layer.register_forward_hook(
        lambda mod, args, kwargs, out: calls.append(("kw", len(args), out)),
        always_call=True,
        with_kwargs=True,
    )
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        layer(m.ones(1, 3))
    assert calls == [("always", None), ("kw", 1, None)]
    calls.clear()
    layer(m.ones(1, 2))
    assert [c[0] for c in calls] == ["plain", "always", "kw"]  # once each when forward works


@pytest.mark.parametrize("m", MODULES)
def test_failing_always_call_hook_is_silenced_with_a_warning(m):
    layer = m.nn.Linear(2, 2)
    handle = layer.register_forward_hook(lambda *a: 1 / 0, always_call=True)
    silenced = pytest.warns(UserWarning, match="always_call=True`` raised an exception")
    with silenced, pytest.raises(RuntimeError, match="cannot be multiplied"):
        layer(m.ones(1, 3))
    handle.remove()
    assert not layer._forward_hooks_always_called


def test_integer_input_gets_materialised_zero_grad_as_torch():
    logs = []
    for m in MODULES:

        class Pick(m.nn.Module):
            def forward(self, x, idx):
                return x[idx] * 2

        mod = Pick()
        log = []
        mod.register_full_backward_hook(lambda md, gi, go, log=log: log.append(gi))
        mod(m.ones(4, requires_grad=True), m.tensor([0, 2])).sum().backward()
        logs.append(log)
    assert len(logs[0]) == len(logs[1]) == 1
    assert_same_tuples(logs[0][0], logs[1][0])
