"""Helpers shared by the distributions: broadcasting parameters, probs <-> logits, lazy_property."""

from __future__ import annotations

import numbers
from functools import update_wrapper
from typing import Any

from ember import ops
from ember.autograd.grad_mode import enable_grad
from ember.backend.dtypes import finfo, get_default_dtype
from ember.tensor import Tensor

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
]


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Broadcast numbers and tensors together. Mirrors ``torch.distributions.utils.broadcast_all``.

    Numbers become tensors of the first tensor's dtype (the default dtype when there is none).

    Raises:
        ValueError: an argument is neither a number nor a Tensor.
    """
    dtype = None
    for v in values:
        if isinstance(v, Tensor):
            dtype = v.dtype
            break
        if not isinstance(v, numbers.Number):
            raise ValueError(
                "Input arguments must all be instances of numbers.Number, torch.Tensor or "
                "objects implementing __torch_function__."
            )
    if dtype is None:
        dtype = get_default_dtype()
    tensors = []
    for v in values:
        if isinstance(v, Tensor):
            tensors.append(v)
        elif isinstance(v, numbers.Number):
            tensors.append(ops.tensor(v, dtype=dtype))
        else:
            raise ValueError(
                "Input arguments must all be instances of numbers.Number, torch.Tensor or "
                "objects implementing __torch_function__."
            )
    return tuple(ops.broadcast_tensors(*tensors))


def clamp_probs(probs: Tensor) -> Tensor:
    """Clamp probs into [eps, 1 - eps]. Mirrors ``torch.distributions.utils.clamp_probs``."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Turn logits into probabilities. Mirrors ``torch.distributions.utils.logits_to_probs``.

    Binary logits go through a sigmoid, categorical ones through a softmax over the last dim.
    """
    if is_binary:
        return ops.sigmoid(logits)
    return ops.softmax(logits, dim=-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Turn probabilities into logits. Mirrors ``torch.distributions.utils.probs_to_logits``."""
    clamped = clamp_probs(probs)
    if is_binary:
        return ops.log(clamped) - ops.log1p(-clamped)
    return ops.log(clamped)


class lazy_property:
    """A property computed once per instance, then cached in its __dict__.

    Mirrors ``torch.distributions.utils.lazy_property``.
    """

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        instance.__dict__[self.wrapped.__name__] = value
        return value


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Sum out the ``dim`` rightmost dimensions of value."""
    if dim == 0:
        return value
    return value.reshape(*value.shape[: value.ndim - dim], -1).sum(-1)


def as_float_tensor(value: Any, like: Tensor) -> Tensor:
    """Return value as a Tensor of like's dtype (numbers) or unchanged (tensors)."""
    if isinstance(value, Tensor):
        return value
    return ops.tensor(value, dtype=like.dtype)
