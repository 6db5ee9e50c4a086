"""ember.func (grad, vjp, jacrev, hessian, functional_call) against torch.func."""

import re

import numpy as np
import pytest
import torch
import torch.func as tf

import ember
import ember.func as ef
from ember import nn
from ember.nn.utils import stateless
from tests.helpers import assert_same


def arrays(*shapes, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s).astype(dtype) for s in shapes]


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
    else:
        assert type(e) is type(t), (type(e), type(t))
        assert len(e) == len(t)
        for ee, tt in zip(e, t):
            compare(ee, tt, rtol, atol)


def scalar_fn(m, x, y):
    return (m.tanh(x) * y).sum() + (x**3).sum()


def vec_fn(m, x, y):
    return m.sin(x) * y.sum() + x * x


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1,), -1])
def test_grad(argnums):
    e, t = both(arrays((3,), (3,)))
    compare(
        ef.grad(lambda x, y: scalar_fn(ember, x, y), argnums=argnums)(*e),
        tf.grad(lambda x, y: scalar_fn(torch, x, y), argnums=argnums)(*t),
    )


def test_grad_and_value_has_aux():
    e, t = both(arrays((2, 3), (3,)))

    def f(m):
        def g(x, y):
            out = scalar_fn(m, x, y)
            return out, {"double": out * 2, "x": x}

        return g

    compare(
        ef.grad_and_value(f(ember), has_aux=True)(*e), tf.grad_and_value(f(torch), has_aux=True)(*t)
    )
    compare(
        ef.grad(f(ember), argnums=(0, 1), has_aux=True)(*e),
        tf.grad(f(torch), argnums=(0, 1), has_aux=True)(*t),
    )


def test_grad_pytree_argument_and_kwargs():
    e, t = both(arrays((3,), (2,), (3,)))

    def f(m):
        return lambda params, x, scale=1.0: (
            ((params["w"] * x).sum() * params["b"][0] + params["b"].sum()) * scale
        )

    compare(
        ef.grad(f(ember))({"w": e[0], "b": e[1]}, e[2], scale=2.0),
        tf.grad(f(torch))({"w": t[0], "b": t[1]}, t[2], scale=2.0),
    )
    compare(
        ef.grad(lambda p: (p[0] * p[1][0]).sum())((e[0], [e[2]])),
        tf.grad(lambda p: (p[0] * p[1][0]).sum())((t[0], [t[2]])),
    )


def test_grad_unused_input_is_zero():
    e, t = both(arrays((3,), (2,)))
    compare(
        ef.grad(lambda x, y: x.sum(), argnums=1)(*e), tf.grad(lambda x, y: x.sum(), argnums=1)(*t)
    )


def test_grad_of_grad():
    e, t = both(arrays((4,)))
    compare(
        ef.grad(lambda x: ef.grad(lambda z: (ember.tanh(z) ** 2).sum())(x).sum())(e[0]),
        tf.grad(lambda x: tf.grad(lambda z: (torch.tanh(z) ** 2).sum())(x).sum())(t[0]),
    )


def test_grad_composes_with_autograd():
    e, t = both(arrays((3,)), requires_grad=True)
    ge = ef.grad(lambda x: (x**3).sum())(e[0])
    gt = tf.grad(lambda x: (x**3).sum())(t[0])
    assert ge.requires_grad and gt.requires_grad
    compare(ember.autograd.grad(ge.sum(), e[0]), torch.autograd.grad(gt.sum(), t[0]))
    # plain inputs: a detached result
    assert not ef.grad(lambda x: (x**3).sum())(ember.ones(3)).requires_grad


def test_vjp():
    e, t = both(arrays((3,), (3,)))
    ce, ct = both(arrays((3,), seed=1))
    out_e, fn_e = ef.vjp(lambda x, y: vec_fn(ember, x, y), *e)
    out_t, fn_t = tf.vjp(lambda x, y: vec_fn(torch, x, y), *t)
    compare(out_e, out_t)
    compare(fn_e(ce[0]), fn_t(ct[0]))
    compare(fn_e(ce[0] * 2), fn_t(ct[0] * 2))  # callable more than once


