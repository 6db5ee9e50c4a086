"""Attention: ``scaled_dot_product_attention`` as one fused op (multi-head in ops/multihead.py).

``Attention`` computes softmax(q k^T * scale + mask) @ v with one batched matmul for the scores,
the softmax in place on that one (L x S) matrix per head, and one batched matmul for the
output; it keeps only the probabilities (and the dropout mask) for backward. Its backward is a
handful of batched matmuls (dV = P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dP * P)),
dQ = dS K * scale, dK = dS^T Q * scale) written with Ember ops. The probabilities are a second,
hidden output of the op, so a gradient of a gradient that reaches them flows back through the
same node: second derivatives are exact. Rows whose keys are all masked give zeros (output and
gradients), as PyTorch 2.x does on CPU.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.backend.random import generator_for
from ember.ops.common import cast
from ember.ops.linalg import MatMul, check_broadcast
from ember.ops.shape import sum_to, transpose
from ember.ops.softmax import SoftmaxBackward, row_sum
from ember.tensor import Tensor

__all__ = ["scaled_dot_product_attention"]

_CAUSAL: dict = {}  # (array module, L, S, dtype) -> the additive top-left causal mask


def causal_mask(xp: Any, L: int, S: int, dtype: Any) -> Array:
    """The (L, S) additive mask that hides key j from query i when j > i (cached, read-only)."""
    key = (xp.__name__, L, S, str(dtype))
    mask = _CAUSAL.get(key)
    if mask is None:
        if len(_CAUSAL) > 64:
            _CAUSAL.clear()
        mask = xp.triu(xp.full((L, S), -xp.inf, dtype=dtype), 1)
        mask.flags.writeable = False
        _CAUSAL[key] = mask
    return mask


def additive_mask(mask: Tensor, dtype: Any) -> Tensor:
    """A bool mask (True = take part) as 0 / -inf in dtype; a float mask unchanged."""
    m = mask.data
    if m.dtype.kind != "b":
        return mask
    xp = array_module(m)
    return Tensor(xp.where(m, xp.zeros((), dtype), xp.full((), -xp.inf, dtype)))


def _softmax_(scores: Array, masked: bool) -> Array:
    """Softmax over the last dim, in place; fully masked rows (all -inf) become zeros."""
    xp = array_module(scores)
    peak = scores.max(axis=-1, keepdims=True)
    if masked:  # a row of -inf has peak -inf: shift by 0 instead, so exp gives zeros, not NaN
        peak[xp.isneginf(peak)] = 0
    scores -= peak
    xp.exp(scores, out=scores)
    total = row_sum(scores)[..., None]
    if masked:
        total[total == 0] = 1
    scores *= xp.reciprocal(total, out=total)
    return scores


class Attention(Function):
    """(out, P) with P = softmax(q k^T * scale + mask), out = dropout(P) @ v."""

    @staticmethod
    def forward(
        ctx: Context, q: Array, k: Array, v: Array, mask: Array | None, scale: float, keep: Any
    ) -> tuple[Array, Array]:
        xp = array_module(q)
        scores = (q * scale) @ xp.swapaxes(k, -1, -2)  # (..., L, S): the one score matrix
        if mask is not None:
            if xp.broadcast_shapes(scores.shape, mask.shape) == scores.shape:
                scores += mask
            else:  # the mask carries batch dims that q and k do not
                scores = scores + mask
        probs = _softmax_(scores, mask is not None)
        weights = probs if keep is None else probs * keep
        if ctx.needs_input_grad:
            ctx.save_for_backward(q, k, v, probs)
            ctx.scale, ctx.keep = scale, keep
            ctx.mask_shape = None if mask is None else mask.shape
            ctx.set_materialize_grads(False)
        return weights @ v, probs

    @staticmethod
    def backward(ctx: Context, grad: Tensor | None, grad_probs: Tensor | None) -> tuple:
        q, k, v, probs = ctx.saved_tensors
        needs, keep = ctx.needs_input_grad, ctx.keep
        keep = None if keep is None else Tensor(keep)
        grad_v = grad_p = None
        if grad is not None:
            if needs[2]:
                weights = probs if keep is None else probs * keep
                grad_v = sum_to(MatMul.apply(transpose(weights, -1, -2), grad), v.shape)
            if needs[0] or needs[1] or needs[3]:
                grad_p = MatMul.apply(grad, transpose(v, -1, -2))  # dP = dO V^T
                if keep is not None:
                    grad_p = grad_p * keep
        if grad_probs is not None:  # the weights were used (need_weights) or a double backward
            grad_p = grad_probs if grad_p is None else grad_p + grad_probs
        if grad_p is None:
            return None, None, grad_v, None, None, None
        grad_s = SoftmaxBackward.apply(grad_p, probs, -1)  # P * (dP - rowsum(dP * P))
        scale = ctx.scale
        grad_q = sum_to(MatMul.apply(grad_s, k) * scale, q.shape) if needs[0] else None
        grad_k = None
        if needs[1]:
            grad_k = sum_to(MatMul.apply(transpose(grad_s, -1, -2), q) * scale, k.shape)
        grad_mask = sum_to(grad_s, ctx.mask_shape) if needs[3] else None
        return grad_q, grad_k, grad_v, grad_mask, None, None


def dropout_keep(q: Array, k: Array, mask: Tensor | None, p: float) -> Array | None:
    """The scaled keep mask (0 or 1 / (1 - p)) for the attention weights, or None when p is 0."""
    if p == 0:
        return None
    xp = array_module(q)
    shape = xp.broadcast_shapes((*q.shape[:-1], 1), (*k.shape[:-2], 1, k.shape[-2]))
    if mask is not None:
        shape = xp.broadcast_shapes(shape, mask.data.shape)
    keep = generator_for(None).random(shape, dtype=q.dtype) >= p
    return keep * xp.asarray(0.0 if p == 1 else 1 / (1 - p), dtype=q.dtype)


def _dims(t: Tensor) -> list:
    return list(t.data.shape)


def _check_sdpa(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None, p: float, causal: bool
) -> None:
    """Raise PyTorch's errors for inputs scaled_dot_product_attention cannot take."""
    q, k, v = query.data, key.data, value.data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
            f"{q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead."
        )
    if not q.dtype == k.dtype == v.dtype:
        names = [SCALAR_NAMES[a.dtype.name] for a in (q, k, v)]
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{names[0]} key.dtype: {names[1]} and value.dtype: {names[2]} instead."
        )
    if q.dtype.kind not in "fV":
        raise RuntimeError(
            "scaled_dot_product_attention: expected query, key and value to be floating point, "
            f"but got {SCALAR_NAMES[q.dtype.name]}"
        )
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {p}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query and key to have the same last dim, "
            f"but got query {_dims(query)} and key {_dims(key)}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            "scaled_dot_product_attention: expected key and value to have the same sequence "
            f"length (dim -2), but got key {_dims(key)} and value {_dims(value)}"
        )
    if attn_mask is not None:
        if causal:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
        m = attn_mask.data
        if m.dtype.kind != "b" and m.dtype != q.dtype:
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {SCALAR_NAMES[m.dtype.name]} and  query.dtype: "
                f"{SCALAR_NAMES[q.dtype.name]} instead."
            )


