"""Positions for attention models: sinusoidal and learned encodings, RoPE, ALiBi, a KV cache.

Ember's own; PyTorch has no counterpart. Each layer says which paper or reference code it
follows. The functions ``apply_rotary_pos_emb``, ``rotate_half``, ``alibi_slopes`` and
``alibi_bias`` live in ``ember.ops.positional`` and are re-exported here.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.grad_mode import grad_mode, no_grad
from ember.backend.dtypes import DType, float64, get_default_dtype, int64
from ember.nn.dropout import Dropout
from ember.nn.module import Module
from ember.nn.sparse import Embedding
from ember.ops.creation import zeros
from ember.ops.join import cat
from ember.ops.positional import alibi_bias, alibi_slopes, apply_rotary_pos_emb, rotate_half
from ember.ops.ranges import arange
from ember.tensor import Tensor

__all__ = [
    "KVCache",
    "LearnedPositionalEmbedding",
    "RotaryEmbedding",
    "SinusoidalPositionalEncoding",
    "alibi_bias",
    "alibi_slopes",
    "apply_rotary_pos_emb",
    "rotate_half",
]


class SinusoidalPositionalEncoding(Module):
    """Add the fixed sine/cosine position table to the input, then apply dropout.

    Ember's own; PyTorch has no counterpart. Follows "Attention Is All You Need" and the
    ``PositionalEncoding`` of PyTorch's transformer tutorial: PE[pos, 2i] = sin(pos / 10000^(2i
    / d_model)), PE[pos, 2i+1] = cos(pos / 10000^(2i / d_model)), kept as the persistent buffer
    ``pe`` of shape (max_len, 1, d_model), as the tutorial registers it, so its checkpoints load.
    The table is computed in float64 and rounded once. Shapes: (L, B, d_model), or
    (B, L, d_model) with ``batch_first=True``, or unbatched (L, d_model) -> the same shape.
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        batch_first: bool = False,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        position = arange(max_len, dtype=float64, device=device)[:, None]  # (max_len, 1)
        two_i = arange(0, d_model, 2, dtype=float64, device=device)
        div_term = (two_i * (-math.log(10000.0) / d_model)).exp()  # 1 / 10000^(2i / d_model)
        angle = position * div_term  # (max_len, ceil(d_model / 2))
        pe = zeros(max_len, 1, d_model, dtype=float64, device=device)
        pe[:, 0, 0::2] = angle.sin()
        pe[:, 0, 1::2] = angle[:, : d_model // 2].cos()
        self.register_buffer("pe", pe.to(dtype or get_default_dtype()))

    def forward(self, x: Tensor) -> Tensor:
        seq_dim = 1 if self.batch_first and x.dim() == 3 else 0
        seq_len = x.shape[seq_dim]
        if seq_len > self.max_len:
            raise ValueError(
                f"SinusoidalPositionalEncoding: sequence length {seq_len} exceeds "
                f"max_len={self.max_len} (input of shape {list(x.shape)})"
            )
        pe = self.pe[:seq_len]  # (L, 1, d_model)
        if x.dim() != 3:
            pe = pe[:, 0]  # (L, d_model)
        elif self.batch_first:
            pe = pe.transpose(0, 1)  # (1, L, d_model)
        return self.dropout(x + pe)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}, batch_first={self.batch_first}"


