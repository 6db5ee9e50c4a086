"""Positional encodings, RoPE, ALiBi and the KV cache (Ember's own layers).

PyTorch has no counterpart, so the oracles are the papers' formulas written here in NumPy, the
reference code they follow (PyTorch's transformer tutorial, Hugging Face's LLaMA RoPE, the
ALiBi repository's get_slopes) written here in torch, and torch's scaled_dot_product_attention.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember.nn.positional import (
    KVCache,
    LearnedPositionalEmbedding,
    RotaryEmbedding,
    SinusoidalPositionalEncoding,
    alibi_bias,
    alibi_slopes,
    apply_rotary_pos_emb,
    rotate_half,
)
from tests.helpers import assert_same, check_gradcheck, check_module, check_op, to_numpy


def _sdpa(q, k, v, mask=None):
    """Attention written with Ember ops: softmax(q k^T / sqrt(hs) + mask) v."""
    F = getattr(ember.nn.functional, "scaled_dot_product_attention", None)
    if F is not None:
        return F(q, k, v, attn_mask=mask)
    scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]))  # (B, nh, L, S)
    if mask is not None:
        scores = scores + mask
    return ember.nn.functional.softmax(scores, dim=-1) @ v


def _causal(L, S):
    """Additive causal mask for L queries that are the last of S positions."""
    i = np.arange(S - L, S)[:, None]
    return np.where(np.arange(S)[None, :] > i, -np.inf, 0.0).astype(np.float32)


# -- SinusoidalPositionalEncoding ---------------------------------------------------------
def _pe_formula(max_len, d):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d))."""
    pe = np.zeros((max_len, d))
    for pos in range(max_len):
        for j in range(d):
            angle = pos / 10000 ** ((j - j % 2) / d)
            pe[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return pe


class TutorialPositionalEncoding(torch.nn.Module):
    """PyTorch's transformer tutorial (seq-first), verbatim apart from the dropout default."""

    def __init__(self, d_model, dropout=0.0, max_len=5000):
        super().__init__()
        self.dropout = torch.nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[: x.size(0)])


@pytest.mark.parametrize("d", [6, 7, 16])
def test_sinusoidal_table_is_the_formula(d):
    m = SinusoidalPositionalEncoding(d, max_len=50)
    assert tuple(m.pe.shape) == (50, 1, d) and m.pe.dtype is ember.float32
    np.testing.assert_allclose(to_numpy(m.pe)[:, 0], _pe_formula(50, d), rtol=0, atol=1e-6)
    assert list(m.state_dict()) == ["pe"]  # persistent, as in the tutorial


def test_sinusoidal_matches_the_tutorial_module():
    # The tutorial's state_dict loads, and the layer (value + input gradient) matches it.
    check_module(
        lambda m: (
            SinusoidalPositionalEncoding(8, max_len=40)
            if m is ember
            else TutorialPositionalEncoding(8, max_len=40)
        ),
        (11, 3, 8),
    )


@pytest.mark.parametrize(
    ("shape", "batch_first"), [((2, 9, 6), True), ((9, 2, 6), False), ((9, 6), False)]
)
def test_sinusoidal_forward_layouts(shape, batch_first):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    m = SinusoidalPositionalEncoding(6, max_len=20, batch_first=batch_first)
    pe = _pe_formula(9, 6)
    expected = x + (pe[None] if batch_first else pe[:, None] if x.ndim == 3 else pe)
    out = m(ember.tensor(x))
    assert out.dtype is ember.float32
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-5, atol=1e-6)


def test_sinusoidal_noncontiguous_input_and_grad():
    check_module(
        lambda m: (
            SinusoidalPositionalEncoding(4, max_len=10, batch_first=True)
            if m is ember
            else _BatchFirst(TutorialPositionalEncoding(4, max_len=10))
        ),
        (4, 3, 5),
        call=lambda layer, x: layer(x.transpose(0, 2)[1:]),  # (4, 3, 5) -> (4, 3, 4) strided
    )