def test_vjp_tuple_output_aux_and_unused():
    e, t = both(arrays((3,), (2,)))
    ce, ct = both(arrays((3,), (), seed=2))

    def f(m):
        return lambda x, y: ((x * 2, (x**2).sum()), x.mean())

    out_e, fn_e, aux_e = ef.vjp(f(ember), *e, has_aux=True)
    out_t, fn_t, aux_t = tf.vjp(f(torch), *t, has_aux=True)
    compare(out_e, out_t)
    compare(aux_e, aux_t)
    compare(fn_e((ce[0], ce[1])), fn_t((ct[0], ct[1])))


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_jacrev(argnums):
    e, t = both(arrays((3,), (2, 3)))
    compare(
        ef.jacrev(lambda x, y: vec_fn(ember, x, y) @ y.T, argnums=argnums)(*e),
        tf.jacrev(lambda x, y: vec_fn(torch, x, y) @ y.T, argnums=argnums)(*t),
    )


def test_jacrev_tuple_output_and_aux():
    e, t = both(arrays((3,)))

    def f(m):
        return lambda x: ((m.exp(x), x.sum() * x[0]), x * 3)

    compare(ef.jacrev(f(ember), has_aux=True)(e[0]), tf.jacrev(f(torch), has_aux=True)(t[0]))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_hessian(argnums):
    e, t = both(arrays((3,), (3,)))
    compare(
        ef.hessian(lambda x, y: scalar_fn(ember, x, y), argnums=argnums)(*e),
        tf.hessian(lambda x, y: scalar_fn(torch, x, y), argnums=argnums)(*t),
    )


def test_errors_match_torch():
    x = ember.ones(3)
    with pytest.raises(
        RuntimeError,
        match="Expected f\\(\\*args\\) to return a scalar Tensor, got tensor with 1 dims",
    ):
        ef.grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="Got argnum=1, but only 1 positional inputs"):
        ef.grad(lambda x: x.sum(), argnums=1)(x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        ef.grad(lambda x: x.sum(), argnums=1.0)(x)
    with pytest.raises(RuntimeError, match="argnums must be non-empty"):
        ef.grad(lambda x: x.sum(), argnums=())(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique"):
        ef.jacrev(lambda x: x, argnums=(0, 0))(x)
    with pytest.raises(
        RuntimeError, match="should be a tuple: \\(output, aux\\) if has_aux is True"
    ):
        ef.grad(lambda x: x.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a Tensor, got"):
        ef.grad(lambda x: 3.0)(x)
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
        ef.grad(lambda x: x)(3.0)
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        ef.vjp(lambda x: 3.0, x)
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\] has a shape of"):
        ef.vjp(lambda x: x * 2, x)[1](ember.ones(2))


# -- functional_call -------------------------------------------------------------------------


class MLP:
    @staticmethod
    def make(m):
        if m is ember:
            ember.manual_seed(0)
        else:
            torch.manual_seed(0)
        return m.nn.Sequential(m.nn.Linear(3, 5), m.nn.Tanh(), m.nn.Linear(5, 2))


def mlp_pair():
    t_model = MLP.make(torch)
    e_model = MLP.make(ember)
    e_model.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_model.state_dict().items()})
    return e_model, t_model


def test_functional_call_mlp_matches_torch_and_restores():
    e_model, t_model = mlp_pair()
    new = {
        k: a
        for k, a in zip(
            t_model.state_dict(),
            arrays(*[tuple(v.shape) for v in t_model.state_dict().values()], seed=5),
        )
    }
    e_params = {k: ember.tensor(a, requires_grad=True) for k, a in new.items()}
    t_params = {k: torch.tensor(a, requires_grad=True) for k, a in new.items()}
    (x,) = arrays((4, 3), seed=6)
    e_out = ef.functional_call(e_model, e_params, (ember.tensor(x),))
    t_out = tf.functional_call(t_model, t_params, (torch.tensor(x),))
    compare(e_out, t_out)
    e_grads = ember.autograd.grad(e_out.sum(), list(e_params.values()))
    t_grads = torch.autograd.grad(t_out.sum(), list(t_params.values()))
    compare(tuple(e_grads), tuple(t_grads))
    # the module's own parameters are back and got no gradient
    for (_, p), (_, tp) in zip(e_model.named_parameters(), t_model.named_parameters()):
        assert isinstance(p, nn.Parameter) and p.grad is None
        np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())


