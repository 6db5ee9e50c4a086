"""ember.func.vmap and stack_module_state against torch.func."""

import re

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
from ember import nn
from ember.func import functional_call, grad
from ember.func_vmap import stack_module_state, vmap
from tests.helpers import assert_same


def arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s).astype("float32") for s in shapes]


def both(arrs, requires_grad=False):
    e = [ember.tensor(a, requires_grad=requires_grad) for a in arrs]
    t = [torch.tensor(a, requires_grad=requires_grad) for a in arrs]
    return e, t


def compare(e, t, rtol=1e-4, atol=1e-5):
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert_same(e, t, rtol, atol)
    elif isinstance(t, dict):
        assert isinstance(e, dict) and e.keys() == t.keys()
        for k in t:
            compare(e[k], t[k], rtol, atol)
    elif isinstance(t, (tuple, list)):
        assert isinstance(e, (tuple, list)) and len(e) == len(t)
        assert isinstance(e, tuple) == isinstance(t, tuple)
        for ee, tt in zip(e, t):
            compare(ee, tt, rtol, atol)
    else:
        assert e == t


def check_vmap(fn, shapes, in_dims=0, out_dims=0, seed=0, grad_check=True, **kwargs):
    """vmap(fn(m)) on identical inputs in both libraries; values, dtypes and input gradients."""
    e_in, t_in = both(arrays(*shapes, seed=seed), requires_grad=grad_check)
    e_out = vmap(fn(ember), in_dims, out_dims, **kwargs)(*e_in)
    t_out = tf.vmap(fn(torch), in_dims, out_dims, **kwargs)(*t_in)
    compare(e_out, t_out)
    if grad_check:
        e_flat = e_out if isinstance(e_out, (tuple, list)) else [e_out]
        t_flat = t_out if isinstance(t_out, (tuple, list)) else [t_out]
        rng = np.random.default_rng(seed + 1)
        cts = [rng.standard_normal(tuple(t.shape)).astype("float32") for t in t_flat]
        e_g = ember.autograd.grad(list(e_flat), e_in, [ember.tensor(c) for c in cts])
        t_g = torch.autograd.grad(list(t_flat), t_in, [torch.tensor(c) for c in cts])
        compare(list(e_g), list(t_g))


# -- values and gradients ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shapes", "in_dims"),
    [
        (((4, 3), (4, 3)), 0),
        (((4, 3), (3, 4)), (0, 1)),
        (((4, 3), (3,)), (0, None)),
        (((3, 4), (2, 4, 3)), (-1, 1)),
        (((2, 5, 4), (4,)), (1, None)),
    ],
)
def test_elementwise_in_dims(shapes, in_dims):
    check_vmap(lambda m: lambda x, y: m.tanh(x) * y + x, shapes, in_dims)


@pytest.mark.parametrize(
    ("shapes", "in_dims"),
    [(((5, 2, 3), (5, 3, 4)), 0), (((5, 2, 3), (3, 4)), (0, None)), (((2, 3, 5), (3,)), (2, None))],
)
def test_matmul(shapes, in_dims):
    check_vmap(lambda m: lambda a, b: m.matmul(a, b), shapes, in_dims)


def test_reductions_and_tuple_outputs():
    check_vmap(lambda m: lambda x: (x.sum(), x.mean(0), x.amax(-1)), [(4, 3, 2)])


@pytest.mark.parametrize("out_dims", [1, -1, (0, 1), (1, -2)])
def test_out_dims(out_dims):
    check_vmap(lambda m: lambda x: (x * 2, m.exp(x)), [(3, 4, 2)], 0, out_dims)


def test_out_dims_single_tensor_one_tuple_and_scalar_output():
    check_vmap(lambda m: lambda x: x.sin(), [(3, 4)], 0, (1,))
    check_vmap(lambda m: lambda x: x.sum(), [(3, 4)], 1, -1)


def test_non_contiguous_inputs():
    e, t = both(arrays((7, 6), (5, 4)))

    def f(m):
        return lambda x, y: m.sin(x) @ y

    # transposed + sliced, mapped over dim 1 then over dim 0
    compare(
        vmap(f(ember), (1, None))(e[0].T[1:], e[1]), tf.vmap(f(torch), (1, None))(t[0].T[1:], t[1])
    )
    compare(
        vmap(f(ember), (0, None))(e[0][1:, :5], e[1]),
        tf.vmap(f(torch), (0, None))(t[0][1:, :5], t[1]),
    )


