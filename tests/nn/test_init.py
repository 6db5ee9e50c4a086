import math

import numpy as np
import pytest
import torch

import ember
from ember.nn import init
from tests.helpers import assert_same

MODULES = [ember, torch]


def _stats(t):
    data = np.asarray(t.detach().data, dtype=np.float64)
    return data.mean(), data.std(), data.min(), data.max()


@pytest.mark.parametrize(
    "args",
    [
        ("linear",),
        ("conv1d",),
        ("conv2d",),
        ("conv3d",),
        ("conv_transpose1d",),
        ("conv_transpose2d",),
        ("conv_transpose3d",),
        ("sigmoid",),
        ("tanh",),
        ("relu",),
        ("leaky_relu",),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("selu",),
    ],
)
def test_calculate_gain(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (4, 3, 2, 2), (2, 3, 1, 2, 2), (0, 3)])
def test_fan_in_and_fan_out(shape):
    e = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    t = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert e == t
    for mode in ("fan_in", "fan_out", "FAN_IN"):
        assert init._calculate_correct_fan(ember.empty(*shape), mode) == (
            torch.nn.init._calculate_correct_fan(torch.empty(*shape), mode)
        )


@pytest.mark.parametrize("m", MODULES)
def test_fan_errors(m):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        m.nn.init._calculate_fan_in_and_fan_out(m.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        m.nn.init._calculate_correct_fan(m.empty(3, 4), "fan_avg")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        m.nn.init.xavier_uniform_(m.empty(5))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        m.nn.init.kaiming_normal_(m.empty(5))


def test_uniform_and_normal():
    w = ember.empty(200, 300)
    out = init.uniform_(w, -0.5, 1.5)
    assert out is w
    mean, std, lo, hi = _stats(w)
    assert lo >= -0.5 and hi < 1.5
    assert abs(mean - 0.5) < 0.01 and abs(std - 2 / math.sqrt(12)) < 0.01
    assert init.normal_(w, 2.0, 0.5) is w
    mean, std, _, _ = _stats(w)
    assert abs(mean - 2.0) < 0.01 and abs(std - 0.5) < 0.01
    assert w.dtype == ember.float32


def test_init_is_under_no_grad_and_keeps_leaf():
    p = ember.nn.Parameter(ember.empty(4, 5))
    for fill in (
        lambda t: init.uniform_(t),
        lambda t: init.normal_(t),
        lambda t: init.trunc_normal_(t),
        lambda t: init.constant_(t, 0.3),
        lambda t: init.ones_(t),
        lambda t: init.zeros_(t),
        lambda t: init.eye_(t),
        lambda t: init.xavier_uniform_(t),
        lambda t: init.xavier_normal_(t),
        lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)),
        lambda t: init.kaiming_normal_(t),
        lambda t: init.orthogonal_(t),
        lambda t: init.sparse_(t, 0.5),
    ):
        assert fill(p) is p
        assert p.requires_grad and p.grad_fn is None and p.dtype == ember.float32


def test_generator_reproducible():
    a, b = ember.empty(6, 7), ember.empty(6, 7)
    for fill in (
        init.uniform_,
        init.normal_,
        init.trunc_normal_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
        init.orthogonal_,
    ):
        fill(a, generator=ember.Generator().manual_seed(3))
        fill(b, generator=ember.Generator().manual_seed(3))
        assert np.array_equal(a.data, b.data)
    init.sparse_(a, 0.3, generator=ember.Generator().manual_seed(3))
    init.sparse_(b, 0.3, generator=ember.Generator().manual_seed(3))
    assert np.array_equal(a.data, b.data)


@pytest.mark.parametrize(
    "mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04)]
)
def test_trunc_normal_statistics(mean, std, a, b):
    w = ember.empty(400, 250)
    init.trunc_normal_(w, mean, std, a, b)
    e_mean, e_std, lo, hi = _stats(w)
    t = torch.nn.init.trunc_normal_(torch.empty(400, 250, dtype=torch.float64), mean, std, a, b)
    assert lo >= a and hi <= b
    assert abs(e_mean - t.mean().item()) < 0.02 * std + 1e-3 * abs(mean)
    assert abs(e_std - t.std().item()) < 0.02 * std
    # A real truncated normal: most mass near the mean, and both bounds approached.
    assert lo < a + 0.05 * (b - a) and hi > b - 0.05 * (b - a)