class _BatchFirst(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.pe_module = inner

    def forward(self, x):
        return self.pe_module(x.transpose(0, 1)).transpose(0, 1)

    def state_dict(self, *a, **k):
        return {"pe": self.pe_module.pe}


def test_sinusoidal_dropout_and_dtype():
    m = SinusoidalPositionalEncoding(8, max_len=10, dropout=0.5, dtype=ember.float64)
    assert m.pe.dtype is ember.float64
    x = ember.zeros(10, 4, 8, dtype=ember.float64)
    out = m(x)  # training: about half the entries dropped, the rest scaled by 2
    kept = to_numpy(out) != 0
    pe = np.broadcast_to(_pe_formula(10, 8)[:, None], (10, 4, 8))
    np.testing.assert_allclose(to_numpy(out)[kept], 2 * pe[kept], rtol=1e-12, atol=1e-12)
    assert 0.3 < 1 - kept.mean() < 0.7
    m.eval()
    np.testing.assert_allclose(to_numpy(m(x)), pe, rtol=1e-12, atol=1e-12)
    assert "d_model=8, max_len=10, batch_first=False" in repr(m)


def test_sinusoidal_too_long():
    m = SinusoidalPositionalEncoding(4, max_len=5, batch_first=True)
    with pytest.raises(ValueError, match=r"sequence length 6 exceeds max_len=5"):
        m(ember.zeros(2, 6, 4))


# -- LearnedPositionalEmbedding ------------------------------------------------------------
class TorchLearned(torch.nn.Embedding):
    def forward(self, x, offset=0):
        L = x.shape[1] if x.dim() >= 2 else x.shape[0]
        return super().forward(torch.arange(offset, offset + L))


@pytest.mark.parametrize("offset", [0, 3])
def test_learned_matches_an_embedding_of_positions(offset):
    e, _ = check_module(
        lambda m: LearnedPositionalEmbedding(12, 5) if m is ember else TorchLearned(12, 5),
        (2, 7, 5),
        call=lambda layer, x: x + layer(x, offset),  # (B, L, D) + (L, D)
    )
    assert list(e.state_dict()) == ["weight"]
    grad = to_numpy(e.weight.grad)
    assert not grad[:offset].any() and not grad[offset + 7 :].any()  # unused rows: zero


def test_learned_inputs_and_init():
    ember.manual_seed(0)
    m = LearnedPositionalEmbedding(1000, 64)
    w = to_numpy(m.weight)
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01  # N(0, 1), as nn.Embedding
    ids = ember.zeros(3, 9, dtype=ember.int64)
    assert tuple(m(ids).shape) == (9, 64)
    assert tuple(m(ember.zeros(9, dtype=ember.int64)).shape) == (9, 64)
    np.testing.assert_array_equal(to_numpy(m(4, offset=2)), w[2:6])


@pytest.mark.parametrize(("length", "offset"), [(11, 0), (6, 5), (2, -1)])
def test_learned_out_of_range(length, offset):
    m = LearnedPositionalEmbedding(10, 4)
    with pytest.raises(IndexError, match=r"out of range for max_positions=10"):
        m(length, offset=offset)


# -- RoPE ----------------------------------------------------------------------------------
def _hf_rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def _hf_apply(q, k, cos, sin, position_ids=None, unsqueeze_dim=1):
    """Hugging Face's LLaMA apply_rotary_pos_emb (the position_ids form of transformers 4.3x)."""
    if position_ids is not None:
        cos, sin = cos[position_ids], sin[position_ids]
    cos, sin = cos.unsqueeze(unsqueeze_dim), sin.unsqueeze(unsqueeze_dim)
    return q * cos + _hf_rotate_half(q) * sin, k * cos + _hf_rotate_half(k) * sin


def _hf_tables(dim, n, base=10000.0):
    """Hugging Face's LlamaRotaryEmbedding cache, in float32 as it computes it."""
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    t = torch.arange(n, dtype=torch.int64).type_as(inv_freq)
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rope(m, q, k, cos, sin, **kwargs):
    """One body for both: Ember's op, or the Hugging Face code in torch."""
    fn = apply_rotary_pos_emb if m is ember else _hf_apply
    return fn(q, k, cos, sin, **kwargs)


def _tables64(d, positions, base=10000.0):
    """cos and sin (1, L, d) in float64, in the rotate_half layout (angles repeated)."""
    angle = np.asarray(positions, dtype=float)[:, None] * base ** (-np.arange(0, d, 2) / d)
    angle = np.concatenate([angle, angle], -1)[None]
    return ember.tensor(np.cos(angle)), ember.tensor(np.sin(angle))


def _paper_rope(x, positions, base=10000.0):
    """RoFormer eq. 34: rotate each pair (x_2i, x_2i+1) by pos * base^(-2i/d). x: (L, d)."""
    d = x.shape[-1]
    out = np.empty_like(x)
    for p, pos in enumerate(positions):
        for i in range(d // 2):
            a = pos * base ** (-2 * i / d)
            x0, x1 = x[p, 2 * i], x[p, 2 * i + 1]
            out[p, 2 * i] = x0 * math.cos(a) - x1 * math.sin(a)
            out[p, 2 * i + 1] = x0 * math.sin(a) + x1 * math.cos(a)
    return out


def test_rotary_tables_are_the_formula_and_hf():
    m = RotaryEmbedding(16, max_position_embeddings=64)
    assert not m.state_dict() and "dim=16, max_position_embeddings=64, base=10000.0" in repr(m)
    cos, sin = m(ember.zeros(2, 4, 64, 16))  # (B, nh, L, hs) -> (1, L, hs)
    assert tuple(cos.shape) == (1, 64, 16) and cos.dtype is ember.float32
    pos = np.arange(64)[:, None]
    angle = pos * 10000.0 ** (-np.arange(0, 16, 2) / 16)  # (L, d/2)
    angle = np.concatenate([angle, angle], -1)
    np.testing.assert_allclose(to_numpy(cos)[0], np.cos(angle), atol=2e-5)
    np.testing.assert_allclose(to_numpy(sin)[0], np.sin(angle), atol=2e-5)
    t_cos, t_sin = _hf_tables(16, 64)
    assert_same(cos[0], t_cos, rtol=1e-6, atol=1e-6)
    assert_same(sin[0], t_sin, rtol=1e-6, atol=1e-6)


def test_rotary_position_ids_dtype_and_cache_growth():
    m = RotaryEmbedding(8, max_position_embeddings=16, base=500.0)
    ids = ember.tensor([[0, 3, 30], [5, 6, 7]])  # 30 is past the cache: it grows
    cos, sin = m(ember.zeros(2, 3, 8, dtype=ember.float16), ids)
    assert tuple(cos.shape) == (2, 3, 8) and cos.dtype is ember.float16
    t_cos, t_sin = _hf_tables(8, 31, base=500.0)
    idx = torch.tensor(to_numpy(ids))
    assert_same(cos, t_cos[idx].half(), rtol=1e-3, atol=1e-3)
    assert_same(sin, t_sin[idx].half(), rtol=1e-3, atol=1e-3)
    assert tuple(m.cos_cached.shape) == (31, 8)


def test_rotate_half():
    check_op(lambda m, x: rotate_half(x) if m is ember else _hf_rotate_half(x), (2, 3, 6))


def test_rope_is_the_paper_formula_after_permutation():
    # rotate_half pairs feature i with i + d/2; the paper pairs 2i with 2i+1. Interleaving the
    # halves (half index i -> 2i, i + d/2 -> 2i + 1) maps one onto the other.
    d, L = 8, 6
    rng = np.random.default_rng(0)
    x = rng.standard_normal((L, d))
    positions = [0, 1, 2, 7, 19, 100]
    inter = np.empty(d, dtype=int)
    inter[0::2], inter[1::2] = np.arange(d // 2), np.arange(d // 2, d)  # paper slot -> half slot
    cos, sin = _tables64(d, positions)
    xt = ember.tensor(x[None, None])  # (1, 1, L, d)
    q, _ = apply_rotary_pos_emb(xt, xt, cos, sin)
    paper = _paper_rope(x[:, inter], positions)  # the paper's rotation in the paper's layout
    np.testing.assert_allclose(to_numpy(q)[0, 0][:, inter], paper, rtol=1e-6, atol=1e-6)


def test_rope_scores_depend_only_on_relative_position():
    rng = np.random.default_rng(1)
    q, k = (ember.tensor(rng.standard_normal((1, 1, 1, 16))) for _ in range(2))

    def score(pos_q, pos_k):
        cq, sq = _tables64(16, [pos_q])
        ck, sk = _tables64(16, [pos_k])
        rq, _ = apply_rotary_pos_emb(q, q, cq, sq)
        _, rk = apply_rotary_pos_emb(k, k, ck, sk)
        return float((rq * rk).sum())

    assert score(5, 2) == pytest.approx(score(13, 10), rel=1e-9)
    assert score(40, 40) == pytest.approx(score(0, 0), rel=1e-9)
    assert score(0, 0) == pytest.approx(float((q * k).sum()), rel=1e-9)
    assert score(5, 2) != pytest.approx(score(5, 3), rel=1e-3)


@pytest.mark.parametrize(
    ("q", "k", "cs"),
    [
        ((2, 4, 5, 8), (2, 4, 5, 8), (2, 5, 8)),
        ((2, 4, 5, 8), (2, 1, 5, 8), (1, 5, 8)),  # GQA keys; positions shared across batch
    ],
)
def test_rope_matches_hf(q, k, cs):
    check_op(rope, q, k, cs, cs)


def test_rope_unsqueeze_dim_2_and_noncontiguous():
    # (B, L, nh, hs) layout made from transposed (B, nh, L, hs) tensors.
    check_op(
        lambda m, q, k, c, s: rope(
            m, q.transpose(1, 2), k[:, :, 1:].transpose(1, 2), c, s, unsqueeze_dim=2
        ),
        (2, 3, 4, 6),
        (2, 3, 5, 6),
        (2, 4, 6),
        (2, 4, 6),
    )


def test_rope_position_ids():
    ids = np.array([[0, 2, 4], [1, 1, 9]])  # gathered from (max_positions, hs) tables
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-2, 2, s).astype(np.float32) for s in [(2, 2, 3, 4)] * 2 + [(10, 4)] * 2]
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_out = apply_rotary_pos_emb(*e, position_ids=ember.tensor(ids))
    t_out = _hf_apply(*t, position_ids=torch.tensor(ids))
    assert_same(e_out, t_out)
    g = [rng.standard_normal((2, 2, 3, 4)).astype(np.float32) for _ in range(2)]
    e_grads = ember.autograd.grad(e_out, e, [ember.tensor(x) for x in g])
    t_grads = torch.autograd.grad(t_out, t, [torch.tensor(x) for x in g])
    assert_same(list(e_grads), list(t_grads))


def test_rope_dtype_promotion():
    q = ember.randn(1, 2, 3, 4, dtype=ember.float16)
    cos = sin = ember.randn(1, 3, 4)
    out, _ = apply_rotary_pos_emb(q, q, cos, sin)
    assert out.dtype is ember.float32  # float16 * float32 -> float32, as torch
    out, _ = apply_rotary_pos_emb(q, q, cos.half(), sin.half())
    assert out.dtype is ember.float16
    b = q.to(ember.bfloat16)
    cos, sin = RotaryEmbedding(4)(b)  # tables come in the input's dtype
    out, _ = apply_rotary_pos_emb(b, b, cos, sin)
    assert cos.dtype is ember.bfloat16 and out.dtype is ember.bfloat16


def test_rope_gradcheck():
    check_gradcheck(
        lambda m, q, k, c, s: apply_rotary_pos_emb(q, k, c, s),
        (1, 2, 3, 4),
        (1, 1, 3, 4),
        (1, 3, 4),
        (1, 3, 4),
    )


def test_rope_gradcheck_broadcast_sin():
    # cos/sin broadcasting further than q: the gradient of q sums over the batch.
    check_gradcheck(
        lambda m, q, c, s: apply_rotary_pos_emb(q, q, c, s)[0], (1, 1, 3, 4), (2, 3, 4), (2, 3, 4)
    )


def test_rope_errors():
    q = ember.zeros(1, 2, 3, 4)
    c = ember.zeros(1, 3, 4)
    with pytest.raises(ValueError, match=r"last dim of q must be even, got shape \[1, 2, 3, 5\]"):
        apply_rotary_pos_emb(ember.zeros(1, 2, 3, 5), q, c, c)
    with pytest.raises(ValueError, match=r"cos and sin must have the same shape"):
        apply_rotary_pos_emb(q, q, c, ember.zeros(3, 4))
    with pytest.raises(ValueError, match=r"do not match the head dim 4 of k"):
        apply_rotary_pos_emb(ember.zeros(1, 2, 3, 6), q, ember.zeros(1, 3, 6), ember.zeros(1, 3, 6))
    with pytest.raises(ValueError, match=r"with position_ids, cos and sin must be"):
        apply_rotary_pos_emb(q, q, c, c, position_ids=ember.zeros(1, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match=r"cannot be broadcast to q of shape \[1, 2, 3, 4\]"):
        apply_rotary_pos_emb(q, q, ember.zeros(2, 5, 4), ember.zeros(2, 5, 4))
    with pytest.raises(TypeError, match=r"argument 'cos' must be Tensor, not list"):
        apply_rotary_pos_emb(q, q, [1.0], c)
    with pytest.raises(TypeError, match=r"floating point 'q'"):
        apply_rotary_pos_emb(ember.zeros(1, 2, 3, 4, dtype=ember.int64), q, c, c)
    with pytest.raises(ValueError, match=r"dim must be a positive even number, got 7"):
        RotaryEmbedding(7)


# -- ALiBi ---------------------------------------------------------------------------------
def _reference_slopes(n):
    """get_slopes from the ALiBi repository (ofirpress/attention_with_linear_biases), verbatim."""

    def get_slopes_power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        ratio = start
        return [start * ratio**i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest_power_of_2 = 2 ** math.floor(math.log2(n))
    return (
        get_slopes_power_of_2(closest_power_of_2)
        + _reference_slopes(2 * closest_power_of_2)[0::2][: n - closest_power_of_2]
    )


def test_alibi_slopes_paper_values():
    np.testing.assert_array_equal(to_numpy(alibi_slopes(8)), [2.0**-k for k in range(1, 9)])
    twelve = [2.0**-k for k in range(1, 9)] + [2.0**-0.5, 2.0**-1.5, 2.0**-2.5, 2.0**-3.5]
    np.testing.assert_allclose(to_numpy(alibi_slopes(12)), twelve, rtol=1e-7)
    assert alibi_slopes(12).dtype is ember.float32
    assert alibi_slopes(4, dtype=ember.float64).dtype is ember.float64


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 12, 16, 20, 24, 32, 33])
def test_alibi_slopes_reference_code(n):
    got = to_numpy(alibi_slopes(n, dtype=ember.float64))
    np.testing.assert_allclose(got, _reference_slopes(n), rtol=1e-14)


def _bias_formula(n, L, S, causal):
    slopes = np.array(_reference_slopes(n))[:, None, None]
    i = np.arange(S - L, S)[:, None]
    j = np.arange(S)[None, :]
    if not causal:
        return -slopes * np.abs(i - j)
    return np.where(j > i, -np.inf, -slopes * (i - j))


@pytest.mark.parametrize(
    ("L", "S", "causal"), [(5, None, True), (5, None, False), (2, 6, True), (3, 7, False)]
)
def test_alibi_bias_formula(L, S, causal):
    bias = alibi_bias(6, L, S, causal=causal, dtype=ember.float64)
    expected = _bias_formula(6, L, S or L, causal)
    assert tuple(bias.shape) == expected.shape and bias.dtype is ember.float64
    np.testing.assert_array_equal(to_numpy(bias), expected)


def test_alibi_bias_dtypes():
    assert alibi_bias(4, 3).dtype is ember.float32
    half = alibi_bias(4, 300, dtype=ember.bfloat16)  # distances computed in float32, rounded once
    expected = _bias_formula(4, 300, 300, True).astype(np.float32)
    np.testing.assert_allclose(to_numpy(half), expected, rtol=1e-2)


def test_alibi_bias_as_sdpa_attn_mask():
    # The bias is a float attn_mask: adding it to the scores matches torch's SDPA with it.
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 4, 6, 8)).astype(np.float32) for _ in range(3))
    bias = alibi_bias(4, 6)
    out = _sdpa(ember.tensor(q), ember.tensor(k), ember.tensor(v), bias)
    t_out = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q), torch.tensor(k), torch.tensor(v), attn_mask=torch.tensor(to_numpy(bias))
    )
    assert_same(out, t_out, rtol=1e-4, atol=1e-5)


