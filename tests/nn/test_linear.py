"""F.linear, F.bilinear and the Linear, Bilinear, LazyLinear layers against PyTorch."""

import math

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check_gradcheck, check_module, check_op

F = ember.nn.functional


# -- F.linear -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x_shape",
    [(4, 5), (5,), (2, 3, 5), (2, 1, 3, 5), (0, 5)],
)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias):
    if bias:
        check_op(lambda m, x, w, b: m.nn.functional.linear(x, w, b), x_shape, (3, 5), (3,))
    else:
        check_op(lambda m, x, w: m.nn.functional.linear(x, w), x_shape, (3, 5))


def test_linear_noncontiguous():
    # Transposed input, sliced input, transposed weight: all through the same GEMM.
    check_op(lambda m, x, w, b: m.nn.functional.linear(x.T[1:], w.T, b), (5, 4), (5, 3), (3,))
    check_op(lambda m, x, w: m.nn.functional.linear(x[..., ::2], w[1:]), (2, 4, 10), (4, 5))
    check_op(lambda m, x, w: m.nn.functional.linear(x.permute(1, 0, 2), w), (3, 2, 5), (4, 5))


def test_linear_other_weight_and_bias_shapes():
    check_op(lambda m, x, w: m.nn.functional.linear(x, w), (4, 5), (5,))  # 1-D weight
    check_op(lambda m, x, w, b: m.nn.functional.linear(x, w, b), (4, 5), (3, 5), (4, 3))
    check_op(lambda m, x, w, b: m.nn.functional.linear(x, w, b), (4, 5), (3, 5), (1,))


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_linear_dtypes(dtype):
    tol = 1e-10 if dtype == "float64" else 2e-2
    check_op(
        lambda m, x, w, b: m.nn.functional.linear(x, w, b),
        (3, 8),
        (4, 8),
        (4,),
        dtype=dtype,
        rtol=tol,
        atol=tol,
        grad=dtype == "float64",
    )


def test_linear_integers():
    x, w = np.arange(6).reshape(2, 3), np.arange(12).reshape(4, 3) - 5
    check_op(lambda m, x, w: m.nn.functional.linear(x, w), inputs=[x, w], dtype="int64")