def _check_gqa(q: Array, k: Array, v: Array) -> int:
    """Query heads per key/value head, with PyTorch's error when they do not divide."""
    if q.ndim < 3 or k.ndim < 3 or v.ndim < 3:
        return 1
    hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
    if hq % hk or hq % hv or hk != hv:
        raise RuntimeError(
            "Number of heads in key and value must divide the number of heads in query"
        )
    return hq // hk


# Which of PyTorch's CPU kernels ember.nn.attention.sdpa_kernel allows; Ember's one kernel
# stands for both.
_MATH_SDP_ENABLED = True
_FLASH_SDP_ENABLED = True


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """Attend from query to key/value. Mirrors ``torch.nn.functional.scaled_dot_product_attention``.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); batch dims
    broadcast. ``attn_mask``: bool (True = take part) or additive float, broadcastable to
    (..., L, S); ``is_causal``: the top-left causal mask; ``scale`` defaults to 1/sqrt(E);
    ``enable_gqa``: key/value heads (dim -3) are shared by groups of query heads. One fused op:
    only the (L x S) probabilities per head are kept for backward. Rows with every key masked
    give zeros. float16/bfloat16 compute in float32.

    Differences from PyTorch: dropout masks come from Ember's generator; ``attn_mask`` together
    with ``is_causal`` raises (PyTorch's math reference does, its CPU kernel does not).
    """
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal)
    if not (_MATH_SDP_ENABLED or _FLASH_SDP_ENABLED):
        raise RuntimeError(
            "No viable backend for scaled_dot_product_attention was found. This is likely due "
            "to turning off both the math kernel and the fused kernels."
        )
    dtype = query.dtype
    if dtype.itemsize == 2:  # half precision: compute in float32, as PyTorch accumulates
        from ember.backend.dtypes import float32

        query, key, value = cast(query, float32), cast(key, float32), cast(value, float32)
        if attn_mask is not None and attn_mask.data.dtype.kind != "b":
            attn_mask = cast(attn_mask, float32)
        return cast(
            scaled_dot_product_attention(
                query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa
            ),
            dtype,
        )
    q, k, v = query.data, key.data, value.data
    L, S = q.shape[-2], k.shape[-2]
    groups = _check_gqa(q, k, v) if enable_gqa else 1
    kb, vb = k.shape[:-2], v.shape[:-2]
    if groups > 1:  # key/value heads stand for all the query heads of their group
        kb, vb = (*kb[:-1], q.shape[-3]), (*vb[:-1], q.shape[-3])
    batch = check_broadcast(check_broadcast(q.shape[:-2], kb), vb)
    mask = None
    if is_causal:
        mask = Tensor(causal_mask(array_module(q), L, S, q.dtype))
    elif attn_mask is not None:
        check_broadcast(attn_mask.data.shape, (*batch, L, S))
        mask = additive_mask(attn_mask, q.dtype)
    if scale is None:
        scale = 1 / math.sqrt(q.shape[-1])
    if groups == 1:
        keep = dropout_keep(q, k, mask, dropout_p)
        return Attention.apply(query, key, value, mask, scale, keep)[0]
    # Query heads (..., H, L, E) -> (..., Hkv, G, L, E); key/value heads broadcast over G.
    hk = k.shape[-3]
    query = query.reshape(*q.shape[:-3], hk, groups, L, q.shape[-1])
    key, value = key.unsqueeze(-3), value.unsqueeze(-3)
    if mask is not None and mask.ndim >= 3:
        m = mask.data.shape
        mask = mask.unsqueeze(-3) if m[-3] == 1 else mask.reshape(*m[:-3], hk, groups, L, S)
    keep = dropout_keep(query.data, key.data, mask, dropout_p)
    out = Attention.apply(query, key, value, mask, scale, keep)[0]
    return out.reshape(*out.shape[:-4], hk * groups, L, v.shape[-1])


def attention_with_weights(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropout_p: float
) -> tuple[Tensor, Tensor]:
    """(output, attention weights after dropout) of the fused op, both differentiable."""
    keep = dropout_keep(q.data, k.data, mask, dropout_p)
    out, probs = Attention.apply(q, k, v, mask, 1 / math.sqrt(q.shape[-1]), keep)
    return out, (probs if keep is None else probs * Tensor(keep))