@pytest.mark.parametrize(
    "in_dims", [((0, 1), {"u": 0, "v": None}, None), ((0, 1), {"u": 0, "v": None})]
)
def test_nested_tuple_dict_in_dims(in_dims):
    e, t = both(arrays((4, 3), (3, 4), (4, 3), (2,)))

    def f(m):
        def g(pair, d, scale=2.0):
            a, b = pair
            return a * b + d["u"].sum() * scale + d["v"].mean()

        return g

    args = lambda x: ((x[0], x[1]), {"u": x[2], "v": x[3]}, 2.0)[: len(in_dims)]  # noqa: E731
    compare(vmap(f(ember), in_dims)(*args(e)), tf.vmap(f(torch), in_dims)(*args(t)))


def test_list_inputs_and_prefix_in_dims():
    e, t = both(arrays((2, 3), (2, 3)))

    def f(m):
        return lambda xs: xs[0] * xs[1]

    compare(
        vmap(f(ember), in_dims=(0,))([e[0], e[1]]), tf.vmap(f(torch), in_dims=(0,))([t[0], t[1]])
    )
    compare(
        vmap(f(ember), in_dims=([1, 0],))([e[0].T, e[1]]),
        tf.vmap(f(torch), in_dims=([1, 0],))([t[0].T, t[1]]),
    )


def test_dict_output_and_kwargs_are_not_mapped():
    e, t = both(arrays((3, 4), (4,)))

    def f(m):
        return lambda x, *, bias: {"y": x + bias, "n": m.linalg.vector_norm(x)}

    compare(vmap(f(ember))(e[0], bias=e[1]), tf.vmap(f(torch))(t[0], bias=t[1]))


def test_out_dims_none_for_non_tensor_and_unbatched_outputs():
    e, t = both(arrays((3, 2), (2,)))

    def f(m):
        return lambda x, c: (x * c, c * 2, "tag")

    out_dims = (0, None, None)
    compare(vmap(f(ember), (0, None), out_dims)(*e), tf.vmap(f(torch), (0, None), out_dims)(*t))


def test_namedtuple_output():
    e, t = both(arrays((3, 4)))
    e_out = vmap(lambda x: ember.max(x, 0))(e[0])
    t_out = tf.vmap(lambda x: torch.max(x, 0))(t[0])
    compare(e_out.values, t_out.values)
    compare(e_out.indices, t_out.indices)


def test_nested_vmap():
    check_vmap(
        lambda m: lambda x, y: vmap_of(m)(lambda a, b: a * b.sum())(x, y), [(2, 3, 4), (2, 3, 5)]
    )
    check_vmap(
        lambda m: vmap_of(m)(vmap_of(m)(lambda a, b: m.dot(a, b), (None, 0)), (0, None)),
        [(2, 3, 4), (2, 5, 4)],
    )


def vmap_of(m):
    return vmap if m is ember else tf.vmap


def test_batch_of_size_zero():
    e, t = both(arrays((0, 3), (3, 2)))
    compare(vmap(lambda x, w: x @ w, (0, None))(*e), tf.vmap(lambda x, w: x @ w, (0, None))(*t))
    compare(
        vmap(lambda x: x.sum(), out_dims=-1)(e[0]), tf.vmap(lambda x: x.sum(), out_dims=-1)(t[0])
    )


def test_chunk_size_gives_same_values():
    check_vmap(lambda m: lambda x: m.sigmoid(x) * x, [(5, 3)], chunk_size=2)


def test_item_and_control_flow_work_in_ember():
    e, t = both(arrays((5, 2), seed=4))
    out = vmap(lambda r: r * 2 if r.sum().item() > 0 else r * 0)(e[0])
    assert_same(out, torch.stack([r * 2 if r.sum().item() > 0 else r * 0 for r in t[0]]))


# -- composing with grad and functional_call -----------------------------------------------------
class MLP:
    def __init__(self, m):
        self.net = m.nn.Sequential(m.nn.Linear(4, 8), m.nn.Tanh(), m.nn.Linear(8, 3))


def mlp_pair(seed=0):
    e, t = MLP(ember).net, MLP(torch).net
    rng = np.random.default_rng(seed)
    state = {
        k: rng.standard_normal(tuple(v.shape)).astype("float32") * 0.5
        for k, v in t.state_dict().items()
    }
    t.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    e.load_state_dict({k: ember.tensor(v) for k, v in state.items()})
    return e, t


