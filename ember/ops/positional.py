"""Position math for attention: rotary embeddings (RoPE) and ALiBi biases.

Ember's own; PyTorch has no counterpart. ``apply_rotary_pos_emb`` follows Hugging Face's
LLaMA code (the GPT-NeoX "rotate_half" layout, which pairs feature i with i + d/2) as one
fused op, ``Rotary``; ``alibi_slopes`` / ``alibi_bias`` follow the ALiBi paper (Press et al.,
2022) and its reference code.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array
from ember.backend.dtypes import DType, float32, get_default_dtype
from ember.ops.common import cast, is_float_array, result_type
from ember.ops.creation import tensor
from ember.ops.join import cat
from ember.ops.ranges import arange
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = ["alibi_bias", "alibi_slopes", "apply_rotary_pos_emb", "rotate_half"]


class Rotary(Function):
    """x * cos + rotate_half(x) * sin, with rotate_half(x) = cat(-x[d/2:], x[:d/2])."""

    @staticmethod
    def forward(ctx: Context, x: Array, cos: Array, sin: Array) -> Array:
        # cos and sin have one shape (checked in apply_rotary_pos_emb), so x * cos has the
        # output's shape and the rotated halves can be added into it in place.
        h = x.shape[-1] // 2
        ctx.save_for_backward(x, cos, sin)
        out = x * cos
        out[..., :h] -= x[..., h:] * sin[..., :h]
        out[..., h:] += x[..., :h] * sin[..., h:]
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, cos, sin = ctx.saved_tensors
        grad_x = grad_cos = grad_sin = None
        if ctx.needs_input_grad[0]:
            # The transpose of rotate_half: cat(y[d/2:], -y[:d/2]).
            y = grad * sin
            h = y.shape[-1] // 2
            rotated = cat((y[..., h:], -y[..., :h]), -1)
            grad_x = sum_to(grad * cos + rotated, x.shape)
        if ctx.needs_input_grad[1]:
            grad_cos = sum_to(grad * x, cos.shape)
        if ctx.needs_input_grad[2]:
            grad_sin = sum_to(grad * rotate_half(x), sin.shape)
        return grad_x, grad_cos, grad_sin


def rotate_half(x: Tensor) -> Tensor:
    """Return cat(-x2, x1) for the halves x1, x2 of the last dim (Hugging Face's helper).

    Ember's own; PyTorch has no counterpart. Follows ``rotate_half`` in Hugging Face's LLaMA
    code: feature i is paired with feature i + d/2.
    """
    h = x.shape[-1] // 2
    return cat((-x[..., h:], x[..., :h]), -1)


def _check_rope(q: Tensor, k: Tensor, cos: Tensor, sin: Tensor) -> None:
    for name, t in (("q", q), ("k", k), ("cos", cos), ("sin", sin)):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"apply_rotary_pos_emb(): argument '{name}' must be Tensor, not {type(t).__name__}"
            )
        if t.data.dtype.kind != "f" and not is_float_array(t.data):  # kind "V": bfloat16
            raise TypeError(
                f"apply_rotary_pos_emb(): expected a floating point '{name}', got {t.dtype}"
            )
    cos_shape = cos.data.shape
    if cos_shape != sin.data.shape:
        raise ValueError(
            f"apply_rotary_pos_emb(): cos and sin must have the same shape, got "
            f"{list(cos_shape)} and {list(sin.shape)}"
        )
    for name, shape in (("q", q.data.shape), ("k", k.data.shape)):
        d = shape[-1] if shape else 0
        if d % 2 or d == 0:
            raise ValueError(
                f"apply_rotary_pos_emb(): the last dim of {name} must be even, got shape "
                f"{list(shape)}"
            )
        if not cos_shape or cos_shape[-1] != d:
            raise ValueError(
                f"apply_rotary_pos_emb(): cos/sin of shape {list(cos_shape)} do not match "
                f"the head dim {d} of {name} of shape {list(shape)}"
            )


def _rotate(x: Tensor, cos: Tensor, sin: Tensor, name: str) -> Tensor:
    x_shape, cos_shape = x.data.shape, cos.data.shape
    for a, b in zip(reversed(x_shape), reversed(cos_shape)):
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"apply_rotary_pos_emb(): cos/sin of shape {list(cos_shape)} (after unsqueeze) "
                f"cannot be broadcast to {name} of shape {list(x_shape)}; check unsqueeze_dim"
            )
    if x.dtype is not cos.dtype:
        dtype = result_type(x, cos)
        x, cos, sin = cast(x, dtype), cast(cos, dtype), cast(sin, dtype)
    return Rotary.apply(x, cos, sin)


def apply_rotary_pos_emb(
    q: Tensor,
    k: Tensor,
    cos: Tensor,
    sin: Tensor,
    position_ids: Tensor | None = None,
    unsqueeze_dim: int = 1,
) -> tuple[Tensor, Tensor]:
    """Rotate queries and keys by their positions (RoPE); return (q_embed, k_embed).

    Ember's own; PyTorch has no counterpart. Follows ``apply_rotary_pos_emb`` of Hugging
    Face's LLaMA: ``q * cos + rotate_half(q) * sin`` (likewise k), one fused op differentiable
    in q, k, cos and sin. Shapes: q (B, nh, L, hs), k (B, nkv, L, hs), cos and sin (B, L, hs)
    as ``RotaryEmbedding`` returns them, unsqueezed at ``unsqueeze_dim`` (1 for the
    (B, nh, L, hs) layout, 2 for (B, L, nh, hs)).

    Args:
        position_ids: optional (B, L) integer positions; cos and sin are then whole
            (max_positions, hs) tables and are indexed by them first (older Hugging Face API).
    """
    _check_rope(q, k, cos, sin)
    if position_ids is not None:
        if cos.dim() != 2:
            raise ValueError(
                f"apply_rotary_pos_emb(): with position_ids, cos and sin must be "
                f"(max_positions, dim) tables, got shape {list(cos.shape)}"
            )
        cos, sin = cos[position_ids], sin[position_ids]  # (B, L, hs)
    cos, sin = cos.unsqueeze(unsqueeze_dim), sin.unsqueeze(unsqueeze_dim)
    return _rotate(q, cos, sin, "q"), _rotate(k, cos, sin, "k")


def alibi_slopes(num_heads: int, *, dtype: DType | None = None, device: Any = None) -> Tensor:
    """Return the ALiBi head slopes, shape (num_heads,).

    Ember's own; PyTorch has no counterpart. Follows ``get_slopes`` of the ALiBi reference
    code: for n a power of two, the geometric sequence 2^(-8/n), 2^(-16/n), ..., 2^(-8);
    otherwise the slopes for the power of two below n, followed by every other slope of the
    power of two above it until there are n.
    """
    if not isinstance(num_heads, int) or isinstance(num_heads, bool) or num_heads <= 0:
        raise ValueError(f"alibi_slopes(): num_heads must be a positive int, got {num_heads!r}")
    return tensor(_slopes(num_heads), dtype=dtype or get_default_dtype(), device=device)


def _slopes(n: int) -> list[float]:
    """The reference code's recursion, in exact powers of two."""
    if n & (n - 1) == 0:
        return [2.0 ** (-8.0 * (i + 1) / n) for i in range(n)]
    below = 2 ** int(math.log2(n))
    return _slopes(below) + _slopes(2 * below)[0::2][: n - below]


def alibi_bias(
    num_heads: int,
    seq_len: int,
    key_len: int | None = None,
    causal: bool = True,
    *,
    dtype: DType | None = None,
    device: Any = None,
) -> Tensor:
    """Return the ALiBi attention bias, shape (num_heads, seq_len, key_len), as an attn_mask.

    Ember's own; PyTorch has no counterpart. Follows the ALiBi paper: bias[h, i, j] =
    -slope_h * (i - j) for key j at or before query i. With ``causal=True`` the keys after
    the query get -inf, so the bias is also the causal mask (add it to the scores, or pass it
    as the float ``attn_mask`` of ``F.scaled_dot_product_attention``); with ``causal=False``
    it is -slope_h * |i - j| everywhere. Queries are the last ``seq_len`` of ``key_len``
    positions (``key_len`` defaults to ``seq_len``), as when decoding with a KV cache.
    """
    key_len = seq_len if key_len is None else key_len
    if seq_len < 0 or key_len < seq_len:
        raise ValueError(
            f"alibi_bias(): need 0 <= seq_len <= key_len, got seq_len={seq_len} and "
            f"key_len={key_len}"
        )
    dtype = dtype or get_default_dtype()
    slopes = alibi_slopes(num_heads, dtype=dtype, device=device)
    work = dtype if dtype.itemsize >= 4 else float32  # exact distances up to 2^24
    i = arange(key_len - seq_len, key_len, dtype=work, device=device)[:, None]  # (L, 1)
    j = arange(key_len, dtype=work, device=device)[None, :]  # (1, S)
    offset = j - i if causal else 0 - (j - i).abs()  # (L, S); 0 - keeps +0.0 on the diagonal
    bias = cast(slopes, work)[:, None, None] * offset  # (nh, L, S)
    if causal:
        bias = bias.masked_fill(j > i, -math.inf)
    return cast(bias, dtype)
