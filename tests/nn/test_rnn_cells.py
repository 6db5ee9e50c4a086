"""RNNCell, LSTMCell, GRUCell and the fused step ops (ops/rnn_cells.py) against PyTorch."""

import math

import numpy as np
import pytest
import torch

import ember
from ember import nn as ember_rnn  # the public namespace
from ember.ops import rnn_cells
from tests.helpers import assert_same, check_gradcheck, check_module, check_op


def nn_of(m):
    return ember_rnn if m is ember else torch.nn


def fns(m):
    return rnn_cells if m is ember else torch


def flat(m, out):
    outs = out if isinstance(out, tuple) else (out,)
    return m.cat([o.reshape(-1) for o in outs])


def lib_of(layer):
    return torch if isinstance(layer, torch.nn.Module) else ember


CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("RNNCell", {"bias": False}),
    ("LSTMCell", {}),
    ("LSTMCell", {"bias": False}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]


@pytest.mark.parametrize(("name", "kwargs"), CELLS)
def test_cell(name, kwargs):
    make = lambda m: getattr(nn_of(m), name)(5, 4, **kwargs)  # noqa: E731
    check_module(make, (3, 5))  # hx defaults to zeros
    shapes = [(3, 5), (3, 4)] + ([(3, 4)] if name == "LSTMCell" else [])

    def call(layer, x, h, c=None):
        return flat(lib_of(layer), layer(x, (h, c) if c is not None else h))

    check_module(make, *shapes, call=call, seed=1)


@pytest.mark.parametrize(("name", "kwargs"), CELLS[::2])
def test_cell_unbatched(name, kwargs):
    make = lambda m: getattr(nn_of(m), name)(5, 4, **kwargs)  # noqa: E731
    shapes = [(5,), (4,)] + ([(4,)] if name == "LSTMCell" else [])

    def call(layer, x, h, c=None):
        out = layer(x, (h, c) if c is not None else h)
        assert tuple((out[0] if isinstance(out, tuple) else out).shape) == (4,)
        return flat(lib_of(layer), out)

    check_module(make, *shapes, call=call)
    check_module(make, (5,), call=lambda layer, x: flat(lib_of(layer), layer(x)))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_unrolled_over_a_sequence(name):
    # The cells chained over 4 steps (gradients through the recurrence), noncontiguous input.
    make = lambda m: getattr(nn_of(m), name)(3, 4)  # noqa: E731

    def call(layer, x):
        m, state, outs = lib_of(layer), None, []
        for t in range(x.shape[1]):
            state = layer(x[:, t], state)
            outs.append(state[0] if isinstance(state, tuple) else state)
        return m.stack(outs)

    check_module(make, (2, 4, 3), call=call)


@pytest.mark.parametrize("name", ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"])
def test_functional_cells(name):
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(name, 1)
    H = 3

    def fn(m, x, h, c, w_ih, w_hh, b_ih, b_hh):
        hx = (h, c) if name == "lstm_cell" else h
        return getattr(fns(m), name)(x, hx, w_ih, w_hh, b_ih, b_hh)

    shapes = [(2, 5), (2, H), (2, H), (gates * H, 5), (gates * H, H), (gates * H,), (gates * H,)]
    check_op(fn, *shapes)
    check_op(lambda m, x, h, c, w_ih, w_hh: fn(m, x, h, c, w_ih, w_hh, None, None), *shapes[:5])


# -- the fused step ops: first and second derivatives (float64) ---------------------------------
@pytest.mark.parametrize("relu", [False, True])
def test_rnn_step_gradcheck(relu):
    step = rnn_cells.RNNStep
    # relu: keep the pre-activations away from the kink at 0
    low = 0.2 if relu else -1.0
    check_gradcheck(
        lambda m, gx, h, w: step.apply(gx, h, w, relu, None), (2, 3), (2, 3), (3, 3), low=low
    )


def test_lstm_step_gradcheck():
    def fn(m, gx, h, c, w):
        return rnn_cells.LSTMStep.apply(gx, h, c, w, None)

    check_gradcheck(fn, (2, 8), (2, 2), (2, 2), (8, 2))


@pytest.mark.parametrize("bias", [True, False])
def test_gru_step_gradcheck(bias):
    if bias:
        fn = lambda m, gx, h, w, b: rnn_cells.GRUStep.apply(gx, h, w, b, None)  # noqa: E731
        check_gradcheck(fn, (2, 6), (2, 2), (6, 2), (6,))
    else:
        fn = lambda m, gx, h, w: rnn_cells.GRUStep.apply(gx, h, w, None, None)  # noqa: E731
        check_gradcheck(fn, (2, 6), (2, 2), (6, 2))


def test_create_graph_gradients_match_fast_path():
    # The composed (create_graph) backward gives the same first derivatives as the NumPy one.
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in [(3, 8), (3, 2), (3, 2), (8, 2)]]
    xs = [ember.tensor(a, requires_grad=True) for a in arrays]
    h, c = rnn_cells.LSTMStep.apply(*xs, None)
    g = [ember.tensor(rng.standard_normal((3, 2))) for _ in range(2)]
    fast = ember.autograd.grad([h, c], xs, g, retain_graph=True)
    composed = ember.autograd.grad([h, c], xs, g, create_graph=True)
    for a, b in zip(fast, composed):
        assert b.requires_grad
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)


