"""The gamma family and the top-level special functions (i0, sinc, xlogy) vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import gamma as G
from ember.ops import special_functions as SF
from tests.helpers import assert_same, check_gradcheck, check_op


class _Ops:
    """``m.NAME`` for both libraries: Ember's from the new modules (not wired in yet)."""

    lgamma = staticmethod(G.lgamma)
    digamma = staticmethod(G.digamma)
    polygamma = staticmethod(G.polygamma)
    mvlgamma = staticmethod(G.mvlgamma)
    igamma = staticmethod(G.igamma)
    igammac = staticmethod(G.igammac)
    i0 = staticmethod(SF.i0)
    sinc = staticmethod(SF.sinc)
    xlogy = staticmethod(SF.xlogy)


def ops(m):
    return _Ops if m is ember else torch


# name -> (fn(m, x), low, high): domains where the op and its derivatives are smooth
UNARY = {
    "lgamma": (lambda m, x: ops(m).lgamma(x), 0.2, 4),
    "lgamma_negative": (lambda m, x: ops(m).lgamma(x), -0.9, -0.1),
    "digamma": (lambda m, x: ops(m).digamma(x), 0.2, 4),
    "digamma_negative": (lambda m, x: ops(m).digamma(x), -1.9, -1.1),
    "polygamma0": (lambda m, x: ops(m).polygamma(0, x), 0.3, 4),
    "polygamma1": (lambda m, x: ops(m).polygamma(1, x), 0.3, 4),
    "polygamma2": (lambda m, x: ops(m).polygamma(2, x), 0.5, 4),
    "polygamma3": (lambda m, x: ops(m).polygamma(3, x), 0.5, 4),
    "mvlgamma1": (lambda m, x: ops(m).mvlgamma(x, 1), 0.3, 4),
    "mvlgamma3": (lambda m, x: ops(m).mvlgamma(x, 3), 1.3, 4),
    "i0": (lambda m, x: ops(m).i0(x), -3, 3),
    "sinc": (lambda m, x: ops(m).sinc(x), -2, 2),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name):
    fn, low, high = UNARY[name]
    check_op(fn, (3, 4), low=low, high=high, rtol=2e-4)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_noncontiguous(name):
    fn, low, high = UNARY[name]
    check_op(lambda m, x: fn(m, x.T[1:, ::2]), (6, 4), low=low, high=high, rtol=2e-4)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name):
    fn, low, high = UNARY[name]
    check_gradcheck(fn, (2, 3), low=low, high=high)


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_inputs_give_float32(name, dtype):
    fn = UNARY[name][0]
    if dtype == "bool" and name.startswith("mvlgamma"):  # an error, as PyTorch's
        for m in (ember, torch):
            with pytest.raises(RuntimeError, match="may not be a boolean tensor"):
                fn(m, m.tensor([True, False]))
        return
    values = np.array([1, 2, 3, 5]) if dtype != "bool" else np.array([1, 1, 0, 1])
    if name.endswith("negative") or (dtype == "bool" and name.startswith(("lgamma", "digamma"))):
        values = np.array([1, 2, 3, 4]) if dtype != "bool" else np.array([1, 1, 1, 1])
    check_op(fn, dtype=dtype, inputs=[values.astype(dtype)])


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_float_dtypes(name, dtype):
    fn, low, high = UNARY[name]
    tol = {"float64": 1e-7, "float16": 2e-3, "bfloat16": 2e-2}[dtype]
    check_op(fn, (7,), low=low, high=high, dtype=dtype, rtol=tol, atol=tol, grad=dtype == "float64")


def _values(m, values, dtype="float32"):
    lib = ember if m is ember else torch
    return lib.tensor(values, dtype=getattr(lib, dtype))


POLES = [0.0, -0.0, -1.0, -2.0, 1.0, 2.0, -0.5, -2.5, 1e-30, 30.0, 200.0, float("inf"), np.nan]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lgamma_digamma_poles_and_extremes(dtype):
    for fn in (lambda m, x: ops(m).lgamma(x), lambda m, x: ops(m).digamma(x)):
        e, t = fn(ember, _values(ember, POLES, dtype)), fn(torch, _values(torch, POLES, dtype))
        assert_same(e, t, rtol=1e-5, atol=0)
    e = G.lgamma(_values(ember, [-np.inf], dtype))
    assert_same(e, torch.lgamma(_values(torch, [-np.inf], dtype)))  # +inf, as PyTorch


