"""Activation functions (F.*) and layers (nn.*) against PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check_gradcheck, check_module, check_op

# Every kink and threshold the activations below have, plus a spread of other values.
KINKS = np.array(
    [-6, -3, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 3, 6, 7, 10, 25], dtype=np.float32
)

ACTIVATIONS = {
    "relu": lambda m, x: m.nn.functional.relu(x),
    "relu6": lambda m, x: m.nn.functional.relu6(x),
    "hardtanh": lambda m, x: m.nn.functional.hardtanh(x),
    "hardtanh_bounds": lambda m, x: m.nn.functional.hardtanh(x, -0.5, 2.0),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x),
    "leaky_relu_slope": lambda m, x: m.nn.functional.leaky_relu(x, 0.2),
    "rrelu_eval": lambda m, x: m.nn.functional.rrelu(x),
    "rrelu_eval_bounds": lambda m, x: m.nn.functional.rrelu(x, 0.1, 0.4, training=False),
    "elu": lambda m, x: m.nn.functional.elu(x),
    "elu_alpha": lambda m, x: m.nn.functional.elu(x, 0.5),
    "selu": lambda m, x: m.nn.functional.selu(x),
    "celu": lambda m, x: m.nn.functional.celu(x),
    "celu_alpha": lambda m, x: m.nn.functional.celu(x, 2.0),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "gelu_tanh": lambda m, x: m.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda m, x: m.nn.functional.silu(x),
    "mish": lambda m, x: m.nn.functional.mish(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x),
    "softplus_beta": lambda m, x: m.nn.functional.softplus(x, 2.0, 1.0),
    "softsign": lambda m, x: m.nn.functional.softsign(x),
    "softshrink": lambda m, x: m.nn.functional.softshrink(x),
    "softshrink_lambd": lambda m, x: m.nn.functional.softshrink(x, 1.0),
    "hardshrink": lambda m, x: m.nn.functional.hardshrink(x),
    "hardshrink_lambd": lambda m, x: m.nn.functional.hardshrink(x, 1.0),
    "tanhshrink": lambda m, x: m.nn.functional.tanhshrink(x),
    "sigmoid": lambda m, x: m.nn.functional.sigmoid(x),
    "logsigmoid": lambda m, x: m.nn.functional.logsigmoid(x),
    "hardsigmoid": lambda m, x: m.nn.functional.hardsigmoid(x),
    "tanh": lambda m, x: m.nn.functional.tanh(x),
    "hardswish": lambda m, x: m.nn.functional.hardswish(x),
    "threshold": lambda m, x: m.nn.functional.threshold(x, 1.0, -7.0),
    "glu": lambda m, x: m.nn.functional.glu(x),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_values_and_grads(name):
    check_op(ACTIVATIONS[name], (3, 8), low=-4, high=4)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_kinks(name):
    # Gradients exactly at 0, +-lambd, +-3, 6 and the thresholds are PyTorch's.
    check_op(ACTIVATIONS[name], inputs=[KINKS.reshape(2, 8)])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_noncontiguous(name):
    check_op(lambda m, x: ACTIVATIONS[name](m, x.T[1:]), (6, 5), low=-4, high=4)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_float64(name):
    check_op(ACTIVATIONS[name], (4, 6), dtype="float64", low=-4, high=4, rtol=1e-10, atol=1e-12)


def test_large_inputs_stay_finite():
    big = np.array([[-100.0, -30.0, 30.0, 100.0]], dtype=np.float32)
    for name in ["elu", "selu", "celu", "silu", "mish", "softplus", "logsigmoid", "gelu"]:
        check_op(ACTIVATIONS[name], inputs=[big])


# -- second derivatives -------------------------------------------------------------------------
SMOOTH = ["elu", "selu", "celu_alpha", "gelu", "gelu_tanh", "silu", "mish", "softplus_beta"]
SMOOTH += ["softsign", "tanhshrink", "logsigmoid", "sigmoid", "tanh", "glu"]
PIECEWISE = ["relu", "relu6", "hardtanh_bounds", "leaky_relu_slope", "rrelu_eval", "threshold"]
PIECEWISE += ["hardshrink", "softshrink", "hardsigmoid", "hardswish"]


@pytest.mark.parametrize("name", SMOOTH + PIECEWISE)
def test_gradcheck(name):
    # Away from the kinks (finite differences straddling one would disagree with any rule).
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 0.4, (2, 4)) * rng.choice([-1, 1], (2, 4))
    x = x + rng.choice([-4.5, -1.8, 0.0, 1.8, 4.5], (2, 4))
    check_gradcheck(ACTIVATIONS[name], inputs=[x])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_third_derivative(approximate):
    # GeluBackward's own backward is differentiable: gradgradcheck of the first derivative.
    def first(m, x):
        y = m.nn.functional.gelu(x, approximate=approximate)
        return m.autograd.grad(y.sum(), x, create_graph=True)[0]

    check_gradcheck(first, (3, 3))


def test_silu_third_derivative():
    def first(m, x):
        return m.autograd.grad(m.nn.functional.silu(x).sum(), x, create_graph=True)[0]

    check_gradcheck(first, (3, 3))


def test_second_derivative_matches_torch():
    def second(m, x):
        out = []
        for f in (ACTIVATIONS[n] for n in ["gelu", "gelu_tanh", "silu", "elu", "mish"]):
            (g,) = m.autograd.grad(f(m, x).sum(), x, create_graph=True)
            out.append(g)
        return m.stack(out)

    check_op(second, (3, 4), low=-3, high=3)


# -- PReLU, RReLU (training), GLU ---------------------------------------------------------------
@pytest.mark.parametrize(
    "x_shape, w_shape",
    [((2, 3, 4), (3,)), ((2, 3), (3,)), ((2, 3, 4, 5), (1,)), ((5,), (1,)), ((), (1,)), ((4,), ())],
)
def test_prelu(x_shape, w_shape):
    check_op(lambda m, x, w: m.nn.functional.prelu(x, w), x_shape, w_shape)


def test_prelu_kink_and_gradcheck():
    w = np.array([0.25, -0.5], dtype=np.float32)
    check_op(lambda m, x, w: m.nn.functional.prelu(x, w), inputs=[KINKS.reshape(4, 2, 2), w])
    check_gradcheck(lambda m, x, w: m.nn.functional.prelu(x, w), (2, 3, 2), (3,), low=0.2)


def test_prelu_errors():
    x = ember.randn(2, 4, 3)
    with pytest.raises(RuntimeError, match="Found parameter numbers = 3 and channel size = 4"):
        ember.nn.functional.prelu(x, ember.randn(3))
    with pytest.raises(RuntimeError, match="parameter numbers = 5 and channel size = 1"):
        ember.nn.functional.prelu(ember.randn(5), ember.randn(5))
    with pytest.raises(RuntimeError, match="Expected `weight` to be a scalar or 1D tensor"):
        ember.nn.functional.prelu(x, ember.randn(4, 1))
    with pytest.raises(RuntimeError, match=r"Type promoting not supported\. Got Float and Double"):
        ember.nn.functional.prelu(x, ember.randn(4, dtype=ember.float64))


def test_rrelu_training_slopes():
    ember.manual_seed(0)
    x = ember.tensor(np.linspace(-3, 3, 4001, dtype=np.float32), requires_grad=True)
    y = ember.nn.functional.rrelu(x, 0.1, 0.3, training=True)
    (g,) = ember.autograd.grad(y.sum(), x)
    xs, ys, gs = x.detach().numpy(), y.detach().numpy(), g.numpy()
    positive = xs > 0
    np.testing.assert_array_equal(ys[positive], xs[positive])
    np.testing.assert_array_equal(gs[positive], 1)
    slopes = ys[xs < 0] / xs[xs < 0]
    assert slopes.min() >= 0.1 and slopes.max() < 0.3
    assert abs(slopes.mean() - 0.2) < 0.01 and slopes.std() > 0.05  # U(0.1, 0.3): sd 0.058
    np.testing.assert_allclose(gs[xs < 0], slopes, rtol=1e-6)  # the gradient is the slope
    assert gs[xs == 0] >= 0.1  # x == 0 takes a random slope, as PyTorch
    ember.manual_seed(0)
    again = ember.nn.functional.rrelu(x.detach(), 0.1, 0.3, training=True)
    np.testing.assert_array_equal(again.numpy(), ys)


def test_glu_dims():
    check_op(lambda m, x: m.nn.functional.glu(x, 0), (4, 3))
    check_op(lambda m, x: m.nn.functional.glu(x, 1), (3, 6, 2))


# -- dtypes -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh_bounds", "threshold"])
def test_integer_inputs_keep_dtype(name):
    x = np.array([[-7, -1, 0, 1, 2, 5, 6, 9]], dtype=np.int64)
    check_op(ACTIVATIONS[name], inputs=[x], dtype="int64")


@pytest.mark.parametrize("name", ["softsign", "tanhshrink", "sigmoid", "tanh"])
def test_integer_inputs_give_floats(name):
    check_op(ACTIVATIONS[name], inputs=[np.array([-2, 0, 3], dtype=np.int64)], dtype="int64")


def test_hardtanh_and_threshold_cast_bounds_for_integers():
    x = np.array([-3, -1, 0, 1, 3], dtype=np.int64)
    check_op(lambda m, x: m.nn.functional.hardtanh(x, -0.5, 2.5), inputs=[x], dtype="int64")
    check_op(lambda m, x: m.nn.functional.threshold(x, 0.5, 7.5), inputs=[x], dtype="int64")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_half_dtypes(name, dtype):
    check_op(ACTIVATIONS[name], (3, 4), dtype=dtype, rtol=2e-2, atol=2e-2, grad=False)


@pytest.mark.parametrize(
    "name, kernel",
    [
        ("leaky_relu", "leaky_relu_cpu"),
        ("elu", "elu_cpu"),
        ("gelu", "GeluKernelImpl"),
        ("silu", "silu_cpu"),
        ("mish", "mish_cpu"),
        ("softplus", "softplus_cpu"),
        ("logsigmoid", "log_sigmoid_cpu"),
        ("hardsigmoid", "hardsigmoid_cpu"),
        ("hardswish", "hardswish_cpu"),
        ("hardshrink", "hardshrink_cpu"),
        ("softshrink", "softshrink_check"),
        ("glu", "glu_cpu"),
    ],
)
def test_float_only_errors(name, kernel):
    x = ember.tensor([[1, 2]])
    with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'Long'"):
        ACTIVATIONS[name](ember, x)


def test_argument_errors():
    F = ember.nn.functional
    x = ember.randn(4, 3)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(x, approximate="fast")
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for "):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper"):
        F.rrelu(x, 0.5, 0.1)
    with pytest.raises(RuntimeError, match="alpha cannot be 0 for CELU"):
        F.celu(x, 0.0)
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is"):
        F.glu(x)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(ember.tensor(1.0))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.glu(x, 2)
    with pytest.raises(RuntimeError, match="Bool inputs not supported for hardtanh"):
        F.relu6(ember.tensor([True]))


# -- in place -----------------------------------------------------------------------------------
INPLACE = {
    "relu": lambda m, x: m.nn.functional.relu(x, inplace=True),
    "relu_": lambda m, x: m.nn.functional.relu_(x),
    "relu6": lambda m, x: m.nn.functional.relu6(x, inplace=True),
    "hardtanh_": lambda m, x: m.nn.functional.hardtanh_(x, -0.5, 0.5),
    "leaky_relu_": lambda m, x: m.nn.functional.leaky_relu_(x, 0.2),
    "rrelu_": lambda m, x: m.nn.functional.rrelu_(x),
    "elu_": lambda m, x: m.nn.functional.elu_(x, 0.5),
    "selu_": lambda m, x: m.nn.functional.selu_(x),
    "celu_": lambda m, x: m.nn.functional.celu_(x, 2.0),
    "silu": lambda m, x: m.nn.functional.silu(x, inplace=True),
    "mish": lambda m, x: m.nn.functional.mish(x, inplace=True),
    "hardsigmoid": lambda m, x: m.nn.functional.hardsigmoid(x, inplace=True),
    "hardswish": lambda m, x: m.nn.functional.hardswish(x, inplace=True),
    "threshold_": lambda m, x: m.nn.functional.threshold_(x, 0.5, -1.0),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace(name):
    def body(m, x):
        y = x * 1  # a non-leaf, so the in-place write is allowed and recorded
        out = INPLACE[name](m, y)
        assert out is y  # the same tensor comes back, written in place
        return out

    check_op(body, (3, 5), low=-4, high=4)


def test_inplace_on_leaf_is_refused():
    x = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        ember.nn.functional.elu(x, inplace=True)


# -- modules ------------------------------------------------------------------------------------
MODULES = [
    lambda m: m.nn.ReLU(),
    lambda m: m.nn.ReLU(inplace=True),
    lambda m: m.nn.ReLU6(),
    lambda m: m.nn.ReLU6(True),
    lambda m: m.nn.LeakyReLU(),
    lambda m: m.nn.LeakyReLU(0.2, True),
    lambda m: m.nn.RReLU(),
    lambda m: m.nn.RReLU(0.1, 0.3, True),
    lambda m: m.nn.ELU(),
    lambda m: m.nn.ELU(2.0, inplace=True),
    lambda m: m.nn.SELU(),
    lambda m: m.nn.SELU(True),
    lambda m: m.nn.CELU(),
    lambda m: m.nn.CELU(0.5, True),
    lambda m: m.nn.GELU(),
    lambda m: m.nn.GELU("tanh"),
    lambda m: m.nn.SiLU(),
    lambda m: m.nn.SiLU(True),
    lambda m: m.nn.Mish(),
    lambda m: m.nn.Softplus(),
    lambda m: m.nn.Softplus(2, 10),
    lambda m: m.nn.Softsign(),
    lambda m: m.nn.Softshrink(),
    lambda m: m.nn.Softshrink(0.3),
    lambda m: m.nn.Hardshrink(),
    lambda m: m.nn.Hardshrink(0.2),
    lambda m: m.nn.Tanhshrink(),
    lambda m: m.nn.Sigmoid(),
    lambda m: m.nn.LogSigmoid(),
    lambda m: m.nn.Hardsigmoid(),
    lambda m: m.nn.Hardsigmoid(True),
    lambda m: m.nn.Tanh(),
    lambda m: m.nn.Hardtanh(),
    lambda m: m.nn.Hardtanh(-2, 3, True),
    lambda m: m.nn.Hardswish(),
    lambda m: m.nn.Threshold(0.1, 20),
    lambda m: m.nn.Threshold(0.1, 20, True),
    lambda m: m.nn.GLU(),
    lambda m: m.nn.GLU(1),
    lambda m: m.nn.PReLU(),
    lambda m: m.nn.PReLU(4, 0.1),
]


@pytest.mark.parametrize("make", MODULES, ids=lambda f: repr(f(torch)))
def test_module(make):
    layer = make(torch)
    inplace = getattr(layer, "inplace", False)
    # An in-place layer may not write into a leaf input: feed it a non-leaf.
    call = (lambda layer, x: layer(x * 1)) if inplace else None
    e_layer, t_layer = check_module(make, (3, 4, 2), low=-4, high=4, call=call, train=False)
    assert repr(e_layer) == repr(t_layer)


def test_module_eval_and_train_rrelu():
    layer = ember.nn.RReLU(0.1, 0.3)
    x = ember.full((1000,), -1.0)
    slopes = -layer(x).numpy()
    assert slopes.std() > 0.03 and slopes.min() >= 0.1 and slopes.max() < 0.3
    layer.eval()
    np.testing.assert_allclose(-layer(x).numpy(), 0.2, rtol=1e-6)


def test_prelu_module_parameter():
    e_layer, _ = check_module(lambda m: m.nn.PReLU(3, 0.3), (2, 3, 5), low=-2, high=2)
    assert list(dict(e_layer.named_parameters())) == ["weight"]
    weight = ember.nn.PReLU(3, 0.3).weight.detach().numpy()
    np.testing.assert_array_equal(weight, np.float32([0.3] * 3))


def test_hardtanh_module_checks():
    with pytest.raises(AssertionError, match=r"max_val \(1\) must be greater than min_val \(1\)"):
        ember.nn.Hardtanh(1, 1)
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = ember.nn.Hardtanh(min_value=-2.0)
    assert layer.min_val == -2.0


def _softmax_ready():
    return hasattr(ember.nn.functional, "softmax") and hasattr(ember.nn.functional, "softmin")


@pytest.mark.skipif(not _softmax_ready(), reason="F.softmax lands in ops/softmax.py")
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.Softmax(1),
        lambda m: m.nn.Softmin(-1),
        lambda m: m.nn.LogSoftmax(0),
        lambda m: m.nn.Softmax2d(),
    ],
)
def test_softmax_modules(make):
    e_layer, t_layer = check_module(make, (2, 3, 4, 2))
    assert repr(e_layer) == repr(t_layer)


def test_softmax_module_reprs_and_checks():
    for make in [lambda m: m.nn.Softmax(), lambda m: m.nn.Softmin(1), lambda m: m.nn.LogSoftmax(0)]:
        assert repr(make(ember)) == repr(make(torch))
    assert repr(ember.nn.Softmax2d()) == repr(torch.nn.Softmax2d())
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        ember.nn.Softmax2d()(ember.randn(2, 3))


def test_functional_names_exported():
    names = ember.nn.functional.__all__
    for name in ["relu", "gelu", "silu", "elu_", "celu_", "selu_", "threshold_", "rrelu_"]:
        assert name in names
        assert callable(getattr(torch.nn.functional, name))
    assert ember.nn.functional.sigmoid is ember.sigmoid
    assert ember.nn.functional.tanh is ember.tanh
