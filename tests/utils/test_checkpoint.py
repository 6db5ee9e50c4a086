"""ember.utils.checkpoint: recomputation gives the gradients of the plain run."""

import contextlib

import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

import ember
from ember import nn
from ember.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential
from tests.helpers import assert_same


def make_model(dropout=0.5):
    ember.manual_seed(1)
    return nn.Sequential(
        nn.Linear(4, 8),
        nn.Tanh(),
        nn.Dropout(dropout),
        nn.Linear(8, 8),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(8, 3),
    )


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def grads_of(model, run, x_arr, seed=7):
    """Seed, run, backward a weighted sum; return (output, input grad, parameter grads)."""
    model.zero_grad()
    x = ember.tensor(x_arr, requires_grad=True)
    ember.manual_seed(seed)
    out = run(model, x)
    (out * ember.tensor(data(*out.shape, seed=3))).sum().backward()
    return out.detach(), x.grad, [p.grad for p in model.parameters()]


def assert_identical(a, b):
    out_a, gx_a, gp_a = a
    out_b, gx_b, gp_b = b
    np.testing.assert_array_equal(out_a.numpy(), out_b.numpy())
    np.testing.assert_array_equal(gx_a.numpy(), gx_b.numpy())
    assert len(gp_a) == len(gp_b)
    for ga, gb in zip(gp_a, gp_b):
        np.testing.assert_array_equal(ga.numpy(), gb.numpy())


def test_module_with_dropout_matches_plain_run():
    model = make_model()
    x = data(5, 4)
    plain = grads_of(model, lambda m, x: m(x), x)
    ckpt = grads_of(model, lambda m, x: checkpoint(m, x, use_reentrant=False), x)
    assert_identical(plain, ckpt)
    assert (plain[1].numpy() != 0).any()


def test_closure_parameters_accumulate_like_plain_run():
    model = make_model()
    x = data(5, 4)
    plain = grads_of(model, lambda m, x: m(x) * 2.0, x)
    ckpt = grads_of(model, lambda m, x: checkpoint(lambda y: m(y) * 2.0, x), x)
    assert_identical(plain, ckpt)


def test_grads_accumulate_over_two_backwards():
    model = make_model(dropout=0.0)
    x = ember.tensor(data(3, 4), requires_grad=True)
    results = []
    for run in (lambda: model(x), lambda: checkpoint(model, x)):
        model.zero_grad()
        x.grad = None
        run().sum().backward()
        run().sum().backward()
        results.append([p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy()])
    for e, g in zip(*results):
        np.testing.assert_allclose(e, g, rtol=1e-6)


def test_matches_torch_checkpoint():
    e_model = make_model(dropout=0.0)
    torch.manual_seed(0)
    t_model = torch.nn.Sequential(
        torch.nn.Linear(4, 8),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.0),
        torch.nn.Linear(8, 8),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.0),
        torch.nn.Linear(8, 3),
    )
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    x = data(5, 4)
    e_x = ember.tensor(x, requires_grad=True)
    t_x = torch.tensor(x, requires_grad=True)
    e_out = checkpoint(e_model, e_x, use_reentrant=False)
    t_out = tcp.checkpoint(t_model, t_x, use_reentrant=False)
    assert_same(e_out, t_out, 1e-5, 1e-6)
    g = data(5, 3, seed=9)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    assert_same(e_x.grad, t_x.grad, 1e-5, 1e-6)
    for ep, tp in zip(e_model.parameters(), t_model.parameters()):
        assert_same(ep.grad, tp.grad, 1e-5, 1e-6)


def test_function_runs_twice_first_without_grad():
    calls = []

    def f(x, y):
        calls.append(ember.is_grad_enabled())
        return ember.tanh(x) * y

    x = ember.tensor(data(3), requires_grad=True)
    y = ember.tensor(data(3, seed=1), requires_grad=True)
    out = checkpoint(f, x, y, use_reentrant=False)
    assert calls == [False]
    assert out.requires_grad
    gx, gy = ember.autograd.grad(out.sum(), (x, y))
    assert calls == [False, True]
    tx, ty = (
        torch.tensor(data(3), requires_grad=True),
        torch.tensor(data(3, seed=1), requires_grad=True),
    )
    t_gx, t_gy = torch.autograd.grad((torch.tanh(tx) * ty).sum(), (tx, ty))
    assert_same(gx, t_gx, 1e-5, 1e-6)
    assert_same(gy, t_gy, 1e-5, 1e-6)