def test_functional_call_partial_dicts_and_single_arg():
    e_model, t_model = mlp_pair()
    (w,) = arrays((2, 5), seed=7)
    (x,) = arrays((4, 3), seed=8)
    e_out = ef.functional_call(e_model, ({"2.weight": ember.tensor(w)}, {}), ember.tensor(x))
    t_out = tf.functional_call(t_model, ({"2.weight": torch.tensor(w)}, {}), torch.tensor(x))
    compare(e_out, t_out)


def test_functional_call_grad_over_params():
    e_model, t_model = mlp_pair()
    (x,) = arrays((4, 3), seed=9)
    e_params = {k: v.detach() for k, v in e_model.named_parameters()}
    t_params = {k: v.detach() for k, v in t_model.named_parameters()}

    def loss(m, model, x):
        return lambda p: (m.func.functional_call(model, p, (x,)) ** 2).mean()

    compare(
        ef.grad(loss(ember, e_model, ember.tensor(x)))(e_params),
        tf.grad(loss(torch, t_model, torch.tensor(x)))(t_params),
    )


def test_functional_call_restores_after_exception():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(ember.ones(2))
            self.register_buffer("b", ember.zeros(2))

        def forward(self, x):
            assert self.w is not original_w and self.b is not original_b
            raise ValueError("boom")

    m = Boom()
    original_w, original_b = m.w, m.b
    with pytest.raises(ValueError, match="boom"):
        ef.functional_call(m, {"w": ember.zeros(2), "b": ember.ones(2)}, (ember.ones(2),))
    assert m.w is original_w and m.b is original_b
    assert set(m._parameters) == {"w"} and set(m._buffers) == {"b"}


def test_functional_call_buffers_batchnorm():
    def run(m):
        bn = m.nn.BatchNorm1d(3)
        bufs = {
            "running_mean": m.zeros(3),
            "running_var": m.ones(3),
            "num_batches_tracked": m.tensor(0),
        }
        (x,) = arrays((5, 3), seed=10)
        out = m.func.functional_call(bn, bufs, (m.tensor(x),))
        return out, bufs["running_mean"], bufs["running_var"], bn.running_mean

    compare(run(ember), run(torch))


def test_functional_call_tie_weights_and_strict():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False)
            self.b = nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    m = Tied()
    w = ember.tensor(arrays((2, 2), seed=11)[0])
    x = ember.ones(1, 2)
    out = ef.functional_call(m, {"a.weight": w}, (x,))
    np.testing.assert_allclose(out.numpy(), (x.numpy() @ w.numpy().T) @ w.numpy().T, rtol=1e-6)
    untied = ef.functional_call(m, {"a.weight": w}, (x,), tie_weights=False)
    own = m.a.weight.detach().numpy()
    np.testing.assert_allclose(
        untied.detach().numpy(), (x.numpy() @ w.numpy().T) @ own.T, rtol=1e-6
    )
    with pytest.raises(
        ValueError,
        match=re.escape("multiple values for keys ['a.weight', 'b.weight'], which are tied"),
    ):
        ef.functional_call(m, {"a.weight": w, "b.weight": w * 2}, (x,))
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "Error(s) in reparametrizing for Tied:\n\tUnexpected key(s): 'c'.\n\t"
            "Missing key(s): 'b.weight'."
        ),
    ):
        ef.functional_call(m, {"a.weight": w, "c": w}, (x,), strict=True, tie_weights=False)


def test_functional_call_dict_errors():
    e_model, _ = mlp_pair()
    w = ember.ones(2, 5)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        ef.functional_call(e_model, ({"2.weight": w}, {"2.weight": w}), (ember.ones(1, 3),))
    with pytest.raises(
        ValueError, match="Expected all elements of parameter_and_buffer_dicts to be dictionaries"
    ):
        ef.functional_call(e_model, ({"2.weight": w}, 3), (ember.ones(1, 3),))
    with pytest.raises(ValueError, match="Expected parameter_and_buffer_dicts to be a dict"):
        ef.functional_call(e_model, 3, (ember.ones(1, 3),))


