import copy
import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.utils.parametrize

import ember
import ember.nn.utils
from tests.helpers import assert_same, check_module

MODULES = [ember, torch]


def params_with_grads(m, shapes=((3, 4), (5,), (2, 2, 2)), seed=0, scale=1.0, skip=()):
    rng = np.random.default_rng(seed)
    params = []
    for i, shape in enumerate(shapes):
        p = m.nn.Parameter(m.tensor(rng.standard_normal(shape).astype(np.float32)))
        g = (rng.standard_normal(shape) * scale).astype(np.float32)
        if i not in skip:
            p.grad = m.tensor(g)
        params.append(p)
    return params


# -- clip_grad ------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm(norm_type, max_norm):
    out = []
    for m in MODULES:
        params = params_with_grads(m, skip=(1,))
        total = m.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        out.append((total, [p.grad for p in params if p.grad is not None]))
    assert_same(out[0][0], out[1][0])
    for e, t in zip(out[0][1], out[1][1]):
        assert_same(e, t)


def test_clip_grad_norm_scales_down_only():
    params = params_with_grads(ember, scale=1e-3)
    before = [p.grad.data.copy() for p in params]
    ember.nn.utils.clip_grad_norm_(params, 1.0)
    for b, p in zip(before, params):
        assert np.array_equal(b, p.grad.data)


