"""nn.RNN, nn.LSTM and nn.GRU against PyTorch: outputs, final states and every gradient."""

import math
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn as ember_rnn  # the public namespace
from ember.nn.utils import rnn as ember_rnn_utils
from tests.helpers import assert_same, check_module, state_dict_to_ember


def nn_of(m):
    return ember_rnn if m is ember else torch.nn


def utils_of(layer):
    return torch.nn.utils.rnn if isinstance(layer, torch.nn.Module) else ember_rnn_utils


def lib_of(layer):
    return torch if isinstance(layer, torch.nn.Module) else ember


def flat(layer, out, state):
    """Output and final state(s) in one vector, so one upstream gradient reaches all of them."""
    m = lib_of(layer)
    states = state if isinstance(state, tuple) else (state,)
    return m.cat([out.reshape(-1), *(s.reshape(-1) for s in states)])


MODES = ["RNN", "LSTM", "GRU"]
CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True},
    {"bias": False, "num_layers": 2},
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("config", CONFIGS)
def test_layer_output_and_state(mode, config):
    make = lambda m: getattr(nn_of(m), mode)(5, 6, **config)  # noqa: E731
    check_module(make, (4, 3, 5))  # output + (h_n[, c_n]) compared; backward from the output
    check_module(make, (4, 3, 5), call=lambda layer, x: flat(layer, *layer(x)), seed=1)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_initial_state_gradients(mode, bidirectional):
    D = 2 if bidirectional else 1
    shapes = [(5, 2, 3), (2 * D, 2, 4)] + ([(2 * D, 2, 4)] if mode == "LSTM" else [])

    def call(layer, x, h0, c0=None):
        out, state = layer(x, (h0, c0) if c0 is not None else h0)
        return flat(layer, out, state)

    make = lambda m: getattr(nn_of(m), mode)(3, 4, 2, bidirectional=bidirectional)  # noqa: E731
    check_module(make, *shapes, call=call)


def test_rnn_relu():
    make = lambda m: nn_of(m).RNN(4, 5, 2, nonlinearity="relu", bidirectional=True)  # noqa: E731
    check_module(make, (6, 3, 4), call=lambda layer, x: flat(layer, *layer(x)))


