"""Multi-head attention: ``multi_head_attention_forward``, the math of nn.MultiheadAttention.

The projections are Linear GEMMs (one for packed self-attention), the heads are views
(N, H, L, hd) and run through the fused ``Attention`` op of ops/attention.py; masks follow
PyTorch's conventions (bool True = masked out, or additive float).
"""

from __future__ import annotations

import warnings
from typing import Any

from ember.backend import array_module
from ember.ops.attention import attention_with_weights
from ember.ops.creation import zeros
from ember.ops.dense import linear
from ember.ops.join import cat
from ember.ops.padding import pad
from ember.tensor import Tensor

__all__ = ["multi_head_attention_forward"]


def canonical_mask(
    mask: Tensor | None, name: str, other: Tensor | None, other_name: str, dtype: Any
) -> Tensor | None:
    """A bool mask (True = masked out) as an additive 0 / -inf float mask, as PyTorch's."""
    if mask is None:
        return None
    kind = mask.data.dtype.kind
    if kind not in "bfV":
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None and other.data.dtype != mask.data.dtype:
        warnings.warn(
            f"Support for mismatched {name} and {other_name} is deprecated. Use same type for "
            "both instead.",
            stacklevel=3,
        )
    if kind != "b":
        return mask
    xp = array_module(mask.data)
    return Tensor(xp.where(mask.data, xp.full((), -xp.inf, dtype.np), xp.zeros((), dtype.np)))


def _mha_shape_check(
    query: Tensor, key: Tensor, value: Tensor, kpm: Tensor | None, mask: Tensor | None, heads: int
) -> bool:
    """Whether the inputs are batched, with PyTorch's AssertionErrors for wrong ranks."""
    qd, kd, vd = query.ndim, key.ndim, value.ndim
    if qd not in (2, 3):
        raise AssertionError(
            f"query should be unbatched 2D or batched 3D tensor but received {qd}-D query tensor"
        )
    kind = "batched (3-D)" if qd == 3 else "unbatched (2-D)"
    if kd != qd or vd != qd:
        raise AssertionError(
            f"For {kind} `query`, expected `key` and `value` to be {qd}-D but found {kd}-D and "
            f"{vd}-D tensors respectively"
        )
    if kpm is not None and kpm.ndim != qd - 1:
        raise AssertionError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or {qd - 1}-D but "
            f"found {kpm.ndim}-D tensor instead"
        )
    if mask is not None and mask.ndim not in (2, 3):
        raise AssertionError(
            f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
            f"{mask.ndim}-D tensor instead"
        )
    return qd == 3


def _heads(x: Tensor, batch: int, heads: int) -> Tensor:
    """(S, N, E) -> (N, H, S, E / H), a view."""
    return x.reshape(x.shape[0], batch, heads, -1).permute(1, 2, 0, 3)


def _static(x: Tensor, batch: int, heads: int, head_dim: int) -> Tensor:
    """A static key or value (N * H, S, hd) as (N, H, S, hd)."""
    return x.reshape(batch, heads, -1, head_dim)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Run multi-head attention. Mirrors ``torch.nn.functional.multi_head_attention_forward``.

    Shapes: query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched (L, E) ... ->
    output (L, N, E) and weights (N, L, S) averaged over heads or (N, H, L, S). Masks: bool
    (True = masked out) or additive float; ``attn_mask`` (L, S) or (N * H, L, S);
    ``key_padding_mask`` (N, S). The heads run through the fused attention op.

    Differences from PyTorch: a query whose keys are all masked gets zero weights, not NaN.
    """
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    dtype = query.dtype
    key_padding_mask = canonical_mask(
        key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", dtype
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", dtype)
    if embed_dim_to_check != E:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}"
        )
    if key.shape[1] != N:
        raise RuntimeError(
            f"multi_head_attention_forward: expected key and value of batch size {N} (the "
            f"query's), but got key {list(key.shape)}"
        )
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                f"{value.shape[:2]}"
            )
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
        packed = None
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        packed, weights = in_proj_weight, in_proj_weight.chunk(3)
    biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
    if packed is not None and query is key and key is value:  # self-attention: one GEMM
        q, k, v = linear(query, packed, in_proj_bias).chunk(3, dim=-1)
    else:
        q, k, v = (linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))
    if attn_mask is not None:
        S = key.shape[0]
        want = (L, S) if attn_mask.ndim == 2 else (N * num_heads, L, S)
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(
                f"The shape of the {attn_mask.ndim}D attn_mask is {attn_mask.shape}, but should "
                f"be {want}."
            )
        # (L, S) -> (1, 1, L, S); (N * H, L, S) -> (N, H, L, S)
        attn_mask = attn_mask.reshape((1, 1, L, S) if attn_mask.ndim == 2 else (N, -1, L, S))
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = cat([k, bias_k.expand(1, N, E)])
        v = cat([v, bias_v.expand(1, N, E)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError(
            f"bias_{'k' if bias_k is not None else 'v'} is set but the other is None"
        )
    q = _heads(q, N, num_heads)  # (N, H, L, hd)
    k = (
        _heads(k, N, num_heads)
        if static_k is None
        else static_k.reshape(N, num_heads, -1, head_dim)
    )
    v = (
        _heads(v, N, num_heads)
        if static_v is None
        else static_v.reshape(N, num_heads, -1, head_dim)
    )
    if add_zero_attn:
        zero = zeros((N, num_heads, 1, head_dim), dtype=dtype)
        k, v = cat([k, zero], dim=2), cat([v, zero], dim=2)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    S = k.shape[2]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise AssertionError(
                f"Expected key_padded_mask.shape to be {(N, S)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )
        kpm = key_padding_mask.reshape(N, 1, 1, S)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    out, probs = attention_with_weights(q, k, v, attn_mask, dropout_p if training else 0.0)
    out = out.permute(2, 0, 1, 3).reshape(L * N, E)  # (N, H, L, hd) -> (L * N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(L, N, -1)
    weights_out = None
    if need_weights:
        weights_out = probs.mean(dim=1) if average_attn_weights else probs
        if not batched:
            weights_out = weights_out.squeeze(0)
    return (out if batched else out.squeeze(1)), weights_out