def test_linear_gradcheck():
    check_gradcheck(lambda m, x, w, b: m.nn.functional.linear(x, w, b), (2, 3, 4), (2, 4), (2,))
    check_gradcheck(lambda m, x, w: m.nn.functional.linear(x, w), (4,), (3, 4))


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x5 and"):
        F.linear(ember.randn(4, 5), ember.randn(3, 6))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(8x5 and 6x3\)"):
        F.linear(ember.randn(2, 4, 5), ember.randn(3, 6))
    with pytest.raises(RuntimeError, match=r"cannot be multiplied \(1x6 and 5x3\)"):
        F.linear(ember.randn(6), ember.randn(3, 5))
    with pytest.raises(RuntimeError, match="both arguments to linear need to be at least 1D"):
        F.linear(ember.tensor(1.0), ember.randn(3, 5))
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        F.linear(ember.randn(4, 5), ember.randn(2, 3, 5))
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, but got: "):
        F.linear(ember.randn(4, 5), ember.randn(3, 5, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype"):
        F.linear(ember.randn(4, 5), ember.randn(3, 5), ember.randn(3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match="The expanded size of the tensor \\(3\\) must match"):
        F.linear(ember.randn(4, 5), ember.randn(3, 5), ember.randn(4))
    with pytest.raises(RuntimeError, match="mat2 must be a matrix, got 1-D tensor"):
        F.linear(ember.randn(4, 5), ember.randn(5), ember.randn(()))


def test_linear_is_one_node():
    x = ember.randn(4, 5, requires_grad=True)
    out = F.linear(x, ember.randn(3, 5), ember.randn(3))
    assert out.grad_fn.name() == "LinearBackward0"


def test_linear_double_backward():
    def grad_of(m, x, w, b):
        y = m.nn.functional.linear(x, w, b)
        (gx,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        return gx

    check_op(grad_of, (3, 4), (2, 4), (2,))


# -- F.bilinear ---------------------------------------------------------------------------------
@pytest.mark.parametrize("lead", [(4,), (2, 3), ()])
def test_bilinear(lead):
    check_op(
        lambda m, x1, x2, w, b: m.nn.functional.bilinear(x1, x2, w, b),
        (*lead, 5),
        (*lead, 6),
        (3, 5, 6),
        (3,),
    )


def test_bilinear_no_bias_noncontiguous_gradcheck():
    check_op(lambda m, x1, x2, w: m.nn.functional.bilinear(x1.T, x2, w), (5, 4), (4, 6), (3, 5, 6))
    check_gradcheck(
        lambda m, x1, x2, w, b: m.nn.functional.bilinear(x1, x2, w, b),
        (2, 3),
        (2, 2),
        (2, 3, 2),
        (2,),
    )


def test_bilinear_errors():
    x1, x2 = ember.randn(4, 5), ember.randn(4, 6)
    with pytest.raises(RuntimeError, match="input1 size does not match weight size: got 5 but e"):
        F.bilinear(x1, x2, ember.randn(3, 7, 6))
    with pytest.raises(RuntimeError, match="input2 size does not match weight size: got 6 but e"):
        F.bilinear(x1, x2, ember.randn(3, 5, 7))
    with pytest.raises(RuntimeError, match="input batch dimensions do not match at dim 0: got 4"):
        F.bilinear(x1, ember.randn(3, 6), ember.randn(3, 5, 6))
    with pytest.raises(RuntimeError, match="bias size does not match weight size: got 4 but exp"):
        F.bilinear(x1, x2, ember.randn(3, 5, 6), ember.randn(4))
    with pytest.raises(RuntimeError, match="input dimensions do not match: got 2 and 3"):
        F.bilinear(x1, ember.randn(2, 4, 6), ember.randn(3, 5, 6))
    with pytest.raises(RuntimeError, match="All tensors must have the same dtype, got input1: fl"):
        F.bilinear(x1, ember.randn(4, 6, dtype=ember.float64), ember.randn(3, 5, 6))


# -- layers -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, shapes",
    [
        (lambda m: m.nn.Linear(5, 3), [(4, 5)]),
        (lambda m: m.nn.Linear(5, 3), [(2, 3, 5)]),
        (lambda m: m.nn.Linear(5, 3), [(5,)]),
        (lambda m: m.nn.Linear(5, 3, bias=False), [(4, 5)]),
        (lambda m: m.nn.Linear(1, 1), [(7, 1)]),
        (lambda m: m.nn.Bilinear(4, 5, 3), [(6, 4), (6, 5)]),
        (lambda m: m.nn.Bilinear(4, 5, 3, bias=False), [(2, 6, 4), (2, 6, 5)]),
    ],
)
def test_layers(make, shapes):
    e_layer, t_layer = check_module(make, *shapes)
    assert repr(e_layer) == repr(t_layer)


def test_layer_dtype_argument():
    layer = ember.nn.Linear(3, 2, dtype=ember.float64)
    assert layer.weight.dtype is ember.float64 and layer.bias.dtype is ember.float64
    check_module(lambda m: m.nn.Linear(3, 2, dtype=m.float64), (4, 3), dtype="float64")


def test_state_dict_layout():
    layer = ember.nn.Linear(5, 3)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert tuple(layer.weight.shape) == (3, 5) and tuple(layer.bias.shape) == (3,)
    assert list(ember.nn.Linear(5, 3, bias=False).state_dict()) == ["weight"]
    assert ember.nn.Linear(5, 3, bias=False).bias is None


@pytest.mark.parametrize(
    "make, fan_in",
    [
        (lambda: ember.nn.Linear(400, 300), 400),
        (lambda: ember.nn.Bilinear(100, 20, 300), 100),
    ],
)
def test_initialisation_is_uniform_with_bound(make, fan_in):
    # Weight and bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch.
    ember.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for param in (layer.weight, layer.bias):
        values = param.detach().numpy().ravel().astype(np.float64)
        assert values.min() >= -bound and values.max() <= bound
        assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
        n = values.size
        assert abs(values.mean()) < 4 * bound / math.sqrt(3 * n)  # mean 0, 4 sigma
        np.testing.assert_allclose(values.var(), bound**2 / 3, rtol=0.05 if n > 1000 else 0.4)
        assert param.dtype is ember.float32


def test_initialisation_follows_seed():
    ember.manual_seed(3)
    a = ember.nn.Linear(4, 3).weight.detach().numpy()
    ember.manual_seed(3)
    b = ember.nn.Linear(4, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    layer = ember.nn.Linear(4, 3)
    before = layer.weight.detach().numpy().copy()
    layer.reset_parameters()
    assert not np.array_equal(before, layer.weight.detach().numpy())


def test_lazy_linear():
    e_layer, t_layer = ember.nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(e_layer) == repr(t_layer)
    assert isinstance(e_layer.weight, ember.nn.UninitializedParameter)
    x = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    e_out, t_out = e_layer(ember.tensor(x)), t_layer(torch.tensor(x))
    assert type(e_layer) is ember.nn.Linear and type(t_layer) is torch.nn.Linear
    assert repr(e_layer) == repr(t_layer)
    assert tuple(e_out.shape) == tuple(t_out.shape) == (4, 3)
    assert type(e_layer.weight) is ember.nn.Parameter and e_layer.weight.requires_grad
    assert tuple(e_layer.weight.shape) == (3, 7) and tuple(e_layer.bias.shape) == (3,)
    bound = 1 / math.sqrt(7)
    assert np.abs(e_layer.weight.detach().numpy()).max() <= bound
    # Once materialised it behaves as a Linear, with torch's weights loaded.
    check_module(lambda m: _materialised(m, x), (4, 7))


def _materialised(m, x):
    layer = m.nn.LazyLinear(3, bias=False)
    layer(m.tensor(x))
    return layer


def test_lazy_linear_keeps_parameter_identity():
    layer = ember.nn.LazyLinear(2)
    weight = layer.weight
    layer(ember.randn(3, 4))
    assert layer.weight is weight and list(layer.state_dict()) == ["weight", "bias"]
    layer.weight.grad = None
    layer(ember.randn(3, 4)).sum().backward()
    assert tuple(layer.weight.grad.shape) == (2, 4)


def test_lazy_linear_dtype():
    layer = ember.nn.LazyLinear(2, dtype=ember.float64)
    layer(ember.randn(3, 4, dtype=ember.float64))
    assert layer.weight.dtype is ember.float64 and layer.bias.dtype is ember.float64