@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True}])
def test_lstm_proj_size(config):
    warnings.filterwarnings("ignore", "LSTM with projections", UserWarning)  # torch's oneDNN note
    make = lambda m: nn_of(m).LSTM(4, 6, proj_size=3, **config)  # noqa: E731
    e_layer, _ = check_module(make, (5, 2, 4), call=lambda layer, x: flat(layer, *layer(x)))
    assert tuple(e_layer.weight_hr_l0.shape) == (3, 6)
    assert tuple(e_layer.weight_hh_l0.shape) == (24, 3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_noncontiguous_input(mode, batch_first):
    make = lambda m: getattr(nn_of(m), mode)(4, 3, batch_first=batch_first)  # noqa: E731
    # A transposed and sliced input: (4, 3, 6) -> (3, 4, 6)[..., 2:].
    call = lambda layer, x: flat(layer, *layer(x.transpose(0, 1)[..., 2:]))  # noqa: E731
    check_module(make, (4, 3, 6), call=call)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched(mode):
    make = lambda m: getattr(nn_of(m), mode)(3, 4, 2, bidirectional=True)  # noqa: E731
    check_module(make, (5, 3), call=lambda layer, x: flat(layer, *layer(x)))
    shapes = [(5, 3), (4, 4)] + ([(4, 4)] if mode == "LSTM" else [])

    def with_state(layer, x, h0, c0=None):
        out, state = layer(x, (h0, c0) if c0 is not None else h0)
        assert tuple(out.shape) == (5, 8)
        return flat(layer, out, state)

    check_module(make, *shapes, call=with_state)


@pytest.mark.parametrize("mode", MODES)
def test_dropout_eval_is_identity(mode):
    make = lambda m: getattr(nn_of(m), mode)(3, 4, 3, dropout=0.5)  # noqa: E731
    check_module(make, (5, 2, 3), train=False, call=lambda layer, x: flat(layer, *layer(x)))


def test_dropout_train_between_layers_only():
    ember.manual_seed(0)
    layer = ember_rnn.LSTM(3, 4, 2, dropout=0.5)
    x = ember.randn(6, 2, 3)
    ember.manual_seed(1)
    out1, (h1, _) = layer(x)
    ember.manual_seed(1)
    out2, _ = layer(x)
    assert_same(out2, torch.tensor(out1.data))  # reproducible with the seed
    out_eval, (h_eval, _) = layer.eval()(x)
    # Dropout changes what layer 1 sees, but not layer 0's own states.
    assert np.array_equal(h1.data[0], h_eval.data[0])
    assert not np.allclose(out1.data, out_eval.data)
    # The last layer's output is not dropped: no exact zeros in the output.
    assert np.count_nonzero(out1.data == 0) == 0
    # One layer: dropout has nowhere to go (PyTorch warns about it).
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        single = ember_rnn.GRU(3, 4, dropout=0.5)
    assert_same(single(x)[0], torch.tensor(single.eval()(x)[0].data))


def test_dropout_train_matches_manual_mask():
    # With the dropout mask drawn from the same seed, a 2-layer LSTM equals two 1-layer LSTMs
    # with F.dropout between them.
    ember.manual_seed(3)
    two = ember_rnn.LSTM(3, 4, 2, dropout=0.3)
    first, second = ember_rnn.LSTM(3, 4), ember_rnn.LSTM(4, 4)
    sd = two.state_dict()
    first.load_state_dict({k.replace("_l0", "_l0"): v for k, v in sd.items() if "_l0" in k})
    second.load_state_dict({k.replace("_l1", "_l0"): v for k, v in sd.items() if "_l1" in k})
    x = ember.randn(5, 2, 3)
    ember.manual_seed(7)
    out, _ = two(x)
    ember.manual_seed(7)
    mid = ember.nn.functional.dropout(first(x)[0].reshape(10, 4), 0.3, True).reshape(5, 2, 4)
    assert_same(out, torch.tensor(second(mid)[0].data), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_parameter_names_shapes_and_init(mode):
    e_layer = getattr(ember_rnn, mode)(3, 16, 2, bidirectional=True)
    t_layer = getattr(torch.nn, mode)(3, 16, 2, bidirectional=True)
    e_params, t_params = dict(e_layer.named_parameters()), dict(t_layer.named_parameters())
    assert list(e_params) == list(t_params)
    for name, p in t_params.items():
        assert tuple(e_params[name].shape) == tuple(p.shape)
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.data.reshape(-1) for p in e_params.values()])
    assert values.dtype == np.float32
    assert np.all(np.abs(values) <= bound) and values.std() > bound / 2  # U(-b, b): std b/sqrt(3)
    assert e_layer._all_weights == t_layer._all_weights
    assert e_layer.all_weights[0][0] is e_layer.weight_ih_l0
    e_layer.flatten_parameters()  # a no-op, as on CPU in PyTorch