class LearnedPositionalEmbedding(Embedding):
    """Look up a learned vector per position: an ``Embedding`` over positions 0..max-1.

    Ember's own; PyTorch has no counterpart. Follows GPT-2/nanoGPT's ``wpe`` (weight N(0, 1) as
    ``nn.Embedding``; state_dict key ``weight``). ``forward(input, offset=0)``: ``input`` is a
    sequence length, or a batch-first tensor whose sequence length is read from dim 1 (dim 0
    when it is 1-d), such as token ids (B, L) or embeddings (B, L, D); returns the rows for
    positions offset .. offset + L - 1, shape (L, embedding_dim), which broadcasts against
    (B, L, embedding_dim).
    """

    def __init__(
        self,
        max_positions: int,
        embedding_dim: int,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(max_positions, embedding_dim, device=device, dtype=dtype)
        self.max_positions = max_positions

    def forward(self, input: Tensor | int, offset: int = 0) -> Tensor:
        if isinstance(input, Tensor):
            L = input.shape[1] if input.dim() >= 2 else input.shape[0]
        else:
            L = int(input)
        if offset < 0 or offset + L > self.max_positions:
            raise IndexError(
                f"LearnedPositionalEmbedding: positions {offset}..{offset + L - 1} are out of "
                f"range for max_positions={self.max_positions}"
            )
        return self.weight[offset : offset + L]  # (L, embedding_dim)


class RotaryEmbedding(Module):
    """Compute the cos/sin tables of rotary position embeddings (RoPE) for given positions.

    Ember's own; PyTorch has no counterpart. Follows ``LlamaRotaryEmbedding`` of Hugging Face
    (GPT-NeoX layout): inv_freq = 1 / base^(arange(0, dim, 2) / dim), freqs = pos * inv_freq,
    emb = cat(freqs, freqs), returning (cos(emb), sin(emb)) in the input's dtype, computed in
    float32 as Hugging Face does. Use with ``apply_rotary_pos_emb``. The tables are cached
    (non-persistent buffers ``inv_freq``, ``cos_cached``, ``sin_cached``) for
    ``max_position_embeddings`` positions and grow when a larger position is asked for.
    Shapes: ``forward(x, position_ids=None)`` -> two (B, L, dim) tensors for position_ids
    (B, L), or (1, L, dim) for positions 0..L-1 with L = x.shape[-2].
    """

    def __init__(
        self,
        dim: int,
        max_position_embeddings: int = 2048,
        base: float = 10000.0,
        device: Any = None,
    ) -> None:
        super().__init__()
        if dim <= 0 or dim % 2:
            raise ValueError(f"RotaryEmbedding: dim must be a positive even number, got {dim}")
        self.dim, self.max_position_embeddings, self.base = dim, max_position_embeddings, base
        exponent = arange(0, dim, 2, dtype=int64, device=device).float() / dim
        self.register_buffer("inv_freq", 1.0 / (base**exponent), persistent=False)  # (dim/2,)
        self._set_cos_sin_cache(max_position_embeddings)

    def _set_cos_sin_cache(self, num_positions: int) -> None:
        t = arange(num_positions, dtype=int64, device=self.inv_freq.device).float()
        freqs = t[:, None] * self.inv_freq[None, :]  # (P, dim/2)
        emb = cat((freqs, freqs), -1)  # (P, dim)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)

    def forward(self, x: Tensor, position_ids: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if position_ids is None:
            seq_len = x.shape[-2]
            if seq_len > self.cos_cached.shape[0]:
                self._set_cos_sin_cache(seq_len)
            cos = self.cos_cached[None, :seq_len]  # (1, L, dim)
            sin = self.sin_cached[None, :seq_len]
        else:
            if position_ids.numel() and int(position_ids.max()) >= self.cos_cached.shape[0]:
                self._set_cos_sin_cache(int(position_ids.max()) + 1)
            cos, sin = self.cos_cached[position_ids], self.sin_cached[position_ids]  # (B, L, dim)
        return cos.to(x.dtype), sin.to(x.dtype)

    def extra_repr(self) -> str:
        return (
            f"dim={self.dim}, max_position_embeddings={self.max_position_embeddings}, "
            f"base={self.base}"
        )


class KVCache(Module):
    """Keep the keys and values of past positions for autoregressive decoding.

    Ember's own; PyTorch has no counterpart. Follows the KV cache of Meta's LLaMA reference
    code and torchtune: preallocated (non-persistent) buffers ``k_cache`` and ``v_cache`` of
    shape (max_batch_size, num_heads, max_seq_len, head_dim); ``update(k, v)`` writes the new
    (B, nh, L, hs) keys and values after the ones so far and returns all of them,
    (B, nh, size, hs), without concatenating; ``reset()`` starts a new sequence. With no
    gradient to record (``no_grad``, as in generation) a write costs O(L); when k or v
    requires grad the write is recorded like ``cache[..., s:e, :] = k`` (copying the cache),
    so gradients reach k and v as in PyTorch.
    """

    def __init__(
        self,
        max_batch_size: int,
        max_seq_len: int,
        num_heads: int,
        head_dim: int,
        dtype: DType | None = None,
        device: Any = None,
    ) -> None:
        super().__init__()
        self.max_batch_size, self.max_seq_len = max_batch_size, max_seq_len
        self.num_heads, self.head_dim = num_heads, head_dim
        shape = (max_batch_size, num_heads, max_seq_len, head_dim)
        self.register_buffer("k_cache", zeros(shape, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v_cache", zeros(shape, dtype=dtype, device=device), persistent=False)
        self.size = 0  # positions filled so far
        self.batch_size = 0  # the batch of the sequence in progress (0: none yet)

    def reset(self) -> None:
        """Forget every position, keeping the memory (and dropping recorded history)."""
        for name in ("k_cache", "v_cache"):
            buffer = getattr(self, name)
            if buffer.grad_fn is not None:
                buffer = buffer.detach()
                setattr(self, name, buffer)
            with no_grad():
                buffer.zero_()
        self.size = self.batch_size = 0

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append k and v (B, nh, L, hs); return all keys and values so far, (B, nh, size, hs)."""
        self._check(k, v)
        B, L = k.shape[0], k.shape[2]
        start, end = self.size, self.size + L
        tracked = grad_mode.enabled and (
            k.requires_grad or v.requires_grad or self.k_cache.grad_fn is not None
        )
        for cache, new in ((self.k_cache, k), (self.v_cache, v)):
            if tracked:
                cache[:B, :, start:end] = new  # recorded: autograd needs the whole cache
            else:
                cache[:B, :, start:end].copy_(new)  # O(L): a write into the preallocated view
        self.size, self.batch_size = end, B
        return self.k_cache[:B, :, :end], self.v_cache[:B, :, :end]

    def _check(self, k: Tensor, v: Tensor) -> None:
        expected = (self.num_heads, self.head_dim)
        for name, t in (("k", k), ("v", v)):
            if t.dim() != 4 or (t.shape[1], t.shape[3]) != expected:
                raise ValueError(
                    f"KVCache.update: expected {name} of shape (B, {self.num_heads}, L, "
                    f"{self.head_dim}), got {list(t.shape)}"
                )
        if tuple(k.shape) != tuple(v.shape):
            raise ValueError(
                f"KVCache.update: k and v must have the same shape, got {list(k.shape)} and "
                f"{list(v.shape)}"
            )
        batch, seq_len = k.shape[0], k.shape[2]
        if batch > self.max_batch_size or (self.batch_size and batch != self.batch_size):
            raise ValueError(
                f"KVCache.update: batch size {batch} does not fit the cache (max_batch_size="
                f"{self.max_batch_size}, batch in progress {self.batch_size or None}); "
                "call reset() to start a new batch"
            )
        if self.size + seq_len > self.max_seq_len:
            raise ValueError(
                f"KVCache.update: {self.size} cached + {seq_len} new positions exceed "
                f"max_seq_len={self.max_seq_len}"
            )

    def extra_repr(self) -> str:
        return (
            f"max_batch_size={self.max_batch_size}, max_seq_len={self.max_seq_len}, "
            f"num_heads={self.num_heads}, head_dim={self.head_dim}"
        )