@pytest.mark.parametrize("m", MODULES)
def test_clip_grad_norm_single_tensor_and_generator(m):
    (p,) = params_with_grads(m, shapes=((4,),))
    total = m.nn.utils.clip_grad_norm_(p, 0.1)
    assert abs(float(m.linalg.vector_norm(p.grad)) - 0.1) < 1e-5
    assert total.dim() == 0 and total.dtype == m.float32
    model = m.nn.Sequential(m.nn.Identity())
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        total = m.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert float(total) == 0.0
    assert float(m.nn.utils.clip_grad_norm_([m.nn.Parameter(m.ones(2))], 1.0)) == 0.0


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_clip_grad_norm_dtypes(dtype):
    out = []
    for m in MODULES:
        params = params_with_grads(m)
        for p in params:
            p.data = p.data.to(getattr(m, dtype)) if m is torch else p.to(getattr(m, dtype)).data
            p.grad = p.grad.to(getattr(m, dtype))
        total = m.nn.utils.clip_grad_norm_(params, 0.5)
        out.append((total, [p.grad for p in params]))
    assert_same(out[0][0], out[1][0], rtol=1e-3, atol=1e-3)
    for e, t in zip(out[0][1], out[1][1]):
        assert_same(e, t, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("m", MODULES)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_nonfinite(m, bad):
    params = params_with_grads(m)
    params[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match=r"The total norm of order 2\.0 for gradients from"):
        m.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert float(params[1].grad[0]) != 0  # untouched by the refused call
    total = m.nn.utils.clip_grad_norm_(params, 1.0)
    assert not math.isfinite(float(total))


def test_get_total_norm_and_clip_with_norm():
    out = []
    for m in MODULES:
        params = params_with_grads(m)
        grads = [p.grad for p in params]
        total = m.nn.utils.get_total_norm(grads, 3.0)
        m.nn.utils.clip_grads_with_norm_(params, 0.7, total)
        out.append((total, grads, m.nn.utils.get_total_norm([])))
    assert_same(out[0], out[1])


@pytest.mark.parametrize("clip_value", [0.3, 2])
def test_clip_grad_value(clip_value):
    out = []
    for m in MODULES:
        params = params_with_grads(m, skip=(2,))
        assert m.nn.utils.clip_grad_value_(params, clip_value) is None
        out.append([p.grad for p in params[:2]])
        assert params[2].grad is None
        m.nn.utils.clip_grad_value_(params[0], 0.1)
        out[-1].append(params[0].grad)
    assert_same(out[0], out[1])


# -- parameters_to_vector / vector_to_parameters ---------------------------------------------


def test_parameters_to_vector_and_back():
    out = []
    for m in MODULES:
        params = params_with_grads(m)
        vec = m.nn.utils.parameters_to_vector(params)
        grad = m.autograd.grad((vec * m.arange(vec.numel(), dtype=m.float32)).sum(), params)
        new = m.arange(vec.numel(), dtype=m.float32) * 0.5
        m.nn.utils.vector_to_parameters(new, params)
        new.mul_(2)  # the parameters now share memory with new, as in PyTorch
        out.append((vec, grad, [p.detach().clone() for p in params]))
    assert_same(out[0], out[1])


def test_parameters_to_vector_noncontiguous():
    # Differences from PyTorch: non-contiguous tensors are accepted (PyTorch's view(-1) refuses).
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    e = ember.nn.utils.parameters_to_vector([ember.tensor(x).T, ember.tensor(x)[:, 1:]])
    t = torch.cat([torch.tensor(x).T.reshape(-1), torch.tensor(x)[:, 1:].reshape(-1)])
    assert_same(e, t)


@pytest.mark.parametrize("m", MODULES)
def test_vector_to_parameters_type_error(m):
    with pytest.raises(TypeError, match=r"expected torch\.Tensor, but got: list"):
        m.nn.utils.vector_to_parameters([1.0, 2.0], [m.nn.Parameter(m.ones(2))])


# -- parametrize ----------------------------------------------------------------------------


@functools.cache
def classes(m):
    """Modules defined identically on top of ember and torch."""

    class Lin(m.nn.Module):
        def __init__(self, i=3, o=4, k=None):
            super().__init__()
            shape = (o, i) if k is None else (o, i, k)
            self.weight = m.nn.Parameter(m.randn(*shape))
            self.bias = m.nn.Parameter(m.randn(o))
            self.register_buffer("scale", m.ones(o))

        def forward(self, x):
            w = self.weight if self.weight.dim() == 2 else self.weight.sum(-1)
            return (x @ w.t() + self.bias) * self.scale

    class Symmetric(m.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).t()

        def right_inverse(self, a):
            return a.triu()

    class Double(m.nn.Module):
        def forward(self, x):
            return 2 * x

        def right_inverse(self, x):
            return x / 2

    class RankOne(m.nn.Module):
        def forward(self, a, b):
            return a.unsqueeze(-1) @ b.unsqueeze(-2)

        def right_inverse(self, z):
            return z[:, 0].clone(), z[0, :].clone()

    class Shrink(m.nn.Module):
        def forward(self, x):
            return x[:-1]

    return Lin, Symmetric, Double, RankOne, Shrink


def square(m):
    lin_class, symmetric, double, _, _ = classes(m)
    layer = lin_class(4, 4)
    m.nn.utils.parametrize.register_parametrization(layer, "weight", symmetric())
    m.nn.utils.parametrize.register_parametrization(layer, "weight", double())
    m.nn.utils.parametrize.register_parametrization(layer, "scale", double())
    return layer


def test_parametrize_forward_grads_keys_repr():
    e, t = check_module(square, (5, 4))
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    assert type(e).__name__ == "ParametrizedLin"
    assert ember.nn.utils.parametrize.type_before_parametrizations(e) is classes(ember)[0]
    assert_same(e.weight, t.weight)
    assert_same(e.scale, t.scale)
    assert "weight" not in e._parameters and "scale" not in e._buffers
    names = [n for n, _ in e.named_parameters()]
    assert names == [n for n, _ in t.named_parameters()]


@pytest.mark.parametrize("m", MODULES)
def test_parametrize_right_inverse_assignment(m):
    layer = square(m)
    utils = m.nn.utils.parametrize
    original = layer.parametrizations.weight.original
    target = m.tensor(np.arange(16.0, dtype=np.float32).reshape(4, 4))
    target = target + target.t()
    layer.weight = target
    assert layer.parametrizations.weight.original is original  # same Parameter, new values
    assert float((layer.weight - target).abs().max().detach()) < 1e-6
    assert utils.is_parametrized(layer) and utils.is_parametrized(layer, "weight")
    assert not utils.is_parametrized(layer, "bias")
    assert not utils.is_parametrized(classes(m)[0]())


@pytest.mark.parametrize("m", MODULES)
def test_parametrize_cached(m):
    layer = square(m)
    utils = m.nn.utils.parametrize
    assert layer.weight is not layer.weight
    with utils.cached():
        first = layer.weight
        assert layer.weight is first
        with utils.cached():
            assert layer.weight is first
        assert layer.weight is first
    assert layer.weight is not first


@pytest.mark.parametrize("leave", [True, False])
def test_remove_parametrizations(leave):
    out = []
    for m in MODULES:
        torch.manual_seed(0)
        ember.manual_seed(0)
        layer = square(m)
        layer.parametrizations.weight.original.data = (
            m.arange(16, dtype=m.float32).reshape(4, 4).data
        )
        expected_class = classes(m)[0]
        m.nn.utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized=leave)
        assert isinstance(layer.weight, m.nn.Parameter)
        assert type(layer).__name__ == "ParametrizedLin"  # scale is still parametrized
        m.nn.utils.parametrize.remove_parametrizations(layer, "scale")
        assert type(layer) is expected_class and not hasattr(layer, "parametrizations")
        out.append((list(layer.state_dict()), layer.weight.detach(), layer.scale))
    assert out[0][0] == out[1][0]
    assert_same(out[0][1:], out[1][1:])