def test_state_dict_round_trip_to_torch():
    e_layer = ember_rnn.LSTM(3, 5, 2, proj_size=2, bidirectional=True)
    t_layer = torch.nn.LSTM(3, 5, 2, proj_size=2, bidirectional=True)
    t_layer.load_state_dict({k: torch.tensor(v.data) for k, v in e_layer.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype(np.float32)
    e_out, (e_h, e_c) = e_layer(ember.tensor(x))
    t_out, (t_h, t_c) = t_layer(torch.tensor(x))
    assert_same((e_out, e_h, e_c), (t_out, t_h, t_c))


def test_repr_matches_torch():
    warnings.filterwarnings("ignore", "dropout option adds dropout", UserWarning)
    for mode, kwargs in [
        ("LSTM", {"num_layers": 2}),
        ("LSTM", {"proj_size": 2, "bias": False, "batch_first": True, "dropout": 0.1}),
        ("LSTM", {"bidirectional": True}),
        ("GRU", {"num_layers": 3}),
        ("RNN", {"nonlinearity": "relu"}),
        ("RNN", {}),
    ]:
        e_layer = getattr(ember_rnn, mode)(3, 4, **kwargs)
        assert repr(e_layer) == repr(getattr(torch.nn, mode)(3, 4, **kwargs))


def test_double_dtype_layer():
    make = lambda m: nn_of(m).GRU(3, 4, 2, dtype=m.float64)  # noqa: E731
    check_module(make, (4, 2, 3), dtype="float64", call=lambda layer, x: flat(layer, *layer(x)))


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_layer_gradcheck(mode):
    layer = getattr(ember_rnn, mode)(2, 3, 2, bidirectional=True, dtype=ember.float64)
    x = ember.randn(3, 2, 2, dtype=ember.float64, requires_grad=True)

    def fn(x):
        out, state = layer(x)
        return flat(layer, out, state)

    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


# -- errors -------------------------------------------------------------------------------------
def _raises_like_torch(e_call, t_call, err, match):
    with pytest.raises(err, match=match):
        t_call()
    with pytest.raises(err, match=match):
        e_call()


@pytest.mark.parametrize(
    ("args", "kwargs", "err", "match"),
    [
        ((10, 20), {"dropout": 1.5}, ValueError, "dropout should be a number in range"),
        ((10, 20), {"proj_size": 20}, ValueError, "proj_size has to be smaller than hidden_size"),
        ((10, 20), {"proj_size": -1}, ValueError, "proj_size should be a positive integer"),
        ((10, 0), {}, ValueError, "hidden_size must be greater than zero"),
        ((10, 20), {"num_layers": 0}, ValueError, "num_layers must be greater than zero"),
        ((10, 2.5), {}, TypeError, "hidden_size should be of type int, got: float"),
    ],
)
def test_constructor_errors(args, kwargs, err, match):
    _raises_like_torch(
        lambda: ember_rnn.LSTM(*args, **kwargs), lambda: torch.nn.LSTM(*args, **kwargs), err, match
    )


def test_rnn_nonlinearity_error():
    match = r"Unknown nonlinearity 'foo'. Select from 'tanh' or 'relu'."
    _raises_like_torch(
        lambda: ember_rnn.RNN(3, 4, nonlinearity="foo"),
        lambda: torch.nn.RNN(3, 4, nonlinearity="foo"),
        ValueError,
        match,
    )


def _both(mode, *args, **kwargs):
    e_layer = getattr(ember_rnn, mode)(*args, **kwargs)
    t_layer = getattr(torch.nn, mode)(*args, **kwargs)
    e_layer.load_state_dict(state_dict_to_ember(t_layer.state_dict()))
    return e_layer, t_layer


def _states(m, shapes):
    return tuple(m.zeros(*s) for s in shapes)


@pytest.mark.parametrize(
    ("mode", "x_shape", "state_shapes", "err", "match"),
    [
        ("LSTM", (5, 3, 12), None, RuntimeError, r"input.size\(-1\) must be equal to input_size. "
         r"Expected 10, got 12"),
        ("LSTM", (5, 3, 10, 2), None, ValueError, "LSTM: Expected input to be 2D or 3D, got 4D"),
        ("GRU", (5, 3, 10, 2), None, ValueError, "GRU: Expected input to be 2D or 3D, got 4D"),
        ("LSTM", (5, 3, 10), [(2, 4, 20), (2, 3, 20)], RuntimeError,
         r"Expected hidden\[0\] size \(2, 3, 20\), got \[2, 4, 20\]"),
        ("LSTM", (5, 3, 10), [(2, 3, 20), (1, 3, 20)], RuntimeError,
         r"Expected hidden\[1\] size \(2, 3, 20\), got \[1, 3, 20\]"),
        ("LSTM", (5, 10), [(2, 3, 20), (2, 3, 20)], RuntimeError,
         r"For unbatched 2-D input, hx and cx should also be 2-D but got \(3-D, 3-D\) tensors"),
        ("GRU", (5, 3, 10), [(2, 4, 20)], RuntimeError,
         r"Expected hidden size \(2, 3, 20\), got \[2, 4, 20\]"),
        ("GRU", (5, 10), [(2, 3, 20)], RuntimeError,
         "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
        ("RNN", (5, 3, 10), [(2, 20)], RuntimeError,
         "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    ],
)  # fmt: skip
def test_forward_errors(mode, x_shape, state_shapes, err, match):
    e_layer, t_layer = _both(mode, 10, 20, 2)

    def call(m, layer):
        x = m.zeros(*x_shape)
        if state_shapes is None:
            return layer(x)
        states = _states(m, state_shapes)
        return layer(x, states if mode == "LSTM" else states[0])

    _raises_like_torch(lambda: call(ember, e_layer), lambda: call(torch, t_layer), err, match)


def test_dtype_mismatch_error():
    e_layer, t_layer = _both("LSTM", 3, 4)
    match = r"input dtype \((ember|torch).float64\) does not match weight dtype"
    _raises_like_torch(
        lambda: e_layer(ember.zeros(2, 1, 3, dtype=ember.float64)),
        lambda: t_layer(torch.zeros(2, 1, 3, dtype=torch.float64)),
        ValueError,
        match,
    )