@pytest.mark.parametrize("m", MODULES)
def test_trunc_normal_far_mean_warns(m):
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        m.nn.init.trunc_normal_(m.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_constant_ones_zeros(dtype):
    e, t = (
        ember.empty(3, 4, dtype=getattr(ember, dtype)),
        torch.empty(3, 4, dtype=getattr(torch, dtype)),
    )
    assert_same(init.constant_(e, 0.3), torch.nn.init.constant_(t, 0.3))
    assert_same(init.ones_(e), torch.nn.init.ones_(t))
    assert_same(init.zeros_(e), torch.nn.init.zeros_(t))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye(shape):
    assert_same(init.eye_(ember.empty(*shape)), torch.nn.init.eye_(torch.empty(*shape)))


@pytest.mark.parametrize("m", MODULES)
def test_eye_errors(m):
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        m.nn.init.eye_(m.empty(2, 3, 4))


@pytest.mark.parametrize(
    "shape, groups",
    [((4, 3, 3), 1), ((3, 5, 4), 1), ((6, 2, 3, 3), 2), ((4, 4, 2, 3), 1), ((6, 3, 3, 3, 2), 3)],
)
def test_dirac(shape, groups):
    e = init.dirac_(ember.empty(*shape), groups)
    t = torch.nn.init.dirac_(torch.empty(*shape), groups)
    assert_same(e, t)


@pytest.mark.parametrize("m", MODULES)
def test_dirac_errors(m):
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        m.nn.init.dirac_(m.empty(3, 4))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        m.nn.init.dirac_(m.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize("shape", [(300, 200), (40, 30, 3, 3), (100, 20, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_statistics(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    w = init.xavier_uniform_(ember.empty(*shape), gain=gain)
    _, e_std, lo, hi = _stats(w)
    bound = math.sqrt(3.0) * std
    assert -bound <= lo and hi <= bound and hi > 0.95 * bound and lo < -0.95 * bound
    assert abs(e_std - std) < 0.03 * std
    w = init.xavier_normal_(ember.empty(*shape), gain=gain)
    e_mean, e_std, _, _ = _stats(w)
    assert abs(e_mean) < 0.03 * std and abs(e_std - std) < 0.03 * std


@pytest.mark.parametrize(
    "shape, a, mode, nonlinearity",
    [
        ((300, 200), 0, "fan_in", "leaky_relu"),
        ((300, 200), math.sqrt(5), "fan_in", "leaky_relu"),
        ((40, 30, 3, 3), 0, "fan_out", "relu"),
        ((100, 20, 5), 0.2, "fan_out", "leaky_relu"),
        ((200, 300), 0, "fan_in", "tanh"),
    ],
)
def test_kaiming_statistics(shape, a, mode, nonlinearity):
    t = torch.empty(*shape)
    fan = torch.nn.init._calculate_correct_fan(t, mode)
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    w = init.kaiming_uniform_(ember.empty(*shape), a, mode, nonlinearity)
    _, e_std, lo, hi = _stats(w)
    assert -bound <= lo and hi <= bound and hi > 0.95 * bound and lo < -0.95 * bound
    assert abs(e_std - std) < 0.03 * std
    w = init.kaiming_normal_(ember.empty(*shape), a, mode, nonlinearity)
    e_mean, e_std, _, _ = _stats(w)
    assert abs(e_mean) < 0.03 * std and abs(e_std - std) < 0.03 * std


@pytest.mark.parametrize("m", MODULES)
def test_kaiming_errors_and_empty(m):
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        m.nn.init.kaiming_uniform_(m.empty(3, 4), mode="fan_avg")
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        m.nn.init.kaiming_normal_(m.empty(3, 4), nonlinearity="gelu")
    for fill in (m.nn.init.kaiming_uniform_, m.nn.init.kaiming_normal_):
        empty = m.zeros(0, 3)
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert fill(empty) is empty


@pytest.mark.parametrize("shape", [(6, 6), (3, 7), (8, 3), (4, 2, 3), (5, 2, 2, 2)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_orthogonal(shape, dtype):
    w = init.orthogonal_(ember.empty(*shape, dtype=getattr(ember, dtype)), gain=2.0)
    assert w.shape == shape and w.dtype == getattr(ember, dtype)
    flat = np.asarray(w.data, dtype=np.float64).reshape(shape[0], -1) / 2.0
    rows, cols = flat.shape
    gram = flat @ flat.T if rows < cols else flat.T @ flat
    assert np.allclose(gram, np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_is_haar():
    # With the signs of R's diagonal folded in, Q is uniform: the mean of Q[0, 0] over draws
    # is 0 (plain QR would bias the diagonal's sign).
    draws = [init.orthogonal_(ember.empty(3, 3)).data[0, 0] for _ in range(400)]
    assert abs(np.mean(draws)) < 0.1


@pytest.mark.parametrize("m", MODULES)
def test_orthogonal_errors(m):
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        m.nn.init.orthogonal_(m.empty(4))
    empty = m.empty(0, 3)
    assert m.nn.init.orthogonal_(empty) is empty


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.9])
def test_sparse(sparsity):
    rows, cols = 20, 30
    w = init.sparse_(ember.empty(rows, cols), sparsity, std=0.5)
    zeros = (np.asarray(w.data) == 0).sum(axis=0)
    assert (zeros == math.ceil(sparsity * rows)).all()
    nonzero = np.asarray(w.data)[np.asarray(w.data) != 0]
    if nonzero.size > 100:
        assert abs(nonzero.std() - 0.5) < 0.1


@pytest.mark.parametrize("m", MODULES)
def test_sparse_errors(m):
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        m.nn.init.sparse_(m.empty(3, 4, 5), 0.1)


def test_all_matches_torch():
    public = {name for name in torch.nn.init.__all__ if name.endswith("_")}
    public.add("calculate_gain")
    assert public <= set(init.__all__)
