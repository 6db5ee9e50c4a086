"""nn.utils.fusion and skip_init vs PyTorch.

Fused conv/linear (copied from torch's layers, with trained-looking running statistics) give
torch's fused weights and the outputs of layer -> batch norm in eval mode; the originals are
untouched; torch's assertion messages; skip_init builds without running the initialisers.
"""

import numpy as np
import pytest
import torch

import ember
import ember.nn.utils.fusion as fusion
from ember.nn.utils.init_utils import skip_init
from tests.helpers import assert_same, state_dict_to_ember


def pair(make_layer, make_bn, seed=0):
    """(ember layer, ember bn, torch layer, torch bn), equal weights, random bn statistics."""
    torch.manual_seed(seed)
    t_layer, t_bn = make_layer(torch), make_bn(torch)
    with torch.no_grad():
        n = t_bn.num_features
        t_bn.running_mean.uniform_(-1, 1)
        t_bn.running_var.uniform_(0.5, 2)
        if t_bn.weight is not None:
            t_bn.weight.uniform_(0.5, 1.5)
            t_bn.bias.uniform_(-1, 1)
        assert n > 0
    e_layer, e_bn = make_layer(ember), make_bn(ember)
    e_layer.load_state_dict(state_dict_to_ember(t_layer.state_dict()))
    e_bn.load_state_dict(state_dict_to_ember(t_bn.state_dict()))
    for mod in (t_layer, t_bn, e_layer, e_bn):
        mod.eval()
    return e_layer, e_bn, t_layer, t_bn


CONV_CASES = [
    (lambda m: m.nn.Conv2d(3, 4, 3), lambda m: m.nn.BatchNorm2d(4), (2, 3, 6, 6), False),
    (lambda m: m.nn.Conv1d(3, 5, 2, bias=False), lambda m: m.nn.BatchNorm1d(5), (2, 3, 7), False),
    (
        lambda m: m.nn.Conv3d(2, 3, 2),
        lambda m: m.nn.BatchNorm3d(3, affine=False),
        (1, 2, 4, 4, 4),
        False,
    ),
    (
        lambda m: m.nn.ConvTranspose2d(3, 4, 3, stride=2),
        lambda m: m.nn.BatchNorm2d(4),
        (2, 3, 4, 4),
        True,
    ),
    (
        lambda m: m.nn.ConvTranspose1d(2, 6, 3, groups=1, bias=False),
        lambda m: m.nn.BatchNorm1d(6),
        (2, 2, 5),
        True,
    ),
]


@pytest.mark.parametrize(("conv", "bn", "shape", "transpose"), CONV_CASES)
def test_fuse_conv_bn_eval(conv, bn, shape, transpose):
    e_conv, e_bn, t_conv, t_bn = pair(conv, bn)
    e_before = e_conv.weight.detach().numpy().copy()
    e_fused = fusion.fuse_conv_bn_eval(e_conv, e_bn, transpose=transpose)
    t_fused = torch.nn.utils.fusion.fuse_conv_bn_eval(t_conv, t_bn, transpose=transpose)
    assert type(e_fused) is type(e_conv) and e_fused is not e_conv
    assert isinstance(e_fused.weight, ember.nn.Parameter)
    assert e_fused.weight.requires_grad == t_fused.weight.requires_grad
    assert e_fused.bias.requires_grad == t_fused.bias.requires_grad
    assert_same(e_fused.weight, t_fused.weight.detach(), 1e-5, 1e-6)
    assert_same(e_fused.bias, t_fused.bias.detach(), 1e-5, 1e-6)
    np.testing.assert_array_equal(e_conv.weight.detach().numpy(), e_before)  # original untouched
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    expected = t_bn(t_conv(torch.tensor(x))).detach()
    assert_same(e_fused(ember.tensor(x)), expected, 1e-4, 1e-5)
    assert_same(e_bn(e_conv(ember.tensor(x))), expected, 1e-4, 1e-5)


