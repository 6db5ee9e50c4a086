"""nn.functional.pad against PyTorch: every mode, values, dtypes, gradients, errors."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_F

import ember
import ember.nn.functional as F
from tests.helpers import assert_same, check_gradcheck, check_op


def _pad(m, *args, **kwargs):
    return (F if m is ember else torch_F).pad(*args, **kwargs)


# (input shape, pad) pairs that every non-constant mode accepts, negative pads included.
NONCONSTANT = [
    ((2, 5), (1, 2)),
    ((2, 3, 5), (2, 0)),
    ((2, 3, 5), (-1, 2)),
    ((2, 3, 5), (3, -2)),
    ((2, 3, 4), (1, 1, 2, 1)),
    ((2, 2, 3, 4), (0, 2, 1, 0)),
    ((2, 2, 3, 4), (-1, 1, 2, -1)),
    ((1, 3, 3, 4), (1, 1, 1, 2, 2, 1)),
    ((2, 1, 3, 3, 4), (2, 0, 0, 1, 1, 1)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(("shape", "pads"), NONCONSTANT)
def test_nonconstant_modes(mode, shape, pads):
    check_op(lambda m, x: _pad(m, x, pads, mode=mode), shape)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_nonconstant_noncontiguous(mode):
    check_op(lambda m, x: _pad(m, x.transpose(1, 2), (1, 2, 2, 1), mode), (2, 4, 3))
    check_op(lambda m, x: _pad(m, x[:, 1:], (2, 1), mode), (2, 5))


@pytest.mark.parametrize(
    "pads",
    [(1, 2), (0, 0), (-1, 2), (2, -3), (1, 1, 2, 0), (-1, -1, 1, -2), (1, 0, 0, 1, 2, 2), ()],
)
def test_constant(pads):
    check_op(lambda m, x: _pad(m, x, pads), (3, 4, 5))


def test_constant_value_and_all_dims():
    check_op(lambda m, x: _pad(m, x, (1, 1, 0, 2, 3, 0), value=-1.5), (2, 3, 4))
    check_op(lambda m, x: _pad(m, x, (1, 2), "constant", None), (4,))
    check_op(lambda m, x: _pad(m, x.T, (1, 2, 2, 1), value=2), (3, 4))
    check_op(lambda m, x: _pad(m, x, (-5, 0)), (5,))


def test_constant_0d_and_empty():
    check_op(lambda m, x: _pad(m, x, ()), ())
    check_op(lambda m, x: _pad(m, x, (1, 2)), (0, 3))
    check_op(lambda m, x: _pad(m, x, (1, 1), "circular"), (0, 3))
    check_op(lambda m, x: _pad(m, x, (1, 1, 1, 1), "reflect"), (0, 2, 3, 3))


@pytest.mark.parametrize(
    ("dtype", "mode", "value"),
    [
        ("int64", "constant", 3),
        ("int32", "constant", 2.7),
        ("bool", "constant", 1),
        ("bool", "constant", 0.5),
        ("bool", "circular", None),
        ("int64", "reflect", None),
        ("int32", "replicate", None),
        ("float64", "reflect", 0),
        ("float16", "circular", None),
    ],
)
def test_dtypes(dtype, mode, value):
    check_op(lambda m, x: _pad(m, x, (2, 1, 1, 0), mode, value), (2, 3, 4), dtype=dtype, low=-9)


def test_mixed_pads_match_torch_index_maps():
    x = np.arange(1.0, 6.0, dtype=np.float32).reshape(1, 5)
    cases = {
        "reflect": [(-1, 2), (2, -1), (-4, 3), (4, -3), (-2, -2), (-5, 1)],
        "replicate": [(-1, 2), (-6, 2), (7, -1)],
        "circular": [(-1, 2), (2, -1), (-1, 4), (-2, -2), (3, -2), (-3, 2), (-5, 0), (5, 5)],
    }
    for mode, pads in cases.items():
        for p in pads:
            assert_same(F.pad(ember.tensor(x), p, mode), torch_F.pad(torch.tensor(x), p, mode))


@pytest.mark.parametrize(
    ("mode", "shape", "pads"),
    [
        ("constant", (2, 3, 4), (1, -1, 2, 0)),
        ("reflect", (2, 4), (2, 1)),
        ("reflect", (1, 3, 4), (1, 2, -1, 2)),
        ("reflect", (1, 1, 3, 3, 3), (1, 1, 2, 0, 0, 1)),
        ("replicate", (2, 3), (2, -1)),
        ("replicate", (1, 2, 3, 3), (1, 0, 1, 2)),
        ("replicate", (1, 3, 2, 3), (1, 0, 0, 1, 1, 1)),
        ("circular", (2, 4), (-1, 2)),
        ("circular", (1, 2, 3, 3), (3, 1, 2, -1)),
        ("circular", (2, 2, 2, 3), (1, 1, 0, 2, 1, 0)),
    ],
)
def test_gradcheck(mode, shape, pads):
    check_gradcheck(lambda m, x: _pad(m, x, pads, mode), shape)


def test_composes_with_double_backward():
    x = ember.tensor(np.linspace(-1, 1, 10).reshape(2, 5), requires_grad=True)
    t = torch.tensor(np.linspace(-1, 1, 10).reshape(2, 5), requires_grad=True)
    results = []
    for m, v in ((ember, x), (torch, t)):
        y = _pad(m, v * v, (2, 3), "reflect")
        (g,) = m.autograd.grad((y * y * y).sum(), [v], create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), [v])
        results.append((g, gg))
    assert_same(results[0][0], results[1][0])
    assert_same(results[0][1], results[1][1])


def test_output_is_a_copy():
    x = ember.zeros(2, 3)
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert not np.shares_memory(F.pad(x, (1, 1), mode).data, x.data)


ERRORS = [
    (lambda m, x: _pad(m, x, (1, 2, 3)), RuntimeError, "Padding length must be divisible by 2"),
    (
        lambda m, x: _pad(m, x[0, 0, 0], (1, 2, 3, 4)),
        RuntimeError,
        "Padding length should be less than or equal to two times the input dimension but got "
        "padding length 4 and input of dimension 1",
    ),
    (lambda m, x: _pad(m, x, (1, 1), "foo"), NotImplementedError, "Unrecognised padding mode foo"),
    (lambda m, x: _pad(m, x, (1, 1), "zeros"), NotImplementedError, "Unrecognised padding mode"),
    (
        lambda m, x: _pad(m, x, (1, 1), "reflect", 1.0),
        RuntimeError,
        'Padding mode "reflect" doesn\'t take in value argument',
    ),
    (lambda m, x: _pad(m, x, (1.5, 1)), TypeError, "must be tuple of ints, but found element of"),
    (
        lambda m, x: _pad(m, x[0, 0, 0], (-3, -3)),
        RuntimeError,
        "narrow(): length must be non-negative",
    ),
    (
        lambda m, x: _pad(m, x[0, 0, 0], (1, 1), "reflect"),
        NotImplementedError,
        "Padding size 2 is not supported for 1D input tensor.\nSupported combinations for "
        "non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n",
    ),
    (lambda m, x: _pad(m, x, (1, 1), "circular"), NotImplementedError, "size 2 is not supported"),
    (lambda m, x: _pad(m, x, (1,) * 8, "replicate"), NotImplementedError, "size 8 is not"),
    (
        lambda m, x: _pad(m, x, (), "reflect"),
        NotImplementedError,
        "Padding size 0 is not supported",
    ),
    (
        lambda m, x: _pad(m, x[0], (5, 1), "reflect"),
        RuntimeError,
        "Argument #4: Padding size should be less than the corresponding input dimension, but "
        "got: padding (5, 1) at dimension 2 of input [3, 4, 5]",
    ),
    (
        lambda m, x: _pad(m, x, (0, 0, 4, 0), "reflect"),
        RuntimeError,
        "Argument #6: Padding size should be less than the corresponding input dimension, but "
        "got: padding (4, 0) at dimension 2 of input [2, 3, 4, 5]",
    ),
    (lambda m, x: _pad(m, x, (0, 0, 0, 0, 0, 3), "reflect"), RuntimeError, "Argument #8: Padd"),
    (
        lambda m, x: _pad(m, m.zeros(3, 0), (1, 1), "replicate"),
        RuntimeError,
        "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero "
        "dimensions for input, but got: [3, 0]",
    ),
    (lambda m, x: _pad(m, m.zeros(0, 3, 3), (1,) * 4, "reflect"), RuntimeError, "Expected 3D or"),
    (lambda m, x: _pad(m, m.zeros(3, 0, 3, 3), (1,) * 4, "reflect"), RuntimeError, "but got: [3"),
    (lambda m, x: _pad(m, x[0], (-5, 0), "replicate"), RuntimeError, "input (W: 5) is too small."),
    (lambda m, x: _pad(m, x[0], (-2, -4), "reflect"), RuntimeError, "Calculated output W: -1"),
    (
        lambda m, x: _pad(m, x, (0, 0, -3, -3), "replicate"),
        RuntimeError,
        "Trying to create tensor with negative dimension -2: [2, 3, -2, 5]",
    ),
    (lambda m, x: _pad(m, x[0], (6, 5), "circular"), RuntimeError, "wrapping around more than"),
    (
        lambda m, x: _pad(m, m.zeros(2, 3, 0), (1,) * 4, "circular"),
        RuntimeError,
        "wrapping around more than once",
    ),
    (lambda m, x: _pad(m, x, (-3, -3, 0, 0), "circular"), RuntimeError, "resulting in an empty"),
    (
        lambda m, x: _pad(m, x[0].bool(), (1, 1), "replicate"),
        NotImplementedError,
        "not implemented",
    ),
    (lambda m, x: _pad(m, x[0].bool(), (1, 1), "reflect"), NotImplementedError, "for 'Bool'"),
    (lambda m, x: _pad(m, x.byte(), (1, 1), value=300), RuntimeError, "cannot be converted to"),
]


@pytest.mark.parametrize(("fn", "exc", "message"), ERRORS)
def test_errors_match_torch(fn, exc, message):
    for m in (ember, torch):
        x = m.zeros(2, 3, 4, 5)
        with pytest.raises(exc, match=re.escape(message)):
            fn(m, x)


def test_circular_wrap_beyond_cropped_part_raises():
    # PyTorch reads uninitialised memory here; Ember refuses.
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(ember.zeros(1, 5), (-5, 2), "circular")


def test_pad_accepts_0d_int_tensors():
    check_op(lambda m, x: _pad(m, x, (m.tensor(1), 2)), (2, 3))


def test_nn_namespace():
    assert ember.nn.functional.pad is F.pad
    assert "pad" in F.__all__