@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_poles_and_extremes(n):
    values = [0.0, -0.0, 1.0, -0.5, -2.5, 1e-5, 30.0, 200.0, np.nan]
    e = G.polygamma(n, _values(ember, values, "float64"))
    assert_same(e, torch.polygamma(n, _values(torch, values, "float64")), rtol=1e-6, atol=0)


def test_polygamma_second_derivatives_chain():
    x = ember.tensor([0.7, 1.5, 3.0], dtype=ember.float64, requires_grad=True)
    (g,) = ember.autograd.grad(G.lgamma(x).sum(), x, create_graph=True)
    (gg,) = ember.autograd.grad(g.sum(), x, create_graph=True)
    (ggg,) = ember.autograd.grad(gg.sum(), x)
    xt = torch.tensor([0.7, 1.5, 3.0], dtype=torch.float64)
    assert_same(g, torch.digamma(xt), rtol=1e-10)
    assert_same(gg, torch.polygamma(1, xt), rtol=1e-10)
    assert_same(ggg, torch.polygamma(2, xt), rtol=1e-10)


def test_polygamma_errors():
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"polygamma\(n, x\) does not support negative n"):
        G.polygamma(-1, x)
    with pytest.raises(TypeError, match=r"argument 'n' \(position 1\) must be int, not float"):
        G.polygamma(1.5, x)
    with pytest.raises(TypeError, match="must be int"):
        torch.polygamma(1.5, torch.tensor([1.0]))
    # NumPy integers are ints, as for torch
    assert_same(G.polygamma(np.int64(2), x), torch.polygamma(np.int64(2), torch.tensor([1.0, 2.0])))


def test_grad_fn_names():
    x = ember.tensor([1.5], requires_grad=True)
    assert G.digamma(x).grad_fn.name() == "DigammaBackward0"
    assert G.lgamma(x).grad_fn.name() == "LgammaBackward0"


def test_mvlgamma_errors_and_small_inputs():
    with pytest.raises(RuntimeError, match="The input tensor may not be a boolean tensor"):
        G.mvlgamma(ember.tensor([True]), 2)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        G.mvlgamma(ember.tensor([2.0]), 0)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        torch.mvlgamma(torch.tensor([2.0]), 0)
    # no domain check, as PyTorch 2.x: inputs <= (p - 1) / 2 give lgamma's values
    values = [0.2, 1.0, 0.7, 3.5]
    for p in (2, 3):
        assert_same(
            G.mvlgamma(_values(ember, values), p), torch.mvlgamma(_values(torch, values), p)
        )


# -- incomplete gamma ----------------------------------------------------------------------
IGAMMA_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (5,))]


@pytest.mark.parametrize("name", ["igamma", "igammac"])
@pytest.mark.parametrize("shapes", IGAMMA_SHAPES)
def test_igamma_matches_torch(name, shapes):
    # a constant (torch has no derivative in a), x differentiable
    rng = np.random.default_rng(0)
    a = rng.uniform(0.2, 4, shapes[0]).astype(np.float32)

    def fn(m, x):
        return getattr(ops(m), name)(_values(m, a), x)

    check_op(fn, shapes[1], low=0.1, high=5, rtol=2e-4)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_noncontiguous_and_gradcheck(name):
    a = np.linspace(0.5, 3, 4)
    check_op(
        lambda m, x: getattr(ops(m), name)(_values(m, a, "float32"), x.T[1:]),
        (4, 5),
        low=0.2,
        high=4,
    )
    check_gradcheck(
        lambda m, x: getattr(ops(m), name)(_values(m, a, "float64"), x), (3, 4), low=0.2
    )


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_extremes(name):
    a = [0.5, 1.0, 1.0, 3.0, 100.0, 0.5, 2.0]
    x = [0.0, 0.0, np.inf, 1e-5, 100.0, 50.0, np.nan]
    e = getattr(G, name)(_values(ember, a, "float64"), _values(ember, x, "float64"))
    t = getattr(torch, name)(_values(torch, a, "float64"), _values(torch, x, "float64"))
    assert_same(e, t, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_input_derivative_not_implemented(name):
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    out = getattr(G, name)(a, ember.tensor([0.5, 1.5]))
    with pytest.raises(NotImplementedError, match=f"the derivative for '{name}: input' is not"):
        out.sum().backward()
    at = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match=f"the derivative for '{name}: input' is not"):
        getattr(torch, name)(at, torch.tensor([0.5, 1.5])).sum().backward()


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_igamma_errors_and_dtypes(name):
    fn = getattr(G, name)
    with pytest.raises(
        TypeError, match=rf"{name}\(\): argument 'other' \(position 2\) must be Tensor"
    ):
        fn(ember.tensor([1.0]), 2.0)
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' \(position 1\) must be"):
        fn(2.0, ember.tensor([1.0]))
    with pytest.raises(NotImplementedError, match=f"\"{name}_cpu\" not implemented for 'Long'"):
        fn(ember.tensor([1, 2]), ember.tensor([1, 2]))
    with pytest.raises(NotImplementedError, match=f"\"{name}_cpu\" not implemented for 'Long'"):
        getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        fn(ember.ones(3), ember.ones(4))
    # an int and a float tensor promote; float64 stays float64
    e = fn(ember.tensor([1, 2]), ember.tensor([0.5, 1.5], dtype=ember.float64))
    t = getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([0.5, 1.5], dtype=torch.float64))
    assert_same(e, t, rtol=1e-10)