def rank_one(m):
    lin_class, _, _, rank_one_class, _ = classes(m)
    layer = lin_class(3, 4)
    with m.no_grad():
        layer.weight.copy_(m.ones(4, 1) @ m.arange(1, 4, dtype=m.float32).reshape(1, 3))
    return m.nn.utils.parametrize.register_parametrization(layer, "weight", rank_one_class())


def test_parametrize_several_originals():
    e, t = check_module(rank_one, (2, 3))
    assert list(e.state_dict()) == [
        "bias",
        "scale",
        "parametrizations.weight.original0",
        "parametrizations.weight.original1",
    ]
    for m, layer in ((ember, e), (torch, t)):
        with pytest.raises(ValueError, match="Cannot leave unparametrized"):
            m.nn.utils.parametrize.remove_parametrizations(layer, "weight", False)
    ember.nn.utils.parametrize.remove_parametrizations(e, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(t, "weight")
    assert_same(e.weight, t.weight)
    assert isinstance(e.weight, ember.nn.Parameter)


@pytest.mark.parametrize("m", MODULES)
def test_parametrize_errors(m):
    lin_class, _, double, _, shrink = classes(m)
    utils = m.nn.utils.parametrize
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametr"):
        utils.register_parametrization(lin_class(), "nope", double())
    with pytest.raises(ValueError, match="may not change the shape of the tensor"):
        utils.register_parametrization(lin_class(), "weight", shrink())
    layer = utils.register_parametrization(lin_class(), "bias", double())
    with pytest.raises(ValueError, match="may not change the shape of the tensor"):
        utils.register_parametrization(layer, "bias", shrink())
    utils.register_parametrization(layer, "bias", shrink(), unsafe=True)
    assert tuple(layer.bias.shape) == (3,)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        utils.remove_parametrizations(layer, "weight")
    with pytest.raises(RuntimeError, match="Shrink does not implement right_inverse"):
        layer.bias = m.ones(3)
    with pytest.raises(KeyError, match="attribute 'bias' already exists"):
        layer.bias = m.nn.Parameter(m.ones(4))


def test_parametrize_deepcopy_and_training_mode():
    layer = square(ember)
    layer.eval()
    double = classes(ember)[2]()
    ember.nn.utils.parametrize.register_parametrization(layer, "bias", double)
    assert double.training is False  # follows the host module
    clone = copy.deepcopy(layer)
    assert type(clone) is type(layer)
    assert clone.parametrizations.weight.original is not layer.parametrizations.weight.original
    assert np.array_equal(clone.weight.data, layer.weight.data)
    with pytest.raises(RuntimeError, match="Serialization of parametrized modules"):
        layer.__getstate__()


def test_transfer_parametrizations_and_params():
    source = square(ember)
    target = classes(ember)[0](4, 4)
    ember.nn.utils.parametrize.transfer_parametrizations_and_params(source, target, "weight")
    assert ember.nn.utils.parametrize.is_parametrized(target, "weight")
    assert not ember.nn.utils.parametrize.is_parametrized(target, "scale")
    assert target.parametrizations.weight.original is source.parametrizations.weight.original
    assert np.array_equal(target.weight.data, source.weight.data)


# -- weight_norm / spectral_norm ------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, None, -1])
@pytest.mark.parametrize("k", [None, 2])
def test_weight_norm(dim, k):
    def make(m):
        layer = classes(m)[0](3, 4, k)
        return m.nn.utils.parametrizations.weight_norm(layer, dim=dim)

    e, t = check_module(make, (5, 3))
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    assert_same(e.weight, t.weight)


def test_weight_norm_of_a_bias_normalises_each_entry():
    def make(m):
        return m.nn.utils.parametrizations.weight_norm(m.nn.Linear(3, 4), "bias")

    e, t = check_module(make, (5, 3))
    assert_same(e.parametrizations.bias.original0, t.parametrizations.bias.original0)
    assert tuple(e.parametrizations.bias.original0.shape) == (4,)


def test_weight_norm_g_and_v_from_weight():
    out = []
    for m in MODULES:
        layer = classes(m)[0](3, 4, 2)
        layer.weight.data = m.tensor(np.arange(24.0, dtype=np.float32).reshape(4, 3, 2) - 11).data
        m.nn.utils.parametrizations.weight_norm(layer, dim=1)
        out.append(dict(layer.state_dict()))
    assert list(out[0]) == list(out[1])
    for key in ("parametrizations.weight.original0", "parametrizations.weight.original1"):
        assert_same(out[0][key], out[1][key])


def test_weight_norm_gradcheck():
    layer = classes(ember)[0](3, 4)
    ember.nn.utils.parametrizations.weight_norm(layer)
    layer.double()
    plist = layer.parametrizations.weight

    def fn(g, v):
        return plist[0](g, v)

    assert ember.autograd.gradcheck(fn, (plist.original0, plist.original1))
    assert ember.autograd.gradgradcheck(fn, (plist.original0, plist.original1))


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("k, dim", [(None, None), (None, 1), (2, 0), (2, 2), (2, -1)])
def test_spectral_norm(train, k, dim):
    def make(m):
        layer = classes(m)[0](3, 4, k)
        return m.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=2, dim=dim)

    e, t = check_module(make, (5, 3), train=train)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    # The power iteration ran (or not) alike: the buffers match after the forward pass.
    for key in ("parametrizations.weight.0._u", "parametrizations.weight.0._v"):
        assert_same(e.state_dict()[key], t.state_dict()[key])


