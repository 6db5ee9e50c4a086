"""nn.utils.rnn (packing and padding) and packed sequences through RNN/LSTM/GRU, vs PyTorch."""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn as ember_rnn  # the public namespace
from ember.nn.utils import rnn as ember_rnn_utils
from tests.helpers import assert_same, check_module, check_op


def utils(m):
    return ember_rnn_utils if m is ember else torch.nn.utils.rnn


def lib_of(layer):
    return torch if isinstance(layer, torch.nn.Module) else ember


def utils_of(layer):
    return torch.nn.utils.rnn if isinstance(layer, torch.nn.Module) else ember_rnn_utils


def packed_fields(p):
    return tuple(p)  # (data, batch_sizes, sorted_indices, unsorted_indices)


# -- packing and padding ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lengths", "enforce_sorted"),
    [([4, 3, 3, 1], True), ([2, 4, 1, 4], False), ([3, 3, 3], True), ([1], True)],
)
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence(lengths, enforce_sorted, batch_first):
    B, T = len(lengths), max(lengths)
    shape = (B, T, 2) if batch_first else (T, B, 2)

    def fn(m, x):
        p = utils(m).pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        return packed_fields(p)

    check_op(fn, shape)  # data values and gradients (padding gets none), batch_sizes, indices
    # lengths as an int64 tensor too
    check_op(
        lambda m, x: packed_fields(
            utils(m).pack_padded_sequence(x, m.tensor(lengths), batch_first, enforce_sorted)
        ),
        shape,
    )


@pytest.mark.parametrize("lengths", [[4, 3, 3, 1], [2, 4, 1, 4]])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 6])
def test_pad_packed_round_trip(lengths, batch_first, total_length):
    B, T = len(lengths), max(lengths)

    def fn(m, x):
        p = utils(m).pack_padded_sequence(x, lengths, enforce_sorted=False)
        padded, lens = utils(m).pad_packed_sequence(p, batch_first, -1.5, total_length)
        return padded, lens

    check_op(fn, (T, B, 3))


def test_pad_packed_sequence_of_packed_data():
    # Gradients flow from the padded result back into the packed data.
    def fn(m, data):
        p = utils(m).PackedSequence(data, m.tensor([3, 2, 2, 1]), m.tensor([2, 0, 1]))
        return utils(m).pad_packed_sequence(p, batch_first=True)

    check_op(fn, (8, 2))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    def fn(m, a, b, c):
        return utils(m).pad_sequence([a, b, c], batch_first, 0.5, padding_side)

    check_op(fn, (3, 2), (5, 2), (1, 2))
    check_op(lambda m, a, b: utils(m).pad_sequence([a, b], batch_first), (3,), (4,))


def test_pack_sequence_and_unpack():
    def fn(m, a, b, c):
        return packed_fields(utils(m).pack_sequence([a, b, c], enforce_sorted=False))

    check_op(fn, (2, 3), (4, 3), (1, 3))
    check_op(lambda m, a, b: packed_fields(utils(m).pack_sequence([a, b])), (4, 3), (2, 3))

    def unpack(m, a, b, c):
        return tuple(utils(m).unpack_sequence(utils(m).pack_sequence([a, b, c], False)))

    check_op(unpack, (2, 3), (4, 3), (1, 3))


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence(batch_first):
    lengths = [3, 1, 2]
    # x * 1: torch's unpad_sequence transposes its input in place, which a leaf refuses.
    check_op(
        lambda m, x: tuple(utils(m).unpad_sequence(x * 1, m.tensor(lengths), batch_first)),
        (3, 3, 2),
    )