def test_no_input_requires_grad():
    calls = []

    def f(x):
        calls.append(ember.is_grad_enabled())
        return x * 2.0

    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        out = checkpoint(f, ember.ones(3))
    assert not out.requires_grad and calls == [False]
    with ember.no_grad():  # nothing to warn about under no_grad
        out = checkpoint(f, ember.tensor(data(3), requires_grad=True))
    assert not out.requires_grad


def test_module_parameters_without_input_grad():
    # A module's parameters are inputs of the node: gradients flow with a constant input.
    model = make_model(dropout=0.0)
    x = ember.tensor(data(2, 4))
    out = checkpoint(model, x)
    grads = ember.autograd.grad(out.sum(), list(model.parameters()))
    expected = ember.autograd.grad(model(x).sum(), list(model.parameters()))
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6)


def test_non_tensor_args_kwargs_and_several_outputs():
    def f(x, scale, y=None, *, shift):
        return x * scale + shift, y is None, (x * y).sum(), ember.argmax(x)

    xa, ya = data(4), data(4, seed=1)
    x = ember.tensor(xa, requires_grad=True)
    y = ember.tensor(ya)  # does not require grad
    a, flag, b, idx = checkpoint(f, x, 3.0, y, shift=ember.tensor(0.5), use_reentrant=False)
    assert flag is False and idx.dtype == ember.int64 and not idx.requires_grad
    (gx,) = ember.autograd.grad((a * a).sum() + b, x)
    tx = torch.tensor(xa, requires_grad=True)
    t_out = (tx * 3.0 + 0.5) ** 2
    (t_gx,) = torch.autograd.grad(t_out.sum() + (tx * torch.tensor(ya)).sum(), tx)
    assert_same(gx, t_gx, 1e-5, 1e-6)


def test_only_one_of_several_outputs_used():
    x = ember.tensor(data(3), requires_grad=True)
    _, b = checkpoint(lambda x: (x * 2.0, ember.exp(x)), x)
    (g,) = ember.autograd.grad(b.sum(), x)
    np.testing.assert_allclose(g.numpy(), np.exp(data(3)), rtol=1e-6)


def test_double_backward_through_checkpoint():
    xa = data(4)
    x = ember.tensor(xa, requires_grad=True)
    out = checkpoint(lambda x: ember.tanh(x) * x, x)
    (g,) = ember.autograd.grad(out.sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad((g * g).sum(), x)
    tx = torch.tensor(xa, requires_grad=True)
    (tg,) = torch.autograd.grad((torch.tanh(tx) * tx).sum(), tx, create_graph=True)
    (tgg,) = torch.autograd.grad((tg * tg).sum(), tx)
    assert_same(g, tg, 1e-5, 1e-6)
    assert_same(gg, tgg, 1e-5, 1e-6)


def test_rng_state_restored_after_backward():
    model = make_model()
    x = ember.tensor(data(5, 4), requires_grad=True)
    out = checkpoint(model, x)
    before = ember.get_rng_state().numpy().copy()
    out.sum().backward()
    np.testing.assert_array_equal(before, ember.get_rng_state().numpy())


def test_preserve_rng_state_false_draws_new_masks():
    model = make_model()
    x = data(20, 4)
    plain = grads_of(model, lambda m, x: m(x), x)
    fresh = grads_of(model, lambda m, x: checkpoint(m, x, preserve_rng_state=False), x)
    np.testing.assert_array_equal(plain[0].numpy(), fresh[0].numpy())  # same forward
    assert not np.array_equal(plain[1].numpy(), fresh[1].numpy())  # other masks in backward


def test_context_fn_entered_around_forward_and_recompute():
    log = []

    @contextlib.contextmanager
    def ctx(name):
        log.append(name)
        yield

    x = ember.tensor(data(3), requires_grad=True)
    out = checkpoint(
        lambda x: x * x, x, use_reentrant=False, context_fn=lambda: (ctx("f"), ctx("r"))
    )
    assert log == ["f"]
    out.sum().backward()
    assert log == ["f", "r"]


def test_determinism_check():
    state = {"n": 0}

    def changing(x):
        state["n"] += 1
        return x[: state["n"]] * 2.0

    x = ember.tensor(data(4), requires_grad=True)
    out = checkpoint(changing, x)
    with pytest.raises(CheckpointError, match="different metadata"):
        out.sum().backward()
    state["n"] = 1
    out = checkpoint(changing, x, determinism_check="none")  # x[:2] now, x[:2] again below
    state["n"] = 1
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 0.0, 0.0])