def test_spectral_norm_estimates_sigma():
    layer = classes(ember)[0](6, 5)
    ember.nn.utils.parametrizations.spectral_norm(layer, n_power_iterations=3)
    for _ in range(5):
        w = layer.weight
    sigma = np.linalg.svd(np.asarray(w.detach().data, dtype=np.float64), compute_uv=False)[0]
    assert abs(sigma - 1.0) < 1e-3
    u = layer.parametrizations.weight[0]._u
    assert u.dtype == ember.float32 and abs(np.linalg.norm(u.data) - 1) < 1e-5


def test_spectral_norm_vector():
    def make(m):
        class Vec(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = m.nn.Parameter(m.randn(4))

            def forward(self, x):
                return x * self.weight

        return m.nn.utils.parametrizations.spectral_norm(Vec())

    e, _ = check_module(make, (3, 4))
    assert list(e.state_dict()) == ["parametrizations.weight.original"]


@pytest.mark.parametrize("m", MODULES)
def test_spectral_norm_errors(m):
    lin_class = classes(m)[0]
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        m.nn.utils.parametrizations.spectral_norm(lin_class(), "nope")
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of"):
        m.nn.utils.parametrizations.spectral_norm(lin_class(), dim=2)
    with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
        m.nn.utils.parametrizations.spectral_norm(lin_class(), n_power_iterations=0)
