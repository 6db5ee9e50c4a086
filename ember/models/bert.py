"""BERT encoder with Hugging Face's parameter names, so its checkpoints load unchanged.

Mirrors ``transformers.BertModel`` (absolute position embeddings, post-LayerNorm blocks,
tanh pooler over the first token) and its ``state_dict`` keys:
``embeddings.word_embeddings.weight``, ``encoder.layer.{i}.attention.self.query.weight``, ...
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import ember.nn.functional as F
from ember import nn, ops
from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import int64
from ember.models.hub import config_from_dict, load_into, load_weights, read_config
from ember.models.outputs import BaseModelOutputWithPooling
from ember.tensor import Tensor

__all__ = ["BertConfig", "BertModel"]

ACT2FN = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": ops.tanh,
}


@dataclass
class BertConfig:
    """BERT hyper-parameters. Mirrors ``transformers.BertConfig`` (names and defaults)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"The hidden size ({self.hidden_size}) is not a multiple of the number of "
                f"attention heads ({self.num_attention_heads})"
            )
        if self.hidden_act not in ACT2FN:
            raise ValueError(f"BertConfig: unsupported hidden_act '{self.hidden_act}'")
        if self.position_embedding_type != "absolute":
            raise NotImplementedError(
                "BertConfig: only position_embedding_type='absolute' is supported, got "
                f"'{self.position_embedding_type}'"
            )


class BertEmbeddings(nn.Module):
    """Sum of word, position and token-type embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor, position_ids: Tensor) -> Tensor:
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)  # (B, T, H)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    """Multi-head attention projections ``query``, ``key``, ``value`` (HF's names)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        B, T, C = x.shape
        nh, hs = self.num_attention_heads, self.attention_head_size
        q = self.query(x).view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = self.key(x).view(B, T, nh, hs).transpose(1, 2)
        v = self.value(x).view(B, T, nh, hs).transpose(1, 2)
        p = self.dropout_p if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return y.transpose(1, 2).reshape(B, T, C)  # (B, T, C)


class BertDenseNorm(nn.Module):
    """``dense`` -> dropout -> residual add -> ``LayerNorm`` (BertSelfOutput, BertOutput)."""

    def __init__(self, config: BertConfig, in_features: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, x: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class BertAttention(nn.Module):
    """Self-attention (``self``) followed by its output projection (``output``)."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertDenseNorm(config, config.hidden_size)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return self.output(self.self(x, mask), x)


class BertIntermediate(nn.Module):
    """The feed-forward expansion ``dense`` and the activation."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = ACT2FN[config.hidden_act]

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.dense(x))


class BertLayer(nn.Module):
    """One post-LayerNorm transformer block: attention, then feed-forward."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertDenseNorm(config, config.intermediate_size)

    def forward(self, x: Tensor, mask: Tensor | None) -> Tensor:
        x = self.attention(x, mask)
        return self.output(self.intermediate(x), x)


class BertEncoder(nn.Module):
    """The stack of ``layer.{i}`` blocks."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


class BertPooler(nn.Module):
    """tanh(dense(first token))."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden: Tensor) -> Tensor:
        return ops.tanh(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    """The BERT encoder. Mirrors ``transformers.BertModel``: names, init and outputs.

    Shapes: input_ids (B, T) int64 -> last_hidden_state (B, T, H), pooler_output (B, H).
    Differences from Hugging Face: ``attention_mask`` (B, T) of 1 = attend, 0 = padding
    becomes a boolean mask over keys; a row with every key masked gives zeros, where Hugging
    Face averages over all positions. Only absolute position embeddings.
    """

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        # Hugging Face's BertPreTrainedModel._init_weights: N(0, initializer_range).
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                with no_grad():
                    module.weight[module.padding_idx] = 0.0
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
        position_ids: Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> BaseModelOutputWithPooling:
        B, T = input_ids.shape
        limit = self.config.max_position_embeddings
        if limit < T:  # (ruff reads the upper-case T as a constant)
            raise ValueError(
                f"BertModel: sequence length {T} exceeds max_position_embeddings {limit}"
            )
        if token_type_ids is None:
            token_type_ids = ops.zeros(B, T, dtype=int64, device=input_ids.device)
        if position_ids is None:
            position_ids = ops.arange(T, device=input_ids.device).unsqueeze(0)  # (1, T)
        mask = None
        if attention_mask is not None:
            if tuple(attention_mask.shape) != (B, T):
                raise ValueError(
                    f"BertModel: attention_mask shape {tuple(attention_mask.shape)} does not "
                    f"match input_ids shape {(B, T)}"
                )
            keep = attention_mask != 0
            if not keep.all().item():  # no padding: no mask at all (what HF's sdpa path does)
                mask = keep.view(B, 1, 1, T)  # keys to attend, (B, 1, 1, T)
        x = self.embeddings(input_ids, token_type_ids, position_ids)
        states = [x] if output_hidden_states else None
        for block in self.encoder.layer:
            x = block(x, mask)
            if states is not None:
                states.append(x)
        pooled = self.pooler(x) if self.pooler is not None else None
        return BaseModelOutputWithPooling(x, pooled, tuple(states) if states else None)

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike, add_pooling_layer: bool = True
    ) -> BertModel:
        """Load a Hugging Face BERT folder (config.json + model.safetensors) from local disk.

        Mirrors ``transformers.BertModel.from_pretrained`` for local folders. Accepts the
        weights of ``BertModel`` and of its task models (``bert.`` prefix; heads such as
        ``cls.*`` are ignored) and the old ``gamma``/``beta`` LayerNorm names.

        Args:
            directory: the local model folder.
            add_pooling_layer: build the pooler (ignored in the file when False).

        Returns:
            The model, in eval mode.
        """
        config = config_from_dict(BertConfig, read_config(directory))
        model = cls(config, add_pooling_layer=add_pooling_layer)
        weights = load_weights(directory)
        prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""

        def rename(name: str) -> str | None:
            if not name.startswith(prefix) or name.endswith("position_ids"):
                return None  # task heads and the position_ids buffer
            name = name[len(prefix) :]
            if name.startswith("pooler.") and not add_pooling_layer:
                return None
            name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", name)
            return re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name)

        load_into(model, weights, rename)
        return model.eval()
