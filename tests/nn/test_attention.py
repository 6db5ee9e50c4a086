"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember.nn.attention import MultiheadAttention
from ember.ops.attention import scaled_dot_product_attention
from ember.ops.multihead import multi_head_attention_forward
from tests.helpers import check_gradcheck, check_module, check_op


def sdpa(m, *args, **kwargs):
    fn = (
        scaled_dot_product_attention
        if m is ember
        else torch.nn.functional.scaled_dot_product_attention
    )
    return fn(*args, **kwargs)


def mha(m):
    return MultiheadAttention if m is ember else torch.nn.MultiheadAttention


def lib(x):
    return ember if isinstance(x, ember.Tensor) else torch


RNG = np.random.default_rng(0)
BOOL_MASK = RNG.random((4, 6)) < 0.7  # True = take part
BOOL_MASK[:, 0] = True


# -- scaled_dot_product_attention -------------------------------------------------------------
@pytest.mark.parametrize(
    "shapes",
    [
        ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),  # (N, H, L, E)
        ((3, 4, 5), (3, 6, 5), (3, 6, 7)),
        ((4, 5), (6, 5), (6, 7)),  # no batch
        ((2, 3, 4, 5), (3, 6, 5), (1, 6, 7)),  # broadcast batch dims
    ],
)
def test_sdpa(shapes):
    check_op(lambda m, q, k, v: sdpa(m, q, k, v), *shapes)


@pytest.mark.parametrize("L, S", [(4, 4), (3, 6), (6, 3)])
def test_sdpa_causal(L, S):
    check_op(lambda m, q, k, v: sdpa(m, q, k, v, is_causal=True), (2, L, 5), (2, S, 5), (2, S, 3))


@pytest.mark.parametrize("mask_shape", [(4, 6), (3, 4, 6), (2, 1, 4, 6), (1, 6)])
def test_sdpa_float_mask_with_grad(mask_shape):
    check_op(
        lambda m, q, k, v, a: sdpa(m, q, k, v, attn_mask=a),
        (2, 3, 4, 5),
        (2, 3, 6, 5),
        (2, 3, 6, 7),
        mask_shape,
    )


def test_sdpa_bool_mask():
    check_op(
        lambda m, q, k, v: sdpa(m, q, k, v, attn_mask=m.tensor(BOOL_MASK)),
        (2, 3, 4, 5),
        (2, 3, 6, 5),
        (2, 3, 6, 7),
    )


def test_sdpa_scale_and_noncontiguous():
    check_op(
        lambda m, q, k, v: sdpa(m, q.transpose(1, 2), k[:, :, 1:], v.mT, scale=0.3),
        (2, 4, 3, 5),
        (2, 3, 7, 5),
        (2, 3, 4, 6),
    )


