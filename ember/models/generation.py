"""Autoregressive decoding for causal language models: greedy and sampling, with a cache.

``generate`` follows Hugging Face's ``GenerationMixin.generate`` for the arguments it takes:
the prompt is run once, then each new token is fed alone with ``past_key_values``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ember.nn.functional as F
from ember import ops
from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import bool_
from ember.backend.random import Generator
from ember.tensor import Tensor

__all__ = ["generate", "top_k_top_p_filtering"]


def top_k_top_p_filtering(
    logits: Tensor, top_k: int | None = None, top_p: float | None = None
) -> Tensor:
    """Set to -inf the logits outside the top-k and outside the top-p nucleus.

    Mirrors Hugging Face's ``TopKLogitsWarper`` then ``TopPLogitsWarper`` (at least one token
    is always kept).

    Args:
        logits: (B, V) scores.
        top_k: keep the k largest per row; None or 0 keeps all.
        top_p: keep the smallest set whose probability reaches top_p; None or 1.0 keeps all.

    Returns:
        The filtered logits, same shape and dtype.
    """
    neg_inf = float("-inf")
    if top_k is not None and top_k > 0:
        k = min(top_k, logits.shape[-1])
        kth = ops.topk(logits, k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, neg_inf)
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = ops.sort(logits, dim=-1, descending=False)
        cum = ops.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        remove_sorted = cum <= (1 - top_p)
        remove_sorted[:, -1] = False  # keep the most likely token
        remove = ops.zeros_like(remove_sorted).scatter(1, order, remove_sorted)
        logits = logits.masked_fill(remove, neg_inf)
    return logits


def _check(max_new_tokens: int, do_sample: bool, temperature: float, top_k: Any, top_p: Any):
    if not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be an int >= 0, got {max_new_tokens}")
    if do_sample:
        if not temperature > 0:
            raise ValueError(
                f"`temperature` (={temperature}) has to be a strictly positive float, "
                "otherwise your next token scores will be invalid."
            )
        if top_k is not None and (not isinstance(top_k, int) or top_k < 0):
            raise ValueError(f"`top_k` has to be a non-negative integer, but is {top_k}")
        if top_p is not None and not 0 <= top_p <= 1:
            raise ValueError(f"`top_p` has to be a float >= 0 and <= 1, but is {top_p}")


def generate(
    model: Any,
    input_ids: Tensor,
    max_new_tokens: int = 20,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    eos_token_id: int | Sequence[int] | None = None,
    pad_token_id: int | None = None,
    attention_mask: Tensor | None = None,
    use_cache: bool = True,
    generator: Generator | None = None,
) -> Tensor:
    """Extend each prompt by up to max_new_tokens tokens. Mirrors ``GenerationMixin.generate``.

    Greedy (argmax) when ``do_sample`` is False; otherwise sampling from
    softmax(logits / temperature) after top-k then top-p filtering. A row that produces
    ``eos_token_id`` is finished and is padded with ``pad_token_id`` (eos if None) until every
    row is finished or the budget is spent. Runs under ``no_grad``.

    Differences from Hugging Face: no generation_config object and no beam search; the
    random numbers come from Ember's generator.

    Args:
        model: a causal LM whose forward takes (input_ids, past_key_values, attention_mask,
            position_ids, use_cache=...) and returns ``.logits`` and ``.past_key_values``.
        input_ids: (B, T) int64 prompt.
        max_new_tokens: how many tokens to add at most.
        do_sample: sample instead of greedy argmax.
        temperature: divides the logits before sampling.
        top_k: keep only the k most likely tokens when sampling.
        top_p: keep only the nucleus of probability top_p when sampling.
        eos_token_id: token id(s) that end a sequence; None takes ``model.config``'s.
        pad_token_id: filler after a sequence ended; None takes ``model.config``'s.
        attention_mask: (B, T) 1 for real tokens, 0 for (left) padding.
        use_cache: feed one token per step with past_key_values (else rerun the prefix).
        generator: random generator for sampling.

    Returns:
        (B, T + n) int64 tokens, prompt included.
    """
    _check(max_new_tokens, do_sample, temperature, top_k, top_p)
    if input_ids.ndim != 2:
        raise ValueError(f"generate: input_ids must be (batch, length), got {input_ids.shape}")
    config = getattr(model, "config", None)
    if eos_token_id is None:  # as Hugging Face: the model's own eos by default
        eos_token_id = getattr(config, "eos_token_id", None)
    if pad_token_id is None:
        pad_token_id = getattr(config, "pad_token_id", None)
    eos = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])
    pad = pad_token_id if pad_token_id is not None else (eos[0] if eos else 0)
    B = input_ids.shape[0]
    tokens, past = input_ids, None
    feed, mask = input_ids, attention_mask
    unfinished = ops.ones(B, dtype=bool_, device=input_ids.device)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for _ in range(max_new_tokens):
                positions = None
                if mask is not None:  # left padding: positions count real tokens only
                    positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, -feed.shape[1] :]
                out = model(feed, past, mask, positions, use_cache=use_cache)
                scores = out.logits[:, -1, :]  # (B, V)
                if do_sample:
                    scores = top_k_top_p_filtering(scores / temperature, top_k, top_p)
                    probs = F.softmax(scores.float(), dim=-1)
                    nxt = ops.multinomial(probs, 1, generator=generator).squeeze(1)
                else:
                    nxt = scores.argmax(dim=-1)  # (B,)
                if eos:
                    nxt = ops.where(unfinished, nxt, pad)
                tokens = ops.cat((tokens, nxt.unsqueeze(1)), dim=1)
                if mask is not None:
                    mask = ops.cat((mask, ops.ones_like(mask[:, :1])), dim=1)
                if use_cache:
                    past, feed = out.past_key_values, nxt.unsqueeze(1)
                else:
                    feed = tokens
                if eos:
                    for e in eos:
                        unfinished = ops.logical_and(unfinished, nxt != e)
                    if not unfinished.any().item():
                        break
    finally:
        model.train(was_training)
    return tokens