def test_step_keeps_float32():
    xs = [ember.randn(*s, requires_grad=True) for s in [(2, 8), (2, 2), (2, 2), (8, 2)]]
    h, c = rnn_cells.LSTMStep.apply(*xs, None)
    assert h.dtype is ember.float32 and c.dtype is ember.float32
    (h.sum() + c.sum()).backward()
    assert all(x.grad.dtype is ember.float32 for x in xs)


def test_sigmoid_saturates_without_warnings():
    # pytest turns RuntimeWarnings into errors: huge pre-activations must not overflow exp.
    gx = ember.tensor(np.array([[1e4, -1e4, 1e4, -1e4, 80.0, -100.0]], dtype=np.float32))
    out = rnn_cells.GRUStep.apply(gx, ember.zeros(1, 2), ember.zeros(6, 2), None, None)
    assert np.all(np.isfinite(out.data))


# -- init, repr, errors -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_parameters_and_init(name):
    e_cell, t_cell = getattr(ember_rnn, name)(3, 25), getattr(torch.nn, name)(3, 25)
    e_sd, t_sd = e_cell.state_dict(), t_cell.state_dict()
    assert list(e_sd) == list(t_sd)
    assert all(tuple(e_sd[k].shape) == tuple(t_sd[k].shape) for k in t_sd)
    values = np.concatenate([p.data.reshape(-1) for p in e_cell.parameters()])
    bound = 1 / math.sqrt(25)
    assert np.all(np.abs(values) <= bound) and values.std() > bound / 2


def test_cell_repr():
    for name, kwargs in [
        ("LSTMCell", {"bias": False}),
        ("RNNCell", {"nonlinearity": "relu"}),
        ("RNNCell", {}),
        ("GRUCell", {}),
    ]:
        assert repr(getattr(ember_rnn, name)(3, 4, **kwargs)) == repr(
            getattr(torch.nn, name)(3, 4, **kwargs)
        )


@pytest.mark.parametrize(
    ("name", "x_shape", "state_shapes", "err", "match"),
    [
        ("LSTMCell", (3, 12), None, RuntimeError,
         "input has inconsistent input_size: got 12 expected 10"),
        ("LSTMCell", (3, 4, 10), None, ValueError,
         "LSTMCell: Expected input to be 1D or 2D, got 3D instead"),
        ("LSTMCell", (3, 10), [(4, 20), (4, 20)], RuntimeError,
         "Input batch size 3 doesn't match hidden0 batch size 4"),
        ("LSTMCell", (3, 10), [(3, 21), (3, 20)], RuntimeError,
         "hidden0 has inconsistent hidden_size: got 21, expected 20"),
        ("LSTMCell", (3, 10), [(3, 20), (4, 20)], RuntimeError,
         "Input batch size 3 doesn't match hidden1 batch size 4"),
        ("GRUCell", (3, 10), [(4, 20)], RuntimeError,
         "Input batch size 3 doesn't match hidden0 batch size 4"),
        ("RNNCell", (3, 11), None, RuntimeError,
         "input has inconsistent input_size: got 11 expected 10"),
        ("RNNCell", (3, 10), [(2, 3, 20)], ValueError,
         "RNNCell: Expected hidden to be 1D or 2D, got 3D instead"),
    ],
)  # fmt: skip
def test_cell_errors(name, x_shape, state_shapes, err, match):
    def call(m):
        cell = getattr(nn_of(m), name)(10, 20)
        x = m.zeros(*x_shape)
        if state_shapes is None:
            return cell(x)
        states = tuple(m.zeros(*s) for s in state_shapes)
        return cell(x, states if name == "LSTMCell" else states[0])

    with pytest.raises(err, match=match):
        call(torch)
    with pytest.raises(err, match=match):
        call(ember)


def test_rnn_cell_unknown_nonlinearity():
    for m in (torch, ember):
        cell = nn_of(m).RNNCell(3, 4, nonlinearity="x")
        with pytest.raises(RuntimeError, match="Unknown nonlinearity: x"):
            cell(m.zeros(2, 3))


def test_cell_state_dict_from_torch():
    t_cell = torch.nn.LSTMCell(3, 4)
    e_cell = ember_rnn.LSTMCell(3, 4)
    e_cell.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_cell.state_dict().items()})
    x = np.ones((2, 3), dtype=np.float32)
    assert_same(e_cell(ember.tensor(x)), t_cell(torch.tensor(x)))