def test_alibi_errors():
    with pytest.raises(ValueError, match=r"num_heads must be a positive int, got 0"):
        alibi_slopes(0)
    with pytest.raises(ValueError, match=r"num_heads must be a positive int, got 2.5"):
        alibi_bias(2.5, 3)
    with pytest.raises(ValueError, match=r"need 0 <= seq_len <= key_len, got seq_len=4"):
        alibi_bias(2, 4, 3)


# -- KVCache -------------------------------------------------------------------------------
def _decode(cache, q, k, v, chunks, rope=None):
    """Feed q, k, v (B, nh, T, hs) through the cache in chunks; return the (B, nh, T, hs) output."""
    outs, start = [], 0
    for n in chunks:
        qs, ks, vs = (t[:, :, start : start + n] for t in (q, k, v))
        if rope is not None:
            cos, sin = rope(qs, ember.arange(start, start + n)[None])
            qs, ks = apply_rotary_pos_emb(qs, ks, cos, sin)
        k_all, v_all = cache.update(ks, vs)  # (B, nh, start + n, hs)
        mask = ember.tensor(_causal(n, start + n))
        outs.append(_sdpa(qs, k_all, v_all, mask))
        start += n
    return ember.cat(outs, dim=2)


def test_kv_cache_decoding_matches_full_causal_attention():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 7, 4)).astype(np.float32) for _ in range(3))
    cache = KVCache(2, 16, 3, 4)
    assert not cache.state_dict() and "max_seq_len=16, num_heads=3, head_dim=4" in repr(cache)
    with ember.no_grad():
        out = _decode(cache, *(ember.tensor(a) for a in (q, k, v)), [3, 1, 1, 2])
    t_out = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), is_causal=True
    )
    assert_same(out, t_out, rtol=1e-4, atol=1e-5)
    assert cache.size == 7
    k_all, _ = cache.update(ember.zeros(2, 3, 1, 4), ember.zeros(2, 3, 1, 4))
    assert np.shares_memory(k_all.data, cache.k_cache.data)  # a view, not a concatenation
    np.testing.assert_array_equal(to_numpy(k_all)[:, :, :7], k)