def test_stateless_is_the_same_function():
    assert stateless.functional_call is ef.functional_call


def test_jacrev_edge_shapes():
    (b,) = arrays((2, 3))
    for f in (
        lambda x: x[:0],
        lambda x: {"a": x * 2, "b": x.sum()},
        lambda x: x.sum() * x.sum(),
    ):
        compare(ef.jacrev(f)(ember.tensor(b)), tf.jacrev(f)(torch.tensor(b)))


# -- forward mode: jvp, linearize, jacfwd (computed by reverse mode in Ember) ---------------------
def test_jvp_single_and_multiple_primals():
    e, t = both(arrays((3,), (3,), (3,), (3,), seed=5))
    compare(
        ef.jvp(lambda x, y: vec_fn(ember, x, y), (e[0], e[1]), (e[2], e[3])),
        tf.jvp(lambda x, y: vec_fn(torch, x, y), (t[0], t[1]), (t[2], t[3])),
    )
    compare(
        ef.jvp(lambda x: ember.tanh(x) ** 2, (e[0],), (e[2],)),
        tf.jvp(lambda x: torch.tanh(x) ** 2, (t[0],), (t[2],)),
    )


def test_jvp_pytrees_broadcasting_aux_and_unused_output():
    e, t = both(arrays((2, 3), (3,), (2, 3), (3,), seed=6))

    def f(m):
        def g(pair):
            a, b = pair
            out = {"prod": m.sin(a) * b, "sum": (a @ b).exp(), "const": m.ones(2)}
            return out, {"aux": a.sum()}

        return g

    compare(
        ef.jvp(f(ember), ((e[0], e[1]),), ((e[2], e[3]),), has_aux=True),
        tf.jvp(f(torch), ((t[0], t[1]),), ((t[2], t[3]),), has_aux=True),
    )


def test_jvp_matmul_non_contiguous_and_second_order():
    e, t = both(arrays((4, 3), (4, 2), (4, 3), (4, 2), seed=7))
    compare(
        ef.jvp(lambda a, b: a.T @ b, (e[0][1:], e[1][1:]), (e[2][1:], e[3][1:])),
        tf.jvp(lambda a, b: a.T @ b, (t[0][1:], t[1][1:]), (t[2][1:], t[3][1:])),
    )
    # jvp of grad (forward-over-reverse: a Hessian-vector product)
    compare(
        ef.jvp(ef.grad(lambda x: (ember.sin(x) * x).sum()), (e[0],), (e[2],)),
        tf.jvp(tf.grad(lambda x: (torch.sin(x) * x).sum()), (t[0],), (t[2],)),
    )


def test_jvp_stays_differentiable_with_outer_autograd():
    e, t = both(arrays((3,), (3,), seed=8), requires_grad=True)
    e_out = ef.jvp(lambda x: x**3, (e[0],), (e[1],))[1]
    t_out = tf.jvp(lambda x: x**3, (t[0],), (t[1],))[1]
    compare(e_out, t_out)
    compare(ember.autograd.grad(e_out.sum(), e), torch.autograd.grad(t_out.sum(), t))


def test_jvp_errors_match_torch():
    cases = [
        (
            lambda m, j: j(lambda x: x * 2, [m.ones(3)], [m.ones(3)]),
            "Expected primals to be a tuple",
        ),
        (
            lambda m, j: j(lambda x: x * 2, (m.ones(3),), [m.ones(3)]),
            "Expected primals and tangents to have the same python structure",
        ),
        (
            lambda m, j: j(lambda x: x * 2, (m.ones(3),), (m.ones(2),)),
            r"Tensor is of size \[3\] while the given forward gradient is of size \[2\]",
        ),
        (
            lambda m, j: j(lambda x: m.ones(3), (m.ones(3),), (m.ones(3),), strict=True),
            "The output of f is independent of the inputs. This is not allowed with strict=True",
        ),
        (lambda m, j: j(lambda x: 3, (m.ones(3),), (m.ones(3),)), "return only tensors"),
        (
            lambda m, j: j(lambda x: x, (m.ones(3),), (m.ones(3),), has_aux=True),
            r"output of function f should be a tuple: \(output, aux\)",
        ),
    ]
    for call, message in cases:
        for m, j in ((ember, ef.jvp), (torch, tf.jvp)):
            with pytest.raises(RuntimeError, match=message):
                call(m, j)


