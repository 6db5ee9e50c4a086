"""ember.autograd.functional against torch.autograd.functional on the same functions."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TF

import ember
import ember.autograd.functional as EF
from tests.helpers import assert_same, check_gradcheck


def arrays(*shapes, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s).astype(dtype) for s in shapes]


def both(arrs, requires_grad=False):
    """The same arrays as an ember and a torch tuple."""
    e = tuple(ember.tensor(a, requires_grad=requires_grad) for a in arrs)
    t = tuple(torch.tensor(a, requires_grad=requires_grad) for a in arrs)
    return e, t


def compare(e, t, rtol=1e-4, atol=1e-5):
    """Compare nested results (Tensor / tuple) with the same nesting."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert_same(e, t, rtol, atol)
        return
    assert isinstance(e, tuple) and isinstance(t, tuple)
    assert len(e) == len(t)
    for ee, tt in zip(e, t):
        compare(ee, tt, rtol, atol)


# Functions written once for both libraries: f(m, *xs).
def poly(m, x):
    return x**3 - 2 * x * x + x


def tanh_exp(m, x):
    return m.tanh(m.exp(x) * 0.5).sum()


def matmul_chain(m, x, w):
    return m.tanh(x @ w)


def two_out(m, x, y):
    return x * y, (m.exp(x) * y.sum()).sum()


def reducer(m, x, y):
    return (x**2 * y).sum() + (m.tanh(x) ** 3).sum()


def unused_second(m, x, y):
    return x * 2.0


CASES = [
    (poly, [(3,)]),
    (poly, [(2, 3)]),
    (tanh_exp, [(4,)]),
    (matmul_chain, [(2, 3), (3, 4)]),
    (two_out, [(3,), (3,)]),
]


def call(fn, m, single):
    if single:
        return lambda x: fn(m, x)
    return lambda *xs: fn(m, *xs)


def pack(xs):
    return xs[0] if len(xs) == 1 else xs


