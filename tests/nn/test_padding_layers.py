"""Padding layers vs PyTorch: values and gradients per mode and dim, reprs, input-dim errors."""

import pytest
import torch

import ember
import ember.nn.padding as padding
from tests.helpers import check_module


def layer(m, name, *args):
    return getattr(padding if m is ember else torch.nn, name)(*args)


KINDS = ["Zero", "Constant", "Reflection", "Replication", "Circular"]
PADS = {1: [2, (1, 2)], 2: [1, (1, 0, 2, 1)], 3: [1, (1, 0, 0, 1, 1, 2)]}
SHAPES = {1: [(2, 3, 5), (3, 5)], 2: [(2, 2, 4, 5), (2, 4, 5)], 3: [(1, 2, 3, 4, 4), (2, 3, 4, 4)]}


def args(kind, pad):
    return (pad, 1.5) if kind == "Constant" else (pad,)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("batched", [0, 1])
def test_padding_layer(kind, d, which, batched):
    name = f"{kind}Pad{d}d"
    pad = PADS[d][which]
    check_module(lambda m: layer(m, name, *args(kind, pad)), SHAPES[d][batched])


@pytest.mark.parametrize("kind", ["Reflection", "Replication", "Constant"])
def test_padding_noncontiguous(kind):
    e_layer = layer(ember, f"{kind}Pad2d", *args(kind, (1, 2, 0, 1)))
    t_layer = layer(torch, f"{kind}Pad2d", *args(kind, (1, 2, 0, 1)))
    x = torch.randn(2, 3, 5, 6)
    e_out = e_layer(ember.tensor(x.numpy()).transpose(-1, -2)[:, 1:])
    t_out = t_layer(x.transpose(-1, -2)[:, 1:])
    assert torch.equal(torch.from_numpy(e_out.numpy()), t_out)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("pad", [3, (1, 2, 3, 4, 5, 6)])
def test_padding_attribute_and_repr(kind, d, pad):
    pad = pad if isinstance(pad, int) else pad[: 2 * d]
    e_layer = layer(ember, f"{kind}Pad{d}d", *args(kind, pad))
    t_layer = layer(torch, f"{kind}Pad{d}d", *args(kind, pad))
    assert e_layer.padding == t_layer.padding
    assert isinstance(e_layer.padding, tuple)
    assert repr(e_layer) == repr(t_layer)


CASES = [
    ("ReflectionPad2d", (1,), (3, 4), NotImplementedError, "Padding size 4 is not supported"),
    ("ReplicationPad1d", (1,), (4,), NotImplementedError, "Padding size 2 is not supported"),
    ("ReflectionPad3d", (1,), (3, 3, 3), NotImplementedError, "Padding size 6 is not supported"),
    ("ConstantPad2d", (1, 2.0), (3,), RuntimeError, "Padding length should be less than"),
    ("CircularPad2d", (1,), (3, 3), ValueError, r"expected 3D or 4D input \(got 2D input\)"),
    ("CircularPad1d", (1,), (2, 2, 2, 3), ValueError, r"expected 2D or 3D input \(got 4D"),
    ("CircularPad3d", (1,), (2, 3, 3), ValueError, r"expected 4D or 5D input \(got 3D"),
    ("ReflectionPad1d", (3,), (2, 3), RuntimeError, "Padding size should be less than"),
]


@pytest.mark.parametrize(("name", "a", "shape", "err", "match"), CASES)
def test_padding_errors(name, a, shape, err, match):
    for m in (torch, ember):
        with pytest.raises(err, match=match):
            layer(m, name, *a)(m.randn(*shape))