def test_jvp_output_independent_of_input_is_zero():
    e, t = both(arrays((3,), (3,)))
    compare(
        ef.jvp(lambda x: ember.ones(3) * 2, (e[0],), (e[1],)),
        tf.jvp(lambda x: torch.ones(3) * 2, (t[0],), (t[1],)),
    )


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_linearize_matches_jvp_and_torch():
    e, t = both(arrays((2, 3), (2, 3), (2, 3), seed=9))

    def f(m):
        return lambda x: (m.sin(x) * x, x.sum(0))

    e_out, e_fn = ef.linearize(f(ember), e[0])
    t_out, t_fn = tf.linearize(f(torch), t[0])
    compare(e_out, t_out)
    for k in (1, 2):  # one graph, several tangents
        compare(e_fn(e[k]), t_fn(t[k]))
    for a, b in zip(e_fn(e[1]), ef.jvp(f(ember), (e[0],), (e[1],))[1]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_linearize_errors_match_torch():
    for m, lin in ((ember, ef.linearize), (torch, tf.linearize)):
        _, fn = lin(lambda x: x.sin(), m.ones(3))
        with pytest.raises(RuntimeError, match=r"tangent:0 with shape .*\[2\].* doesn't match"):
            fn(m.ones(2))
        with pytest.raises(RuntimeError, match=r"tangent:0 with dtype .*float64.* doesn't match"):
            fn(m.ones(3, dtype=m.float64))
        with pytest.raises(RuntimeError, match="to have the same argspec as the primals"):
            fn(m.ones(3), m.ones(3))


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacfwd(argnums):
    e, t = both(arrays((3,), (2,), seed=10))

    def f(m):
        return lambda x, y: m.outer(m.tanh(x), y).reshape(-1)[:4] * x.sum()

    compare(ef.jacfwd(f(ember), argnums)(*e), tf.jacfwd(f(torch), argnums)(*t))


def test_jacfwd_has_aux_equals_jacrev_and_randomness_check():
    e, t = both(arrays((3,), seed=11))

    def f(m):
        return lambda x: (m.exp(x) * x, {"s": x.sum()})

    compare(ef.jacfwd(f(ember), has_aux=True)(e[0]), tf.jacfwd(f(torch), has_aux=True)(t[0]))
    for jac in (ef.jacfwd, tf.jacfwd):
        with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
            jac(lambda x: x, randomness="x")(e[0] if jac is ef.jacfwd else t[0])


def test_functionalize_is_transparent():
    e, t = both(arrays((3,), seed=12))

    def f(m):
        def g(x):
            y = x.clone()
            y.add_(1.0)
            return y * x

        return g

    compare(ef.functionalize(f(ember))(e[0]), tf.functionalize(f(torch))(t[0]))
    assert ef.functionalize(f(ember)).__name__ == "g"
    for fz in (ef.functionalize, tf.functionalize):
        with pytest.raises(RuntimeError, match="received invalid argument for remove=x"):
            fz(f(ember), remove="x")


def test_func_namespace_exports_vmap():
    assert ef.vmap is __import__("ember.func_vmap", fromlist=["vmap"]).vmap
    assert {"vmap", "jvp", "jacfwd", "linearize", "stack_module_state", "functionalize"} <= set(
        ef.__all__
    )


def test_jvp_integer_output_has_zero_tangent():
    e, t = both(arrays((4,), (4,), seed=13))
    compare(
        ef.jvp(lambda x: (x * 2, x.argmax()), (e[0],), (e[1],)),
        tf.jvp(lambda x: (x * 2, x.argmax()), (t[0],), (t[1],)),
    )
