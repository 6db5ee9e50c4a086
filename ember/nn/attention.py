"""Attention layers (MultiheadAttention) and the SDPA backend switch (SDPBackend, sdpa_kernel)."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import Any

import ember.ops.attention as _ops_attention
from ember.backend.dtypes import DType
from ember.nn import init
from ember.nn.linear import Linear
from ember.nn.module import Module
from ember.nn.parameter import Parameter
from ember.ops.creation import empty
from ember.ops.multihead import canonical_mask, multi_head_attention_forward
from ember.tensor import Tensor

# SDPBackend and sdpa_kernel live here as in torch.nn.attention, but stay out of ember.nn.
__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention.out_proj (same repr and keys).

    Mirrors ``torch.nn.modules.linear.NonDynamicallyQuantizableLinear``.
    """


class MultiheadAttention(Module):
    """Attend from query to key/value with several heads. Mirrors ``torch.nn.MultiheadAttention``.

    Shapes: query (L, N, E) (or (N, L, E) with ``batch_first``, or unbatched (L, E)), key
    (S, N, kdim), value (S, N, vdim) -> output like query, weights (N, L, S) averaged over heads
    or (N, H, L, S). Parameters: in_proj_weight (3E, E) when kdim == vdim == E, else
    q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim); in_proj_bias (3E);
    out_proj (E -> E); bias_k, bias_v (1, 1, E) with ``add_bias_kv``. PyTorch's initialisation:
    xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/bias_v.

    Differences from PyTorch: no fast path (the same math runs in eval mode); a query whose keys
    are all masked gets zero weights and output, not NaN.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                f"num_heads={num_heads} instead"
            )
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **factory))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **factory))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **factory))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        batched = query.ndim == 3
        dtype = query.dtype
        key_padding_mask = canonical_mask(
            key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", dtype
        )
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", dtype)
        if self.batch_first and batched:  # keep the identities that select self-attention
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query,
            key,
            value,
            self.embed_dim,
            self.num_heads,
            self.in_proj_weight,
            self.in_proj_bias,
            self.bias_k,
            self.bias_v,
            self.add_zero_attn,
            self.dropout,
            self.out_proj.weight,
            self.out_proj.bias,
            training=self.training,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            attn_mask=attn_mask,
            use_separate_proj_weight=separate,
            q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights,
            is_causal=is_causal,
        )
        if self.batch_first and batched:
            return out.transpose(1, 0), weights
        return out, weights


# -- SDPA backend selection -------------------------------------------------------------------
class SDPBackend(enum.Enum):
    """The kernels of scaled dot product attention. Mirrors ``torch.nn.attention.SDPBackend``.

    Ember has one implementation, which stands for both of PyTorch's CPU kernels (MATH and
    FLASH_ATTENTION); the others exist so that code naming them runs. As PyTorch's, members
    convert with ``int()`` but do not compare equal to ints.
    """

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __int__(self) -> int:
        return self.value


# The switchable backends in PyTorch's listing order; all start enabled, in PyTorch's default
# priority order.
_SWITCHABLE = tuple(
    SDPBackend[name]
    for name in (
        "CUDNN_ATTENTION",
        "FLASH_ATTENTION",
        "EFFICIENT_ATTENTION",
        "MATH",
        "OVERRIDEABLE",
    )
)
_enabled: set[SDPBackend] = set(_SWITCHABLE)
_priority: list[int] = [1, 2, 0, 3, 4]


def _cur_sdpa_kernel_backends(with_priority: bool = False) -> list[SDPBackend]:
    """The enabled backends, in PyTorch's listing order or (with_priority) by priority."""
    backends = [b for b in _SWITCHABLE if b in _enabled]
    if with_priority:
        backends.sort(key=lambda b: _priority.index(int(b)))
    return backends


def _sdpa_kernel(backends: list[SDPBackend], set_priority: bool = False) -> None:
    """Enable exactly ``backends`` (ERROR is never enabled); with set_priority, order them."""
    global _priority
    _enabled.clear()
    _enabled.update(b for b in _SWITCHABLE if b in backends)
    # F.scaled_dot_product_attention reads these flags (Ember's kernel serves MATH and FLASH).
    _ops_attention._MATH_SDP_ENABLED = SDPBackend.MATH in _enabled
    _ops_attention._FLASH_SDP_ENABLED = SDPBackend.FLASH_ATTENTION in _enabled
    if set_priority:
        order = [int(b) for b in backends]
        # PyTorch keeps five entries: ERROR (-1) at the front pushes the last one out.
        _priority = (order + [p for p in _priority if p not in order])[: len(_SWITCHABLE)]


@contextlib.contextmanager
def sdpa_kernel(
    backends: list[SDPBackend] | SDPBackend, set_priority: bool = False
) -> Iterator[dict]:
    """Allow only ``backends`` for SDPA in the block. Mirrors ``torch.nn.attention.sdpa_kernel``.

    The previous set (and, with ``set_priority``, the previous priority order, the list being
    read as highest priority first) is restored on exit. Yields ``{}`` as PyTorch does.

    Differences from PyTorch: Ember's one kernel runs whenever MATH or FLASH_ATTENTION is
    allowed (PyTorch's CPU choice); the priority order is recorded but selects nothing.
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise AssertionError(
            "Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
            f"{type(backends).__name__}"
        )
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(dict.fromkeys(backends))
    previous = _cur_sdpa_kernel_backends(with_priority=set_priority)
    try:
        _sdpa_kernel(backends, set_priority)
        yield {}
    finally:
        _sdpa_kernel(previous, set_priority)