def test_packed_sequence_fields_and_to():
    p = ember_rnn_utils.PackedSequence(ember.ones(3, 2), ember.tensor([2, 1]), ember.tensor([1, 0]))
    assert p.unsorted_indices.tolist() == [1, 0]
    assert p.double().data.dtype is ember.float64
    assert p.double().float().data.dtype is ember.float32
    assert p.to(ember.float32) is p
    assert not p.is_cuda
    _data, batch_sizes, sorted_indices, _ = p
    assert batch_sizes.tolist() == [2, 1] and sorted_indices.tolist() == [1, 0]


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda u, m: u.pack_padded_sequence(m.zeros(5, 3, 2), [2, 3, 1]), RuntimeError,
         "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True"),
        (lambda u, m: u.pack_padded_sequence(m.zeros(5, 3, 2), [2, 3]), RuntimeError,
         r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 \(batch_size=3\)"),
        (lambda u, m: u.pack_padded_sequence(m.zeros(5, 3, 2), [3, 2, 0], enforce_sorted=False),
         RuntimeError, "Length of all samples has to be greater than 0"),
        (lambda u, m: u.pad_packed_sequence(u.pack_padded_sequence(m.zeros(3, 3), [3, 2, 1]),
                                            total_length=2),
         ValueError, "Expected total_length to be at least the length of the longest sequence"),
        (lambda u, m: u.pad_sequence([m.zeros(3), m.zeros(2)], padding_side="middle"),
         RuntimeError, "Expected padding_side to be one of left or right, but got middle."),
        (lambda u, m: u.pad_sequence([m.zeros(3, 2), m.zeros(2, 3)]), RuntimeError,
         r"The size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton "
         "dimension 1"),
        (lambda u, m: u.pad_sequence([]), RuntimeError, "received an empty list of sequences"),
        (lambda u, m: u.pack_sequence([m.zeros(2), m.zeros(3)]), RuntimeError,
         "must be sorted in decreasing order"),
    ],
)  # fmt: skip
def test_errors(call, err, match):
    with pytest.raises(err, match=match):
        call(torch.nn.utils.rnn, torch)
    with pytest.raises(err, match=match):
        call(ember_rnn_utils, ember)


def test_length_longer_than_input_is_an_error():
    with pytest.raises(RuntimeError, match="exceeds the padded length"):
        ember_rnn_utils.pack_padded_sequence(ember.zeros(5, 3, 2), [6, 2, 1])


# -- packed sequences through the layers --------------------------------------------------------
def packed_call(lengths, enforce_sorted, batch_first=False, with_state=False):
    def call(layer, x, *states):
        u, m = utils_of(layer), lib_of(layer)
        p = u.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        hx = None
        if with_state:
            hx = states if len(states) == 2 else states[0]
        out, state = layer(p, hx)
        assert isinstance(out, u.PackedSequence)
        padded, _lens = u.pad_packed_sequence(out, batch_first)
        states = state if isinstance(state, tuple) else (state,)
        return m.cat([padded.reshape(-1), *(s.reshape(-1) for s in states)])

    return call


MODES = ["RNN", "LSTM", "GRU"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("lengths", "enforce_sorted"), [([5, 3, 3, 1], True), ([2, 5, 1, 4], False)]
)
@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True}])
def test_layer_on_packed(mode, lengths, enforce_sorted, config):
    def make(m):
        return getattr(ember_rnn if m is ember else torch.nn, mode)(3, 4, **config)

    check_module(make, (5, 4, 3), call=packed_call(lengths, enforce_sorted))


@pytest.mark.parametrize("mode", MODES)
def test_layer_on_packed_with_initial_state(mode):
    lengths = [2, 5, 1, 4]
    D, L = 2, 2
    shapes = [(5, 4, 3), (L * D, 4, 4)] + ([(L * D, 4, 4)] if mode == "LSTM" else [])

    def make(m):
        return getattr(ember_rnn if m is ember else torch.nn, mode)(3, 4, L, bidirectional=True)

    check_module(make, *shapes, call=packed_call(lengths, False, with_state=True))


def test_lstm_proj_on_packed_batch_first():
    warnings.filterwarnings("ignore", "LSTM with projections", UserWarning)

    def make(m):
        nn = ember_rnn if m is ember else torch.nn
        return nn.LSTM(3, 5, 2, proj_size=2, bidirectional=True, batch_first=True)

    check_module(make, (4, 5, 3), call=packed_call([3, 5, 1, 2], False, batch_first=True))


def test_packed_output_fields_match_torch():
    lengths = [2, 4, 1]
    x = np.random.default_rng(0).standard_normal((4, 3, 2)).astype(np.float32)
    t_layer = torch.nn.GRU(2, 3, bidirectional=True)
    e_layer = ember_rnn.GRU(2, 3, bidirectional=True)
    e_layer.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_layer.state_dict().items()})
    t_p = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    e_p = ember_rnn_utils.pack_padded_sequence(ember.tensor(x), lengths, enforce_sorted=False)
    (t_out, t_h), (e_out, e_h) = t_layer(t_p), e_layer(e_p)
    assert_same(tuple(e_out), tuple(t_out))
    assert_same(e_h, t_h)
