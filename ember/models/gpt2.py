"""GPT-2 with Hugging Face's parameter names, so its checkpoints load unchanged.

Mirrors ``transformers.GPT2Model`` / ``GPT2LMHeadModel``: pre-LayerNorm blocks, ``Conv1D``
projections whose weight is (in, out), gelu_new (the tanh approximation), a key/value cache
through ``past_key_values``, and an ``lm_head`` tied to ``transformer.wte``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import ember.nn.functional as F
from ember import nn, ops
from ember.backend.dtypes import bool_
from ember.models.bert import ACT2FN
from ember.models.generation import generate
from ember.models.hub import config_from_dict, load_into, load_weights, read_config
from ember.models.outputs import BaseModelOutputWithPast, CausalLMOutputWithPast, PastKeyValues
from ember.tensor import Tensor

__all__ = ["Conv1D", "GPT2Config", "GPT2LMHeadModel", "GPT2Model"]


@dataclass
class GPT2Config:
    """GPT-2 hyper-parameters. Mirrors ``transformers.GPT2Config`` (names and defaults)."""

    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    n_inner: int | None = None
    activation_function: str = "gelu_new"
    resid_pdrop: float = 0.1
    embd_pdrop: float = 0.1
    attn_pdrop: float = 0.1
    layer_norm_epsilon: float = 1e-5
    initializer_range: float = 0.02
    scale_attn_weights: bool = True
    scale_attn_by_inverse_layer_idx: bool = False
    bos_token_id: int = 50256
    eos_token_id: int = 50256
    pad_token_id: int | None = None

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(
                f"`embed_dim` must be divisible by num_heads (got `embed_dim`: {self.n_embd} "
                f"and `num_heads`: {self.n_head})."
            )
        if self.activation_function not in ACT2FN:
            raise ValueError(f"GPT2Config: unsupported activation '{self.activation_function}'")


class Conv1D(nn.Module):
    """A linear layer whose weight is stored (in, out). Mirrors ``transformers.Conv1D``.

    Shapes: input (*, nx) -> output (*, nf).
    """

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf = nf
        self.nx = nx
        self.weight = nn.Parameter(ops.empty(nx, nf))
        self.bias = nn.Parameter(ops.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        out = ops.addmm(self.bias, x.reshape(-1, self.nx), self.weight)  # one GEMM
        return out.view(*x.shape[:-1], self.nf)

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.nx}"


def _attention_mask(
    T: int, S: int, attention_mask: Tensor | None, device: object
) -> tuple[Tensor | None, bool]:
    """Return (boolean mask (B|1, 1, T, S) or None, is_causal) for queries at S-T .. S-1."""
    if attention_mask is None and T == S:
        return None, T > 1  # the plain causal case: sdpa's own top-left mask
    mask = None
    if T > 1:  # bottom-right causal mask: query i sees keys up to S - T + i
        mask = ops.ones(T, S, dtype=bool_, device=device).tril(S - T)
    if attention_mask is not None:
        keys = (attention_mask != 0).view(attention_mask.shape[0], 1, 1, S)  # (B, 1, 1, S)
        mask = keys if mask is None else ops.logical_and(mask, keys)
    return mask, False


class GPT2Attention(nn.Module):
    """Causal self-attention: ``c_attn`` (q, k, v in one Conv1D) and ``c_proj``."""

    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = Conv1D(3 * config.n_embd, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, config.n_embd)
        self.attn_dropout_p = config.attn_pdrop
        self.resid_dropout = nn.Dropout(config.resid_pdrop)
        hs = config.n_embd // config.n_head
        self.scale = 1 / math.sqrt(hs) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            self.scale /= layer_idx + 1

    def forward(
        self,
        x: Tensor,
        past: tuple[Tensor, Tensor] | None,
        attention_mask: Tensor | None,
        use_cache: bool,
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        B, T, C = x.shape
        nh = self.n_head
        q, k, v = self.c_attn(x).view(B, T, 3, nh, C // nh).permute(2, 0, 3, 1, 4)  # (B, nh, T, hs)
        if past is not None:
            k = ops.cat((past[0], k), dim=2)  # (B, nh, S, hs)
            v = ops.cat((past[1], v), dim=2)
        mask, causal = _attention_mask(T, k.shape[2], attention_mask, x.device)
        p = self.attn_dropout_p if self.training else 0.0
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal, scale=self.scale
        )
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y)), ((k, v) if use_cache else None)


class GPT2MLP(nn.Module):
    """``c_fc`` -> activation -> ``c_proj`` -> dropout."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.c_fc = Conv1D(inner, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.act = ACT2FN[config.activation_function]
        self.dropout = nn.Dropout(config.resid_pdrop)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    """Pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPT2Config, layer_idx: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(config)

    def forward(
        self, x: Tensor, past: tuple | None, attention_mask: Tensor | None, use_cache: bool
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        a, present = self.attn(self.ln_1(x), past, attention_mask, use_cache)
        x = x + a
        return x + self.mlp(self.ln_2(x)), present


class GPT2Model(nn.Module):
    """The GPT-2 decoder stack. Mirrors ``transformers.GPT2Model``: names, init, outputs.

    Shapes: input_ids (B, T) int64 -> last_hidden_state (B, T, n_embd).
    ``attention_mask`` (B, S) covers the cached and the new positions (1 = attend).
    Differences from Hugging Face: ``past_key_values`` is a tuple of (key, value) pairs per
    layer, each (B, n_head, S, head_dim), not a ``Cache`` object.
    """

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)
        self.drop = nn.Dropout(config.embd_pdrop)
        self.h = nn.ModuleList(GPT2Block(config, i) for i in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)

    def forward(
        self,
        input_ids: Tensor,
        past_key_values: PastKeyValues | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        use_cache: bool = True,
        output_hidden_states: bool = False,
    ) -> BaseModelOutputWithPast:
        B, T = input_ids.shape
        past_len = past_key_values[0][0].shape[2] if past_key_values else 0
        if past_len + T > self.config.n_positions:
            raise ValueError(
                f"GPT2Model: {past_len + T} positions exceed n_positions {self.config.n_positions}"
            )
        if attention_mask is not None and tuple(attention_mask.shape) != (B, past_len + T):
            raise ValueError(
                f"GPT2Model: attention_mask shape {tuple(attention_mask.shape)} should be "
                f"{(B, past_len + T)} (batch, past + new positions)"
            )
        if position_ids is None:
            position_ids = ops.arange(past_len, past_len + T, device=input_ids.device)
        x = self.drop(self.wte(input_ids) + self.wpe(position_ids))  # (B, T, C)
        states = [x] if output_hidden_states else None
        presents = []
        for i, block in enumerate(self.h):
            past = past_key_values[i] if past_key_values else None
            x, present = block(x, past, attention_mask, use_cache)
            presents.append(present)
            if states is not None:
                states.append(x)
        x = self.ln_f(x)
        if states is not None:
            states[-1] = x  # Hugging Face reports the final state after ln_f
        return BaseModelOutputWithPast(
            x, tuple(presents) if use_cache else None, tuple(states) if states else None
        )


class GPT2LMHeadModel(nn.Module):
    """GPT-2 with its tied language-model head. Mirrors ``transformers.GPT2LMHeadModel``.

    Shapes: input_ids (B, T) -> logits (B, T, vocab_size). With ``labels`` (B, T), ``loss``
    is the next-token cross-entropy (labels shifted inside; -100 ignored), as Hugging Face.
    """

    def __init__(self, config: GPT2Config) -> None:
        super().__init__()
        self.config = config
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied, as Hugging Face
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        # Hugging Face's GPT2PreTrainedModel._init_weights, c_proj scaled by 1/sqrt(2 n_layer).
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Embedding, Conv1D)):
            nn.init.normal_(module.weight, 0.0, std)
            if not isinstance(module, nn.Embedding) and module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        for name, child in module.named_children():
            if name == "c_proj":
                nn.init.normal_(child.weight, 0.0, std / math.sqrt(2 * self.config.n_layer))

    def forward(
        self,
        input_ids: Tensor,
        past_key_values: PastKeyValues | None = None,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        labels: Tensor | None = None,
        use_cache: bool = True,
        output_hidden_states: bool = False,
    ) -> CausalLMOutputWithPast:
        out = self.transformer(
            input_ids, past_key_values, attention_mask, position_ids, use_cache,
            output_hidden_states,
        )  # fmt: skip
        logits = self.lm_head(out.last_hidden_state)  # (B, T, V)
        loss = None
        if labels is not None:
            V = logits.shape[-1]
            shift = logits[:, :-1].reshape(-1, V)
            loss = F.cross_entropy(shift, labels[:, 1:].reshape(-1), ignore_index=-100)
        return CausalLMOutputWithPast(loss, logits, out.past_key_values, out.hidden_states)

    generate = generate

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> GPT2LMHeadModel:
        """Load a Hugging Face GPT-2 folder (config.json + model.safetensors) from local disk.

        Mirrors ``transformers.GPT2LMHeadModel.from_pretrained`` for local folders. Accepts
        the names of ``GPT2LMHeadModel`` (``transformer.`` prefix) and of the original
        ``gpt2`` checkpoints (no prefix); ``lm_head.weight`` is tied to ``transformer.wte``.

        Args:
            directory: the local model folder.

        Returns:
            The model, in eval mode.
        """
        config = config_from_dict(GPT2Config, read_config(directory))
        model = cls(config)
        weights = load_weights(directory)
        tied = "lm_head.weight"

        def rename(name: str) -> str | None:
            if name.endswith((".attn.bias", ".attn.masked_bias")):
                return None  # the causal-mask buffers of older checkpoints
            if name == tied:
                return name
            return name if name.startswith("transformer.") else "transformer." + name

        load_into(model, weights, rename, optional=(tied,))
        model.lm_head.weight = model.transformer.wte.weight
        return model.eval()