@pytest.mark.parametrize("segments", [1, 2, 3, 4, 5, 6, 7])
def test_checkpoint_sequential_matches_plain(segments):
    model = make_model()
    x = data(5, 4)
    plain = grads_of(model, lambda m, x: m(x), x)
    ckpt = grads_of(model, lambda m, x: checkpoint_sequential(m, segments, x), x)
    assert_identical(plain, ckpt)


def test_checkpoint_sequential_list_and_param_grads_via_grad():
    model = make_model(dropout=0.0)
    x = ember.tensor(data(2, 4))
    out = checkpoint_sequential(list(model), 3, x, use_reentrant=False)
    grads = ember.autograd.grad(out.sum(), list(model.parameters()))
    expected = ember.autograd.grad(model(x).sum(), list(model.parameters()))
    for g, e in zip(grads, expected):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6)


def test_errors():
    model = make_model()
    x = ember.ones(2, 4)
    with pytest.raises(ValueError, match="segments must be between 1 and the number"):
        checkpoint_sequential(model, 0, x)
    with pytest.raises(ValueError, match="segments must be between 1 and the number"):
        checkpoint_sequential(model, 8, x)
    with pytest.raises(TypeError, match="segments must be an int"):
        checkpoint_sequential(model, 2.0, x)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: foo"):
        checkpoint_sequential(model, 2, x, foo=1)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: y"):
        checkpoint(lambda x, y: x, x, use_reentrant=True, y=1)
    with pytest.raises(ValueError, match="Passing `context_fn` or `debug` is only supported"):
        checkpoint(lambda x: x, x, use_reentrant=True, debug=True)
    with pytest.raises(ValueError, match="debug=True is incompatible with non-default context_fn"):
        checkpoint(lambda x: x, x, debug=True, context_fn=lambda: (None, None))
    with pytest.raises(
        ValueError, match=r"determinism_check should be one of \['default', 'none'\]"
    ):
        checkpoint(lambda x: x, x, determinism_check="strict")


def test_torch_errors_match():
    x = torch.ones(2)
    with pytest.raises(ValueError, match="Unexpected keyword arguments: y"):
        tcp.checkpoint(lambda x, y: x, x, use_reentrant=True, y=1)
    with pytest.raises(
        ValueError, match=r"determinism_check should be one of \['default', 'none'\]"
    ):
        tcp.checkpoint(lambda x: x, x, use_reentrant=False, determinism_check="strict")


def test_tensor_kwarg_gets_gradient():
    xa, wa = data(3), data(3, seed=2)
    x = ember.tensor(xa, requires_grad=True)
    w = ember.tensor(wa, requires_grad=True)
    out = checkpoint(lambda x, *, w: ember.tanh(x * w), x, w=w, use_reentrant=False)
    gx, gw = ember.autograd.grad(out.sum(), (x, w))
    tx, tw = torch.tensor(xa, requires_grad=True), torch.tensor(wa, requires_grad=True)
    t_gx, t_gw = torch.autograd.grad(torch.tanh(tx * tw).sum(), (tx, tw))
    assert_same(gx, t_gx, 1e-5, 1e-6)
    assert_same(gw, t_gw, 1e-5, 1e-6)


def test_nested_checkpoint():
    model = make_model()
    x = data(5, 4)
    inner = model[3:6]
    plain = grads_of(model, lambda m, x: m(x), x)

    def outer(y):
        y = model[2](model[1](model[0](y)))
        return model[6](checkpoint(inner, y))

    nested = grads_of(model, lambda m, x: checkpoint(outer, x), x)
    assert_identical(plain, nested)


def test_forward_keeps_one_node_only():
    model = make_model()
    x = ember.tensor(data(2, 4), requires_grad=True)
    out = checkpoint(model, x)
    edges = [e[0] for e in out.grad_fn.next_functions if e is not None]
    # the node links straight to the input and the parameters: no inner graph was recorded
    assert edges[0] is x
    assert [id(e) for e in edges[1:]] == [id(p) for p in model.parameters()]