def test_per_example_gradients_match_torch():
    e_net, t_net = mlp_pair()
    (x,) = arrays((6, 4), seed=3)
    y = np.array([0, 2, 1, 1, 0, 2])

    def loss_fn(m, net):
        def loss(params, xi, yi):
            logits = (
                functional_call(net, params, (xi[None],))
                if m is ember
                else tf.functional_call(net, params, (xi[None],))
            )
            return m.nn.functional.cross_entropy(logits, yi[None])

        return loss

    e_params = {k: v.detach() for k, v in e_net.named_parameters()}
    t_params = {k: v.detach() for k, v in t_net.named_parameters()}
    e_g = vmap(grad(loss_fn(ember, e_net)), in_dims=(None, 0, 0))(
        e_params, ember.tensor(x), ember.tensor(y)
    )
    t_g = tf.vmap(tf.grad(loss_fn(torch, t_net)), in_dims=(None, 0, 0))(
        t_params, torch.tensor(x), torch.tensor(y)
    )
    compare(e_g, t_g)
    # and the per-example gradients average to the batch gradient
    batch = ember.nn.functional.cross_entropy(e_net(ember.tensor(x)), ember.tensor(y))
    batch.backward()
    for name, p in e_net.named_parameters():
        np.testing.assert_allclose(e_g[name].mean(0).numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_model_ensembling():
    pairs = [mlp_pair(seed) for seed in range(3)]
    e_params, e_buffers = stack_module_state([e for e, _ in pairs])
    t_params, t_buffers = tf.stack_module_state([t for _, t in pairs])
    compare(e_params, {k: v.detach() for k, v in t_params.items()})
    assert all(v.requires_grad and v.is_leaf for v in e_params.values())
    assert e_buffers == {} and t_buffers == {}
    e_base, t_base = pairs[0]
    (x,) = arrays((5, 4), seed=7)

    def run(m, base, params, buffers, x):
        call = functional_call if m is ember else tf.functional_call
        fn = (vmap if m is ember else tf.vmap)(
            lambda p, b, xx: call(base, (p, b), (xx,)), in_dims=(0, 0, None)
        )
        return fn(params, buffers, x)

    e_out = run(ember, e_base, e_params, e_buffers, ember.tensor(x))
    t_out = run(torch, t_base, t_params, t_buffers, torch.tensor(x))
    compare(e_out, t_out)
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype("float32")
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    compare({k: v.grad for k, v in e_params.items()}, {k: v.grad for k, v in t_params.items()})


def test_stack_module_state_buffers_and_frozen_params():
    e_models = [nn.BatchNorm1d(3) for _ in range(2)]
    t_models = [torch.nn.BatchNorm1d(3) for _ in range(2)]
    for e, t in zip(e_models, t_models):
        e.weight.requires_grad_(False)
        t.weight.requires_grad_(False)
    e_p, e_b = stack_module_state(e_models)
    t_p, t_b = tf.stack_module_state(t_models)
    assert list(e_p) == list(t_p) and list(e_b) == list(t_b)
    compare(e_b, t_b)
    assert not e_p["weight"].requires_grad and e_p["bias"].requires_grad


def test_stack_module_state_errors():
    with pytest.raises(RuntimeError, match="Expected at least one model, got 0"):
        stack_module_state([])
    with pytest.raises(RuntimeError, match="same training/eval mode"):
        stack_module_state([nn.Linear(2, 2), nn.Linear(2, 2).eval()])
    with pytest.raises(RuntimeError, match="same class"):
        stack_module_state([nn.Linear(2, 2), nn.Bilinear(2, 2, 2)])
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.bias.requires_grad_(False)
    with pytest.raises(
        RuntimeError, match=r"Expected bias from each model to have the same \.requires_grad"
    ):
        stack_module_state([a, b])


# -- randomness ------------------------------------------------------------------------------------
def dropout_rows(randomness):
    x = ember.ones(6, 50)
    return vmap(lambda r: ember.nn.functional.dropout(r, 0.5), randomness=randomness)(x)


def test_randomness_same_gives_identical_draws_and_advances_once():
    ember.manual_seed(0)
    out = dropout_rows("same")
    assert all(ember.equal(out[0], row) for row in out)
    after = ember.rand(3)
    ember.manual_seed(0)
    single = ember.nn.functional.dropout(ember.ones(50), 0.5)
    assert ember.equal(single, out[0])
    assert ember.equal(ember.rand(3), after)
    # torch agrees on the behaviour (rows equal under "same", not under "different")
    t_out = tf.vmap(lambda r: torch.nn.functional.dropout(r, 0.5), randomness="same")(
        torch.ones(6, 50)
    )
    assert all(torch.equal(t_out[0], row) for row in t_out)


@pytest.mark.parametrize("randomness", ["different", "error"])
def test_randomness_different(randomness):
    ember.manual_seed(0)
    out = dropout_rows(randomness)
    assert not all(ember.equal(out[0], row) for row in out[1:])
    t_out = tf.vmap(lambda r: torch.nn.functional.dropout(r, 0.5), randomness="different")(
        torch.ones(6, 50)
    )
    assert not all(torch.equal(t_out[0], row) for row in t_out[1:])


# -- errors: torch's types and messages ----------------------------------------------------------
def errors_of(fn):
    """Run fn with m = ember and m = torch; return both exceptions."""
    caught = []
    for m in (ember, torch):
        with pytest.raises(Exception) as info:
            fn(m)
        caught.append(info.value)
    return caught


ERRORS = [
    (
        lambda m, v: v(lambda a, b: a + b)(m.ones(2, 3), m.ones(3, 3)),
        ValueError,
        r"vmap: Expected all tensors to have the same size in the mapped dimension, "
        r"got sizes \[2, 3\] for the mapped dimension",
    ),
    (
        lambda m, v: v(lambda a: a, in_dims=(0, 0))(m.ones(2)),
        ValueError,
        r"vmap\(<lambda>, in_dims=\(0, 0\), \.\.\.\)\(<inputs>\): "
        "in_dims is not compatible with the structure of `inputs`",
    ),
    (
        lambda m, v: v(lambda a: a[0], in_dims=((0,),))([m.ones(2)]),
        ValueError,
        "in_dims is not compatible with the structure of `inputs`",
    ),
    (
        lambda m, v: v(lambda a: a, in_dims={"a": 0})(m.ones(2)),
        ValueError,
        r"expected `in_dims` to be int or a \(potentially nested\) tuple matching the "
        "structure of inputs, got: <class 'dict'>",
    ),
    (
        lambda m, v: v(lambda a: a, in_dims=(0.5,))(m.ones(2)),
        ValueError,
        r"Got in_dim=0.5 for an input but in_dim must be either an integer dimension or None",
    ),
    (
        lambda m, v: v(lambda a: a, in_dims=(2,))(m.ones(2)),
        ValueError,
        r"Got in_dim=2 for some input, but that input is a Tensor of dimensionality 1 so "
        "expected in_dim to satisfy -1 <= in_dim < 1",
    ),
    (
        lambda m, v: v(lambda a, b: a)(m.ones(2), 3),
        ValueError,
        r"Got in_dim=0 for an input but the input is of type <class 'int'>\. "
        "We cannot vmap over non-Tensor arguments",
    ),
    (
        lambda m, v: v(lambda a: a, in_dims=(None,))(m.ones(2)),
        ValueError,
        "vmap: Expected at least one Tensor to vmap over",
    ),
    (lambda m, v: v(lambda a: a)(), ValueError, r"vmap\(<lambda>\)\(<inputs>\): got no inputs"),
    (
        lambda m, v: v(lambda a: 3)(m.ones(2)),
        ValueError,
        r"vmap\(<lambda>, \.\.\.\): `<lambda>` must only return Tensors, got type "
        r"<class 'int'>\. Did you mean to set out_dims= to None",
    ),
    (
        lambda m, v: v(lambda a: None)(m.ones(2)),
        ValueError,
        "must only return Tensors, got type <class 'NoneType'>",
    ),
    (
        lambda m, v: v(lambda a: a, out_dims=(0, 1))(m.ones(2, 3)),
        ValueError,
        r"out_dims=\(0, 1\)\)\(<inputs>\): "
        "out_dims is not compatible with the structure of `outputs`",
    ),
    (
        lambda m, v: v(lambda a: (a, a), out_dims=(0, "a"))(m.ones(2, 3)),
        ValueError,
        "`out_dims` must be an int, None or a python collection of ints",
    ),
    (
        lambda m, v: v(lambda a: a, randomness="x"),
        RuntimeError,
        "Only allowed values for randomness are 'error', 'different', or 'same'. Got x",
    ),
    (
        lambda m, v: v(lambda a: a, chunk_size=0),
        ValueError,
        r"vmap: chunk_size should be None or greater than 0\. \(got 0\)",
    ),
]


@pytest.mark.parametrize(("call", "err", "message"), ERRORS)
def test_errors_match_torch(call, err, message):
    e_err, t_err = errors_of(lambda m: call(m, vmap if m is ember else tf.vmap))
    for caught in (e_err, t_err):
        assert type(caught) is err, (type(caught), caught)
        assert re.search(message, str(caught)), str(caught)


def test_named_function_in_messages():
    def square(a):
        return 1

    with pytest.raises(
        ValueError, match=r"vmap\(square, \.\.\.\): `square` must only return Tensors"
    ):
        vmap(square)(ember.ones(2))


def test_vmap_gradcheck_second_order():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, dtype=ember.float64, requires_grad=True)

    def f(x, w):
        return vmap(lambda r, v: ember.tanh(r * v).sum() * r, (0, None))(x, w)

    assert ember.autograd.gradcheck(f, (x, w))
    assert ember.autograd.gradgradcheck(f, (x, w))