@pytest.mark.parametrize("mask_shape", [None, (6, 4, 6), (1, 4, 6)])
def test_sdpa_gqa(mask_shape):
    shapes = [(2, 6, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]
    if mask_shape is None:
        check_op(lambda m, q, k, v: sdpa(m, q, k, v, enable_gqa=True), *shapes)
    else:
        check_op(
            lambda m, q, k, v, a: sdpa(m, q, k, v, attn_mask=a, enable_gqa=True),
            *shapes,
            mask_shape,
        )


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_fully_masked_rows_give_zeros_like_torch(kind):
    mask = BOOL_MASK.copy()
    mask[1] = False
    if kind == "float":
        mask = np.where(mask, 0.0, -np.inf).astype(np.float32)

    def fn(m, q, k, v):
        return sdpa(m, q, k, v, attn_mask=m.tensor(mask))

    check_op(fn, (2, 4, 5), (2, 6, 5), (2, 6, 3))
    q, k, v = (ember.randn(2, n, 5, requires_grad=True) for n in (4, 6, 6))
    out = fn(ember, q, k, v)
    assert not np.any(out.data[:, 1])
    (grad_q,) = ember.autograd.grad(out.sum(), [q])
    assert not np.any(grad_q.data[:, 1])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_sdpa_dtypes(dtype):
    tol = 1e-2 if dtype != "float64" else 1e-7
    check_op(
        lambda m, q, k, v: sdpa(m, q, k, v, is_causal=True),
        (2, 4, 8),
        (2, 4, 8),
        (2, 4, 8),
        dtype=dtype,
        rtol=tol,
        atol=tol,
    )


def test_sdpa_dropout():
    q, k, v = (ember.randn(2, 3, 8, 4) for _ in range(3))
    ember.manual_seed(1)
    a = scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    ember.manual_seed(1)
    b = scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    np.testing.assert_array_equal(a.data, b.data)
    plain = scaled_dot_product_attention(q, k, v)
    assert not np.allclose(a.data, plain.data)
    assert not np.any(scaled_dot_product_attention(q, k, v, dropout_p=1.0).data)
    # uniform attention over ones: each output is the mean of the scaled keep mask, ~1 on average
    ones = ember.ones(64, 32, 32, 1)
    out = scaled_dot_product_attention(ember.zeros(64, 32, 32, 1), ones, ones, dropout_p=0.25)
    assert abs(float(out.mean()) - 1.0) < 0.02


def test_sdpa_gradcheck():
    check_gradcheck(lambda m, q, k, v: sdpa(m, q, k, v), (2, 3, 4), (2, 5, 4), (2, 5, 3))
    check_gradcheck(
        lambda m, q, k, v: sdpa(m, q, k, v, is_causal=True), (2, 4, 3), (2, 4, 3), (2, 4, 2)
    )


def test_sdpa_gradcheck_masks_and_gqa():
    check_gradcheck(
        lambda m, q, k, v, a: sdpa(m, q, k, v, attn_mask=a), (2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)
    )
    mask = ember.tensor(BOOL_MASK[:3, :5])
    check_gradcheck(
        lambda m, q, k, v: sdpa(m, q, k, v, attn_mask=mask), (2, 3, 4), (2, 5, 4), (2, 5, 3)
    )
    check_gradcheck(
        lambda m, q, k, v: sdpa(m, q, k, v, enable_gqa=True),
        (1, 4, 3, 2),
        (1, 2, 3, 2),
        (1, 2, 3, 2),
    )


def test_sdpa_gradcheck_dropout():
    def fn(m, q, k, v):
        ember.manual_seed(3)  # the same mask at every evaluation
        return sdpa(m, q, k, v, dropout_p=0.3)

    check_gradcheck(fn, (2, 3, 4), (2, 5, 4), (2, 5, 3))


def test_sdpa_keeps_only_probabilities():
    q, k, v = (ember.randn(2, 4, n, 3, requires_grad=True) for n in (5, 6, 6))
    out = scaled_dot_product_attention(q, k, v)
    node = out.grad_fn
    saved = [e[1] for e in node._saved]
    extra = [s for s in saved if s is not q and s is not k and s is not v]
    assert len(extra) == 1 and extra[0].shape == (2, 4, 5, 6)


@pytest.mark.parametrize(
    "kwargs, shapes, err, match",
    [
        ({}, ((4,), (4,), (4,)), RuntimeError, "at least 2 dimensional"),
        ({}, ((3, 4), (5, 3), (5, 4)), RuntimeError, "same last dim"),
        ({}, ((3, 4), (5, 4), (6, 4)), RuntimeError, "same sequence length"),
        ({}, ((2, 3, 4), (3, 5, 4), (3, 5, 4)), RuntimeError, "must match the size"),
        ({"dropout_p": 1.5}, ((3, 4), (5, 4), (5, 4)), RuntimeError, "dropout probability"),
        ({"is_causal": True, "attn_mask": "bool"}, ((3, 4), (5, 4), (5, 4)), RuntimeError,
         "attn_mask should not be set"),
        ({"attn_mask": "wrong"}, ((3, 4), (5, 4), (5, 4)), RuntimeError, "must match the size"),
        ({"attn_mask": "int"}, ((3, 4), (5, 4), (5, 4)), RuntimeError, "attn_mask dtype"),
        ({"enable_gqa": True}, ((1, 6, 3, 4), (1, 4, 5, 4), (1, 4, 5, 4)), RuntimeError,
         "must divide"),
    ],
)  # fmt: skip
def test_sdpa_errors(kwargs, shapes, err, match):
    masks = {
        "bool": ember.ones(3, 5, dtype=ember.bool),
        "wrong": ember.zeros(4, 5),
        "int": ember.zeros(3, 5, dtype=ember.int64),
    }
    kwargs = {k: masks.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    q, k, v = (ember.randn(*s) for s in shapes)
    with pytest.raises(err, match=match):
        scaled_dot_product_attention(q, k, v, **kwargs)


def test_sdpa_error_dtypes():
    q = ember.randn(3, 4)
    with pytest.raises(RuntimeError, match="same dtype"):
        scaled_dot_product_attention(q.double(), q, q)
    i = ember.ones(3, 4, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="floating point"):
        scaled_dot_product_attention(i, i, i)


# -- MultiheadAttention -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"bias": False},
        {"kdim": 4, "vdim": 6},
        {"add_bias_kv": True},
        {"add_zero_attn": True},
        {"add_bias_kv": True, "add_zero_attn": True, "kdim": 4, "vdim": 6},
    ],
)
def test_mha_cross(kwargs):
    kd, vd = kwargs.get("kdim", 8), kwargs.get("vdim", 8)
    check_module(lambda m: mha(m)(8, 2, **kwargs), (5, 3, 8), (6, 3, kd), (6, 3, vd))


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention(batch_first):
    check_module(
        lambda m: mha(m)(8, 4, batch_first=batch_first),
        (3, 5, 8),
        call=lambda layer, x: layer(x, x, x),
    )


