"""Transformer layers, stacks and nn.Transformer against PyTorch (state_dict copied)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.nn import functional as F
from ember.nn import transformer as T
from tests.helpers import check_module

TOL = {"rtol": 1e-4, "atol": 1e-4}
RNG = np.random.default_rng(0)


def nn(m, name):
    return getattr(T if m is ember else torch.nn, name)


def lib(x):
    return ember if isinstance(x, ember.Tensor) else torch


def encoder_layer(m, **kwargs):
    kwargs = {"dropout": 0.0, **kwargs}
    return nn(m, "TransformerEncoderLayer")(8, 2, 16, **kwargs)


def decoder_layer(m, **kwargs):
    kwargs = {"dropout": 0.0, **kwargs}
    return nn(m, "TransformerDecoderLayer")(8, 2, 16, **kwargs)


def masks(kind, L, S, N):
    """An attention mask (L, S) and a key padding mask (N, S), bool or float; no row all masked."""
    attn = RNG.random((L, S)) < 0.3
    pad = RNG.random((N, S)) < 0.3
    attn[:, 0] = pad[:, 0] = False
    if kind == "float":
        return np.where(attn, -np.inf, 0).astype(np.float32), np.where(pad, -np.inf, 0).astype(
            np.float32
        )
    return attn, pad


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer(norm_first, activation, batch_first):
    kw = {"norm_first": norm_first, "activation": activation, "batch_first": batch_first}
    check_module(lambda m: encoder_layer(m, **kw), (5, 3, 8), **TOL)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_encoder_layer_masks(kind):
    attn, pad = masks(kind, 5, 5, 3)

    def call(layer, x):
        m = lib(x)
        return layer(x, src_mask=m.tensor(attn), src_key_padding_mask=m.tensor(pad))

    check_module(lambda m: encoder_layer(m, batch_first=True), (3, 5, 8), call=call, **TOL)


def test_encoder_layer_callable_activation_and_no_bias():
    check_module(
        lambda m: encoder_layer(m, activation=m.nn.functional.silu, bias=False), (5, 3, 8), **TOL
    )
    check_module(lambda m: encoder_layer(m, activation=m.nn.GELU("tanh")), (5, 3, 8), **TOL)


def test_encoder_layer_unbatched_and_causal():
    mask = T.Transformer.generate_square_subsequent_mask(5)

    def call(layer, x):
        m = lib(x)
        return layer(x, src_mask=m.tensor(mask.data), is_causal=True)

    check_module(lambda m: encoder_layer(m), (5, 8), call=call, **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, batch_first):
    kw = {"norm_first": norm_first, "batch_first": batch_first, "activation": "gelu"}
    shapes = ((3, 4, 8), (3, 6, 8)) if batch_first else ((4, 3, 8), (6, 3, 8))
    check_module(lambda m: decoder_layer(m, **kw), *shapes, **TOL)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_decoder_layer_masks(kind):
    tgt_mask, tgt_pad = masks(kind, 4, 4, 3)
    mem_mask, mem_pad = masks(kind, 4, 6, 3)

    def call(layer, tgt, memory):
        m = lib(tgt)
        return layer(
            tgt,
            memory,
            tgt_mask=m.tensor(tgt_mask),
            memory_mask=m.tensor(mem_mask),
            tgt_key_padding_mask=m.tensor(tgt_pad),
            memory_key_padding_mask=m.tensor(mem_pad),
        )

    check_module(lambda m: decoder_layer(m), (4, 3, 8), (6, 3, 8), call=call, **TOL)


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack(norm):
    def make(m):
        layer = encoder_layer(m, batch_first=True)
        final = m.nn.LayerNorm(8) if norm else None
        return nn(m, "TransformerEncoder")(layer, 2, final, enable_nested_tensor=False)

    mask = np.triu(np.full((5, 5), -np.inf, np.float32), 1)
    pad = np.where(RNG.random((3, 5)) < 0.3, -np.inf, 0).astype(np.float32)
    pad[:, 0] = 0  # the same type as mask: PyTorch warns on mismatched mask types

    def call(layer, x):
        m = lib(x)
        kw = {"mask": m.tensor(mask), "src_key_padding_mask": m.tensor(pad)}
        return layer(x, **kw)

    e, _ = check_module(make, (3, 5, 8), call=call, **TOL)
    assert next(iter(e.state_dict())).startswith("layers.0.self_attn.")


def test_encoder_stack_deep_copies():
    layer = T.TransformerEncoderLayer(8, 2, 16)
    stack = T.TransformerEncoder(layer, 2)
    a, b = stack.layers[0].linear1.weight, stack.layers[1].linear1.weight
    assert a is not b and a is not layer.linear1.weight
    np.testing.assert_array_equal(a.data, b.data)


def test_decoder_stack():
    def make(m):
        final = m.nn.LayerNorm(8)
        return nn(m, "TransformerDecoder")(decoder_layer(m, norm_first=True), 2, final)

    mask = T.Transformer.generate_square_subsequent_mask(4).data

    def call(layer, tgt, memory):
        return layer(tgt, memory, tgt_mask=lib(tgt).tensor(mask))

    check_module(make, (4, 3, 8), (6, 3, 8), call=call, **TOL)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's own constructor
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(batch_first):
    def make(m):
        return nn(m, "Transformer")(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first)

    tgt_mask = T.Transformer.generate_square_subsequent_mask(4).data
    pad = RNG.random((3, 6)) < 0.3
    pad[:, 0] = False

    def call(layer, src, tgt):
        m = lib(src)
        return layer(
            src,
            tgt,
            tgt_mask=m.tensor(tgt_mask),
            src_key_padding_mask=m.tensor(pad),
            memory_key_padding_mask=m.tensor(pad),
        )

    shapes = ((3, 6, 8), (3, 4, 8)) if batch_first else ((6, 3, 8), (4, 3, 8))
    check_module(make, *shapes, call=call, **TOL)


def test_transformer_init_is_xavier():
    model = T.Transformer(16, 2, 1, 1, 32)
    w = model.encoder.layers[0].linear1.weight.data  # (32, 16)
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert model.encoder.norm is not None and model.decoder.norm is not None


def test_generate_square_subsequent_mask():
    e = T.Transformer.generate_square_subsequent_mask(5)
    t = torch.nn.Transformer.generate_square_subsequent_mask(5)
    np.testing.assert_array_equal(e.data, t.numpy())
    assert e.dtype is ember.float32
    assert T.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype is (
        ember.float64
    )


def test_eval_mode_dropout_off_and_train_mode_random():
    ember.manual_seed(0)
    layer = T.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = ember.randn(5, 3, 8)
    a, b = layer(x), layer(x)
    assert not np.allclose(a.data, b.data)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)


def test_repr_matches_torch():
    e, t = T.TransformerEncoderLayer(8, 2, 16), torch.nn.TransformerEncoderLayer(8, 2, 16)
    assert repr(e) == repr(t)


def test_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        T.TransformerEncoderLayer(8, 2, activation="tanh")
    model = T.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.randn(5, 3, 8), ember.randn(4, 2, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt"):
        model(ember.randn(5, 3, 8), ember.randn(4, 3, 6))
    layer = T.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        layer(ember.randn(5, 3, 8), is_causal=True)
    assert F.relu is T._activation("relu")
