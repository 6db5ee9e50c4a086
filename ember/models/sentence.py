"""Sentence embeddings: mean pooling and L2 normalisation over a BERT encoder.

What ``sentence-transformers`` does for models such as all-MiniLM-L6-v2 (Transformer ->
Pooling(mean) -> Normalize), on Ember's :class:`BertModel` and a ``tokenizers`` tokenizer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import ember.nn.functional as F
from ember import nn, ops
from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import int64
from ember.models.bert import BertModel
from ember.models.hub import load_tokenizer
from ember.tensor import Tensor

__all__ = ["SentenceEmbedder", "mean_pooling"]


def mean_pooling(last_hidden_state: Tensor, attention_mask: Tensor) -> Tensor:
    """Average the token vectors of each sequence over its real (mask = 1) tokens.

    Mirrors sentence-transformers' ``Pooling(pooling_mode_mean_tokens=True)``.

    Args:
        last_hidden_state: (B, T, H) token vectors.
        attention_mask: (B, T) 1 for real tokens, 0 for padding.

    Returns:
        (B, H) sentence vectors.
    """
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)  # (B, T, 1)
    total = (last_hidden_state * mask).sum(dim=1)  # (B, H)
    return total / mask.sum(dim=1).clamp(min=1e-9)


class SentenceEmbedder(nn.Module):
    """Embed sentences: BERT, mean pooling over real tokens, then L2 normalisation.

    Mirrors ``sentence_transformers.SentenceTransformer`` for mean-pooling BERT models
    (all-MiniLM-L6-v2 and its kind). Shapes: input_ids (B, T) -> (B, H).

    Args:
        model: the encoder.
        tokenizer: a ``tokenizers.Tokenizer`` for :meth:`encode` (optional).
        max_seq_length: longer inputs are truncated to this many tokens.
        normalize: L2-normalise the pooled vectors.
    """

    def __init__(
        self,
        model: BertModel,
        tokenizer: Any | None = None,
        max_seq_length: int = 256,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.model = model
        self.tokenizer = tokenizer
        self.max_seq_length = max_seq_length
        self.normalize = normalize
        if tokenizer is not None:
            pad_id = tokenizer.token_to_id("[PAD]")
            tokenizer.enable_truncation(max_length=max_seq_length)
            tokenizer.enable_padding(pad_id=pad_id or 0, pad_token="[PAD]")  # to the longest

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        token_type_ids: Tensor | None = None,
    ) -> Tensor:
        if attention_mask is None:
            attention_mask = ops.ones_like(input_ids)
        hidden = self.model(input_ids, attention_mask, token_type_ids).last_hidden_state
        emb = mean_pooling(hidden, attention_mask)
        return F.normalize(emb, p=2.0, dim=1) if self.normalize else emb

    def encode(self, sentences: str | Sequence[str], batch_size: int = 32) -> Tensor:
        """Tokenize and embed sentences. Mirrors ``SentenceTransformer.encode``.

        Args:
            sentences: one sentence or a list of them.
            batch_size: sentences per forward pass.

        Returns:
            (N, H) float32 embeddings, or (H,) for a single string.

        Raises:
            RuntimeError: when the embedder has no tokenizer.
        """
        if self.tokenizer is None:
            raise RuntimeError("SentenceEmbedder.encode needs a tokenizer (tokenizer.json)")
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        chunks = []
        with no_grad():
            for start in range(0, len(texts), batch_size):
                enc = self.tokenizer.encode_batch(texts[start : start + batch_size])
                ids = ops.tensor([e.ids for e in enc], dtype=int64)
                mask = ops.tensor([e.attention_mask for e in enc], dtype=int64)
                types = ops.tensor([e.type_ids for e in enc], dtype=int64)
                chunks.append(self(ids, mask, types))
        if not chunks:
            return ops.zeros(0, self.model.config.hidden_size)
        out = ops.cat(chunks, dim=0)
        return out[0] if single else out

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike) -> SentenceEmbedder:
        """Load a sentence-transformers folder (config, weights, tokenizer) from local disk.

        Reads ``max_seq_length`` from ``sentence_bert_config.json`` and whether to normalise
        from ``modules.json`` (a ``Normalize`` module), defaulting to 256 and True.

        Args:
            directory: the local model folder.

        Returns:
            The embedder, in eval mode.
        """
        directory = os.fspath(directory)
        max_len, normalize = 256, True
        path = os.path.join(directory, "sentence_bert_config.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                max_len = json.load(f).get("max_seq_length", max_len)
        path = os.path.join(directory, "modules.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                normalize = any(m.get("type", "").endswith("Normalize") for m in json.load(f))
        model = BertModel.from_pretrained(directory, add_pooling_layer=False)
        return cls(model, load_tokenizer(directory), max_len, normalize).eval()