def test_mha_batch_first_key_is_value():
    check_module(
        lambda m: mha(m)(8, 2, batch_first=True),
        (3, 5, 8),
        (3, 6, 8),
        call=lambda layer, q, k: layer(q, k, k),
    )


def test_mha_unbatched():
    mask = RNG.random((2 * 1, 5, 6)) < 0.3  # 3-D mask for unbatched: (H, L, S)
    mask[..., 0] = False
    check_module(
        lambda m: mha(m)(8, 2),
        (5, 8),
        (6, 8),
        (6, 8),
        call=lambda layer, q, k, v: layer(q, k, v, attn_mask=lib(q).tensor(mask)),
    )


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_mha_masks(average, mask_kind):
    kpm = RNG.random((3, 6)) < 0.3
    attn = RNG.random((3 * 2, 5, 6)) < 0.3
    kpm[:, 0] = attn[..., 0] = False  # no query loses every key
    if mask_kind == "float":
        kpm = np.where(kpm, -np.inf, 0.0).astype(np.float32)
        attn = RNG.standard_normal(attn.shape).astype(np.float32)

    def call(layer, q, k, v):
        m = lib(q)
        kw = {"key_padding_mask": m.tensor(kpm), "attn_mask": m.tensor(attn)}
        return layer(q, k, v, average_attn_weights=average, **kw)

    check_module(lambda m: mha(m)(8, 2), (5, 3, 8), (6, 3, 8), (6, 3, 8), call=call)


def test_mha_2d_mask_and_no_weights():
    mask = np.triu(np.ones((5, 5), bool), 1)
    check_module(
        lambda m: mha(m)(8, 2),
        (5, 3, 8),
        call=lambda layer, x: layer(x, x, x, attn_mask=lib(x).tensor(mask), need_weights=False),
    )


def test_mha_gradient_through_weights():
    check_module(
        lambda m: mha(m)(8, 2, kdim=4, vdim=4),
        (5, 3, 8),
        (6, 3, 4),
        call=lambda layer, q, k: layer(q, k, k, average_attn_weights=False)[1],
    )


def test_mha_dropout_train_and_eval():
    layer = MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(5, 3, 8)
    out, w = layer(x, x, x)
    assert out.shape == (5, 3, 8) and w.shape == (3, 5, 5)
    layer.eval()
    a, _ = layer(x, x, x)
    b, _ = layer(x, x, x)
    np.testing.assert_array_equal(a.data, b.data)


def test_mha_init_and_repr():
    ember.manual_seed(0)
    layer = MultiheadAttention(16, 4, add_bias_kv=True)
    torch_layer = torch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    assert repr(layer) == repr(torch_layer)
    assert not np.any(layer.in_proj_bias.data) and not np.any(layer.out_proj.bias.data)
    bound = math.sqrt(6 / (16 + 48))
    assert np.abs(layer.in_proj_weight.data).max() <= bound
    assert np.abs(layer.in_proj_weight.data).max() > 0.8 * bound
    assert layer.bias_k.shape == (1, 1, 16)


def test_mha_errors():
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        MultiheadAttention(0, 3)
    layer = MultiheadAttention(8, 2)
    x = ember.randn(5, 3, 8)
    with pytest.raises(AssertionError, match="batched 3D"):
        layer(x[None], x[None], x[None])
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        layer(x, x[0], x[0])
    with pytest.raises(RuntimeError, match=r"2D attn_mask is .*should be \(5, 5\)"):
        layer(x, x, x, attn_mask=ember.zeros(4, 5))
    with pytest.raises(RuntimeError, match="3D attn_mask"):
        layer(x, x, x, attn_mask=ember.zeros(2, 5, 5))
    with pytest.raises(AssertionError, match="key_padded_mask"):
        layer(x, x, x, key_padding_mask=ember.zeros(3, 4, dtype=ember.bool))
    with pytest.raises(RuntimeError, match="batch size 3"):
        layer(x, x[:, :2], x[:, :2])
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        layer(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating"):
        layer(x, x, x, attn_mask=ember.zeros(5, 5, dtype=ember.int64))
    with pytest.raises(AssertionError, match="was expecting embedding dimension"):
        multi_head_attention_forward(
            x, x, x, 6, 2, layer.in_proj_weight, None, None, None, False, 0.0,
            layer.out_proj.weight, None,
        )  # fmt: skip
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        layer(
            x, x, x, key_padding_mask=ember.zeros(3, 5, dtype=ember.bool),
            attn_mask=ember.zeros(5, 5),
        )  # fmt: skip