@pytest.mark.parametrize(("fn", "shapes"), CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp(fn, shapes, create_graph):
    arrs = arrays(*shapes)
    e_in, t_in = both(arrs)
    with torch.no_grad():
        t_out_probe = fn(torch, *t_in)
    outs = t_out_probe if isinstance(t_out_probe, tuple) else (t_out_probe,)
    v_arrs = arrays(*[tuple(o.shape) for o in outs], seed=1)
    e_v, t_v = both(v_arrs)
    single = len(shapes) == 1
    e = EF.vjp(call(fn, ember, single), pack(e_in), pack(e_v), create_graph=create_graph)
    t = TF.vjp(call(fn, torch, single), pack(t_in), pack(t_v), create_graph=create_graph)
    compare(e, t)


@pytest.mark.parametrize(("fn", "shapes"), CASES)
def test_jvp(fn, shapes):
    arrs = arrays(*shapes)
    e_in, t_in = both(arrs)
    e_v, t_v = both(arrays(*shapes, seed=2))
    single = len(shapes) == 1
    e = EF.jvp(call(fn, ember, single), pack(e_in), pack(e_v))
    t = TF.jvp(call(fn, torch, single), pack(t_in), pack(t_v))
    compare(e, t)


@pytest.mark.parametrize(("fn", "shapes"), CASES)
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian(fn, shapes, strategy):
    e_in, t_in = both(arrays(*shapes))
    single = len(shapes) == 1
    e = EF.jacobian(call(fn, ember, single), pack(e_in), strategy=strategy)
    t = TF.jacobian(call(fn, torch, single), pack(t_in))
    compare(e, t)


def test_jacobian_vectorize_same_values():
    e_in, t_in = both(arrays((2, 3), (3, 4)))
    e = EF.jacobian(lambda x, w: matmul_chain(ember, x, w), e_in, vectorize=True)
    t = TF.jacobian(lambda x, w: matmul_chain(torch, x, w), t_in, vectorize=True)
    compare(e, t)


@pytest.mark.parametrize(
    ("fn", "shapes"), [(tanh_exp, [(4,)]), (reducer, [(3,), (3,)]), (reducer, [(2, 2), (2,)])]
)
def test_hessian(fn, shapes):
    e_in, t_in = both(arrays(*shapes))
    single = len(shapes) == 1
    e = EF.hessian(call(fn, ember, single), pack(e_in))
    t = TF.hessian(call(fn, torch, single), pack(t_in))
    compare(e, t)


@pytest.mark.parametrize("op", ["vhp", "hvp"])
@pytest.mark.parametrize(("fn", "shapes"), [(tanh_exp, [(4,)]), (reducer, [(3,), (3,)])])
def test_vhp_hvp(op, fn, shapes):
    e_in, t_in = both(arrays(*shapes))
    e_v, t_v = both(arrays(*shapes, seed=3))
    single = len(shapes) == 1
    e = getattr(EF, op)(call(fn, ember, single), pack(e_in), pack(e_v))
    t = getattr(TF, op)(call(fn, torch, single), pack(t_in), pack(t_v))
    compare(e, t)


def test_v_none_single_element():
    x = np.array([0.7], dtype="float32")
    for name in ["vjp", "jvp", "vhp", "hvp"]:
        e = getattr(EF, name)(lambda x: (x**3).sum(), ember.tensor(x))
        t = getattr(TF, name)(lambda x: (x**3).sum(), torch.tensor(x))
        compare(e, t)


def test_results_detached_without_create_graph():
    x = ember.tensor(arrays((3,))[0], requires_grad=True)
    out, g = EF.vjp(lambda x: (x**3).sum(), x)
    assert not out.requires_grad and not g.requires_grad
    jac = EF.jacobian(lambda x: x**2, x)
    assert not jac.requires_grad


@pytest.mark.parametrize("name", ["vjp", "jvp", "hvp", "vhp", "jacobian", "hessian"])
def test_create_graph_differentiable(name):
    """The result of create_graph=True differentiates back to the inputs as torch's does."""
    arr = arrays((3,))[0]
    v_arr = arrays((3,), seed=4)[0]
    grads = []
    for m, F in ((ember, EF), (torch, TF)):
        x = m.tensor(arr, requires_grad=True)
        v = m.tensor(v_arr)

        def f(x, m=m):
            return (m.tanh(x) * x * x).sum() if name in ("hvp", "vhp", "hessian") else m.sin(x) * x

        if name in ("jacobian", "hessian"):
            res = getattr(F, name)(f, x, create_graph=True)
        elif name == "vjp":
            res = F.vjp(f, x, v, create_graph=True)[1]
        else:
            res = getattr(F, name)(f, x, v, create_graph=True)[1]
        assert res.requires_grad
        (g,) = m.autograd.grad((res * res).sum(), x)
        grads.append(g)
    assert_same(grads[0], grads[1], 1e-4, 1e-5)


def test_independent_output_gives_zeros():
    e_in, t_in = both(arrays((3,), (2,)))
    compare(
        EF.jacobian(lambda x, y: unused_second(ember, x, y), e_in),
        TF.jacobian(lambda x, y: unused_second(torch, x, y), t_in),
    )
    e_v, t_v = both(arrays((3,), seed=5))
    compare(
        EF.vjp(lambda x, y: unused_second(ember, x, y), e_in, e_v[0]),
        TF.vjp(lambda x, y: unused_second(torch, x, y), t_in, t_v[0]),
    )
    # a constant output: zeros too
    compare(
        EF.jacobian(lambda x: ember.ones(2), e_in[0]),
        TF.jacobian(lambda x: torch.ones(2), t_in[0]),
    )


def test_captured_input_is_not_the_argument():
    # the function closes over x: the derivative is only through the argument, as in torch
    e_x, t_x = both(arrays((3,)), requires_grad=True)
    compare(
        EF.jacobian(lambda y: y * e_x[0], e_x[0]),
        TF.jacobian(lambda y: y * t_x[0], t_x[0]),
    )


def test_float64():
    e_in, t_in = both(arrays((3,), dtype="float64"))
    compare(
        EF.hessian(lambda x: tanh_exp(ember, x), e_in[0]),
        TF.hessian(lambda x: tanh_exp(torch, x), t_in[0]),
    )


# -- errors ------------------------------------------------------------------------------


def test_strict_independent_input():
    x, y = ember.ones(3), ember.ones(2)
    with pytest.raises(
        RuntimeError, match=r"independent of input 1\. This is not allowed in strict"
    ):
        EF.vjp(lambda x, y: x * 2.0, (x, y), ember.ones(3), strict=True)
    with pytest.raises(
        RuntimeError, match="Output 0 of the user-provided function is independent of input 1"
    ):
        EF.jacobian(lambda x, y: x * 2.0, (x, y), strict=True)
    with pytest.raises(
        RuntimeError, match="Output 0 of the user-provided function does not require"
    ):
        EF.jacobian(lambda x: ember.ones(2), x, strict=True)
    with pytest.raises(
        RuntimeError,
        match="jacobian of the user-provided function with respect to input 0 is independent",
    ):
        EF.hessian(lambda x: (x * 2.0).sum(), x, strict=True)
    with pytest.raises(
        RuntimeError, match=r"function is independent of input 1\. This is not allowed"
    ):
        EF.jvp(lambda x, y: x * x, (x, y), (ember.ones(3), ember.ones(2)), strict=True)


def test_strict_matches_torch_messages():
    for F, m in ((EF, ember), (TF, torch)):
        x, y = m.ones(3), m.ones(2)
        with pytest.raises(
            RuntimeError, match=r"independent of input 1\. This is not allowed in strict mode"
        ):
            F.vjp(lambda x, y: x * 2.0, (x, y), m.ones(3), strict=True)


def test_v_errors():
    x = ember.ones(3)
    with pytest.raises(
        RuntimeError, match=r"v has invalid size: should be .*\[3\]\) but got .*\[2\]\)"
    ):
        EF.vjp(lambda x: x * 2.0, x, ember.ones(2))
    with pytest.raises(RuntimeError, match="Entry 1 in v has invalid size"):
        EF.jvp(lambda x, y: x * y, (x, x), (ember.ones(3), ember.ones(4)))
    with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1"):
        EF.jvp(lambda x, y: x * y, (x, x), (ember.ones(3),))
    with pytest.raises(RuntimeError, match="The given v should contain a single Tensor"):
        EF.vjp(lambda x: x * 2.0, x, (ember.ones(3), ember.ones(3)))
    with pytest.raises(
        RuntimeError, match="v can only be None if the user-provided function returns"
    ):
        EF.vjp(lambda x: x * 2.0, x)
    with pytest.raises(RuntimeError, match="v can only be None if the input to the user-provided"):
        EF.jvp(lambda x: x * 2.0, x)
    with pytest.raises(RuntimeError, match="v can only be None if the input to the user-provided"):
        EF.hvp(lambda x: x.sum(), x)


def test_hessian_output_errors():
    x = ember.ones(3)
    with pytest.raises(
        RuntimeError, match="The function given to hessian should return a single Tensor"
    ):
        EF.hessian(lambda x: (x.sum(), x.sum()), x)
    with pytest.raises(RuntimeError, match="hessian should contain a single element"):
        EF.hessian(lambda x: x * x, x)
    with pytest.raises(
        RuntimeError, match="The function given to vhp should return a single Tensor"
    ):
        EF.vhp(lambda x: (x.sum(), x.sum()), x, x)
    with pytest.raises(
        RuntimeError, match="The Tensor returned by the function given to hvp should contain"
    ):
        EF.hvp(lambda x: x * x, x, x)


def test_type_errors():
    with pytest.raises(
        TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple"
    ):
        EF.jacobian(lambda x: x, [ember.ones(2)])
    with pytest.raises(TypeError, match="value at index 1 has type"):
        EF.vjp(lambda x, y: x, (ember.ones(2), 3.0), ember.ones(2))
    with pytest.raises(TypeError, match="outputs of the user-provided function given to vjp"):
        EF.vjp(lambda x: 3.0, ember.ones(2), ember.ones(2))


def test_strategy_errors():
    x = ember.ones(2)
    with pytest.raises(AssertionError, match="Expected strategy to be either"):
        EF.jacobian(lambda x: x, x, strategy="sideways")
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        EF.jacobian(lambda x: x, x, strategy="forward-mode", create_graph=True)
    with pytest.raises(RuntimeError, match="`strict=True` and `vectorized=True`"):
        EF.jacobian(lambda x: x * x, x, vectorize=True, strict=True)
    with pytest.raises(AssertionError, match="Expected strategy to be either"):
        EF.hessian(lambda x: x.sum(), x, outer_jacobian_strategy="nope")


def test_gradcheck_through_create_graph_results():
    # create_graph=True results are themselves correctly differentiable (float64 gradcheck)
    check_gradcheck(
        lambda m, x: EF.jacobian(lambda z: m.tanh(z) * z, x, create_graph=True),
        (3,),
        second_order=False,
    )
    check_gradcheck(
        lambda m, x: EF.hvp(lambda z: (m.exp(z) * z).sum(), x, x * 0.5, create_graph=True)[1],
        (3,),
        second_order=False,
    )
    check_gradcheck(
        lambda m, x, v: EF.vjp(lambda z: m.sin(z) * z, x, v, create_graph=True)[1], (3,), (3,)
    )


def test_zero_dim_shapes():
    a = np.float32(0.7)
    for name, f in [
        ("jacobian", lambda x: x * x),
        ("hessian", lambda x: x**3),
    ]:
        compare(getattr(EF, name)(f, ember.tensor(a)), getattr(TF, name)(f, torch.tensor(a)))


def test_empty_output_gives_empty_jacobian():
    # torch fails here (stack of an empty list); Ember returns the (0, *input) zeros
    jac = EF.jacobian(lambda x: x[:0] * 2.0, ember.ones(2, 3))
    assert tuple(jac.shape) == (0, 3, 2, 3)