# -- xlogy ---------------------------------------------------------------------------------
BROADCAST = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (5,))]


@pytest.mark.parametrize("shapes", BROADCAST)
def test_xlogy_matches_torch(shapes):
    check_op(lambda m, x, y: ops(m).xlogy(x, y.abs() + 0.1), *shapes)


def test_xlogy_noncontiguous_and_gradcheck():
    check_op(lambda m, x, y: ops(m).xlogy(x.T[1:], y[:, ::2] + 2.5), (5, 3), (2, 10))
    check_gradcheck(lambda m, x, y: ops(m).xlogy(x, y), (2, 3), (3,), low=0.2, high=3)


def test_xlogy_zero_input_and_nan():
    x = [0.0, 0.0, 0.0, 1.0, 2.0, 0.0, -1.0]
    y = [0.0, np.nan, -1.0, np.nan, 0.0, np.inf, 3.0]
    check_op(lambda m, a, b: ops(m).xlogy(a, b), inputs=[np.array(x), np.array(y)], dtype="float64")


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("scalar", [2, 2.5, 0])
def test_xlogy_python_scalars(side, scalar):
    if side == "left":
        check_op(lambda m, y: ops(m).xlogy(scalar, y), (3, 4), low=0.1)
    else:
        check_op(lambda m, x: ops(m).xlogy(x, scalar), (3, 4))


@pytest.mark.parametrize(
    "dtypes", [("int64", "int64"), ("int32", "float64"), ("bool", "int64"), ("float16", "float32")]
)
def test_xlogy_dtypes(dtypes):
    x = _values(ember, [0, 1, 2, 1], dtypes[0]), _values(torch, [0, 1, 2, 1], dtypes[0])
    y = _values(ember, [1, 2, 3, 0], dtypes[1]), _values(torch, [1, 2, 3, 0], dtypes[1])
    assert_same(SF.xlogy(x[0], y[0]), torch.xlogy(x[1], y[1]))
    assert_same(SF.xlogy(x[0], 3), torch.xlogy(x[1], 3), rtol=1e-3)
    assert_same(SF.xlogy(2.5, y[0]), torch.xlogy(2.5, y[1]), rtol=1e-3)


def test_xlogy_half_with_scalar_stays_half():
    for dtype in ("float16", "bfloat16"):
        x = _values(ember, [0.5, 1.0, 2.0], dtype), _values(torch, [0.5, 1.0, 2.0], dtype)
        assert_same(SF.xlogy(x[0], 3), torch.xlogy(x[1], 3), rtol=1e-2)


def test_xlogy_errors():
    with pytest.raises(TypeError, match="xlogy"):
        SF.xlogy(2.0, 3.0)
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        SF.xlogy(ember.ones(3), ember.ones(4))


# -- sinc ----------------------------------------------------------------------------------
def test_sinc_at_zero_value_and_gradient():
    values = np.array([0.0, -0.0, 1.0, -1.0, 0.5, 1e-8, 1e3], dtype=np.float64)
    check_op(lambda m, x: ops(m).sinc(x), inputs=[values], dtype="float64")
    check_gradcheck(lambda m, x: ops(m).sinc(x), inputs=[np.array([0.3, -0.7, 1.3])])


def test_i0_extremes():
    values = [0.0, -0.0, 1.0, -50.0, 80.0, 700.0, 800.0, np.nan]
    assert_same(
        SF.i0(_values(ember, values, "float64")), torch.i0(_values(torch, values, "float64"))
    )
