"""Model outputs shaped like Hugging Face's ``transformers.modeling_outputs``.

Plain dataclasses: read them by attribute (``out.logits``), by key (``out["logits"]``) or
by position (``out[0]``, skipping the fields that are None), as Hugging Face's do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ember.tensor import Tensor

__all__ = ["BaseModelOutputWithPast", "BaseModelOutputWithPooling", "CausalLMOutputWithPast"]

PastKeyValues = tuple[tuple[Tensor, Tensor], ...]


class _ModelOutput:
    """Dict-like and tuple-like access over a dataclass's non-None fields."""

    def to_tuple(self) -> tuple[Any, ...]:
        """Return the fields that are not None, in order. Mirrors ``ModelOutput.to_tuple``."""
        return tuple(v for f in fields(self) if (v := getattr(self, f.name)) is not None)

    def keys(self) -> list[str]:
        """Return the names of the fields that are not None."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key: str | int | slice) -> Any:
        if isinstance(key, str):
            if key not in self.keys():
                raise KeyError(key)
            return getattr(self, key)
        return self.to_tuple()[key]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


@dataclass
class BaseModelOutputWithPooling(_ModelOutput):
    """Encoder output. Mirrors ``transformers.modeling_outputs.BaseModelOutputWithPooling``.

    ``last_hidden_state`` (B, T, H); ``pooler_output`` (B, H) or None without a pooler;
    ``hidden_states``: the embeddings and every layer's output when asked for.
    """

    last_hidden_state: Tensor
    pooler_output: Tensor | None = None
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class BaseModelOutputWithPast(_ModelOutput):
    """Decoder output. Mirrors ``transformers.modeling_outputs.BaseModelOutputWithPast``.

    ``past_key_values``: one (key, value) pair per layer, each (B, n_head, T, head_dim).
    Differences from PyTorch/Hugging Face: a tuple of pairs, not a ``DynamicCache`` object.
    """

    last_hidden_state: Tensor
    past_key_values: PastKeyValues | None = None
    hidden_states: tuple[Tensor, ...] | None = None


@dataclass
class CausalLMOutputWithPast(_ModelOutput):
    """Language-model output. Mirrors ``transformers.modeling_outputs.CausalLMOutputWithPast``.

    ``loss`` (when labels are given), ``logits`` (B, T, V), ``past_key_values`` as in
    :class:`BaseModelOutputWithPast`.
    """

    loss: Tensor | None = None
    logits: Tensor | None = None
    past_key_values: PastKeyValues | None = None
    hidden_states: tuple[Tensor, ...] | None = None