@pytest.mark.parametrize("features", [4, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_linear_bn_eval(features, bias):
    e_lin, e_bn, t_lin, t_bn = pair(
        lambda m: m.nn.Linear(3, 4, bias=bias), lambda m: m.nn.BatchNorm1d(features)
    )
    e_fused = fusion.fuse_linear_bn_eval(e_lin, e_bn)
    t_fused = torch.nn.utils.fusion.fuse_linear_bn_eval(t_lin, t_bn)
    assert_same(e_fused.weight, t_fused.weight.detach(), 1e-5, 1e-6)
    assert_same(e_fused.bias, t_fused.bias.detach(), 1e-5, 1e-6)
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    assert_same(e_fused(ember.tensor(x)), t_fused(torch.tensor(x)).detach(), 1e-4, 1e-5)
    if features == 4:
        expected = t_bn(t_lin(torch.tensor(x))).detach()
        assert_same(e_fused(ember.tensor(x)), expected, 1e-4, 1e-5)


def test_fuse_weights_functions():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4, 3, 2), (4,), (4,), (4,)]]
    rv = rng.uniform(0.5, 2, 4).astype(np.float32)
    for transpose in (False, True):
        w = arrays[0] if not transpose else arrays[0].transpose(1, 0, 2).copy()
        args = (w, arrays[1], arrays[2], rv, 1e-3, arrays[3], None, transpose)

        def conv_args(m, args=args):
            return [m.tensor(a) if isinstance(a, np.ndarray) else a for a in args]

        e_w, e_b = fusion.fuse_conv_bn_weights(*conv_args(ember))
        t_w, t_b = torch.nn.utils.fusion.fuse_conv_bn_weights(*conv_args(torch))
        assert_same(e_w, t_w.detach(), 1e-5, 1e-6)
        assert_same(e_b, t_b.detach(), 1e-5, 1e-6)
    lin = (rng.standard_normal((4, 3)).astype(np.float32), None, arrays[2], rv, 1e-5)
    lin = (*lin, arrays[3], arrays[1])
    e = fusion.fuse_linear_bn_weights(*[ember.tensor(a) if a is not None else a for a in lin])
    t = torch.nn.utils.fusion.fuse_linear_bn_weights(
        *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in lin]
    )
    for a, b in zip(e, t):
        assert_same(a, b.detach(), 1e-5, 1e-6)


def test_fusion_errors():
    for m, fuse in ((torch, torch.nn.utils.fusion), (ember, fusion)):
        conv, bn = m.nn.Conv2d(2, 3, 1), m.nn.BatchNorm2d(3)
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            fuse.fuse_conv_bn_eval(conv, bn)
        with pytest.raises(AssertionError, match="Fusion only for eval!"):
            fuse.fuse_linear_bn_eval(m.nn.Linear(2, 3), m.nn.BatchNorm1d(3).eval())
        with pytest.raises(AssertionError, match="must not be None"):
            fuse.fuse_conv_bn_eval(
                conv.eval(), m.nn.BatchNorm2d(3, track_running_stats=False).eval()
            )
        with pytest.raises(AssertionError, match=r"linear\.out_features=3 and bn\.num_features=2"):
            fuse.fuse_linear_bn_eval(m.nn.Linear(2, 3).eval(), m.nn.BatchNorm1d(2).eval())


@pytest.mark.parametrize(
    ("cls", "args"),
    [(ember.nn.Linear, (5, 7)), (ember.nn.Conv2d, (2, 3, 3)), (ember.nn.BatchNorm1d, (4,))],
)
def test_skip_init(cls, args, monkeypatch):
    calls = []
    monkeypatch.setattr(ember.nn.init, "kaiming_uniform_", lambda t, *a, **k: calls.append(1) or t)
    m = skip_init(cls, *args)
    assert type(m) is cls
    assert calls == []  # no initialiser ran
    reference = cls(*args)
    assert calls or cls is ember.nn.BatchNorm1d  # the normal path does initialise
    for (name, p), (_, q) in zip(m.named_parameters(), reference.named_parameters()):
        assert p.shape == q.shape and isinstance(p, ember.nn.Parameter), name
    # initialisation works again afterwards, and a skipped module can still be reset
    m.reset_parameters()
    assert ember.nn.Linear.reset_parameters is not None


def test_skip_init_leaves_parameters_uninitialised(monkeypatch):
    marker = np.float32(12345.0)
    monkeypatch.setattr(ember.nn.linear, "empty", lambda *s, **k: ember.full(s, float(marker)))
    m = skip_init(ember.nn.Linear, 3, 4)
    assert (m.weight.detach().numpy() == marker).all() and (m.bias.detach().numpy() == marker).all()
    n = ember.nn.Linear(3, 4)
    assert (np.abs(n.weight.detach().numpy()) < 1).all()


def test_skip_init_errors():
    class NoDevice(ember.nn.Module):
        def __init__(self, n):
            super().__init__()

    class TNoDevice(torch.nn.Module):
        def __init__(self, n):
            super().__init__()

    for skip, bad in (
        (torch.nn.utils.skip_init, TNoDevice),
        (skip_init, NoDevice),
    ):
        with pytest.raises(RuntimeError, match="Expected a Module; got"):
            skip(int, 3)
        with pytest.raises(RuntimeError, match="must support a 'device' arg"):
            skip(bad, 3)