def test_kv_cache_with_rope_and_reset():
    rng = np.random.default_rng(1)
    q, k, v = (ember.tensor(rng.standard_normal((1, 2, 6, 8)).astype(np.float32)) for _ in "qkv")
    rope = RotaryEmbedding(8)
    cos, sin = rope(q)
    rq, rk = apply_rotary_pos_emb(q, k, cos, sin)
    full = _sdpa(rq, rk, v, ember.tensor(_causal(6, 6)))
    cache = KVCache(4, 6, 2, 8)
    with ember.no_grad():
        _decode(cache, q * 2, k * 2, v, [6], rope)
        cache.reset()
        assert cache.size == 0 and not to_numpy(cache.k_cache).any()
        out = _decode(cache, q, k, v, [2, 2, 1, 1], rope)
    assert_same(out, torch.tensor(to_numpy(full)), rtol=1e-4, atol=1e-5)


def test_kv_cache_gradient_in_grad_mode():
    # A recorded write: the prefill's gradient reaches k and v as without the cache.
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((1, 2, 5, 4)).astype(np.float32) for _ in range(3)]
    e = [ember.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    cache = KVCache(1, 8, 2, 4)
    k_all, v_all = cache.update(e[1], e[2])
    out = _sdpa(e[0], k_all, v_all, ember.tensor(_causal(5, 5)))
    t_out = torch.nn.functional.scaled_dot_product_attention(*t, is_causal=True)
    g = rng.standard_normal((1, 2, 5, 4)).astype(np.float32)
    e_grads = ember.autograd.grad(out, e, ember.tensor(g))
    t_grads = torch.autograd.grad(t_out, t, torch.tensor(g))
    assert_same(list(e_grads), list(t_grads), rtol=1e-4, atol=1e-5)
    cache.reset()
    assert cache.k_cache.grad_fn is None and cache.size == 0


def test_kv_cache_errors():
    cache = KVCache(2, 4, 3, 8)
    x = ember.zeros(2, 3, 3, 8)
    with pytest.raises(ValueError, match=r"expected k of shape \(B, 3, L, 8\), got \[2, 4, 3, 8\]"):
        cache.update(ember.zeros(2, 4, 3, 8), x)
    with pytest.raises(ValueError, match=r"k and v must have the same shape"):
        cache.update(x, ember.zeros(2, 3, 2, 8))
    with pytest.raises(ValueError, match=r"batch size 3 does not fit the cache"):
        cache.update(ember.zeros(3, 3, 1, 8), ember.zeros(3, 3, 1, 8))
    cache.update(x, x)
    with pytest.raises(ValueError, match=r"3 cached \+ 2 new positions exceed max_seq_len=4"):
        cache.update(x[:, :, :2], x[:, :, :2])
    with pytest.raises(ValueError, match=r"batch size 1 does not fit the cache"):
        cache.update(x[:1, :, :1], x[:1, :, :1])
    assert cache.size == 3  # failed updates change nothing
