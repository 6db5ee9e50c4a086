"""Gradient clipping by total norm or by value. Mirrors ``torch.nn.utils.clip_grad``."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import Union

from ember.autograd.grad_mode import no_grad
from ember.ops.combine import clamp
from ember.ops.creation import tensor as make_tensor
from ember.ops.dims import stack
from ember.ops.norms import vector_norm
from ember.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]

TensorOrTensors = Union[Tensor, Iterable[Tensor]]  # noqa: UP007 (a runtime alias on py3.10)


def _as_list(tensors: TensorOrTensors) -> list[Tensor]:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _check_foreach(foreach: bool | None, tensors: list[Tensor]) -> None:
    # Every Ember device takes the one loop we have; foreach=True is honoured as a no-op except
    # where PyTorch would refuse it too (no such device here yet).
    del foreach, tensors


def get_total_norm(
    tensors: TensorOrTensors,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Return the norm of all tensors, as if concatenated into one vector. Mirrors PyTorch's.

    ``norm_type`` may be ``inf``. The result has the tensors' dtype (float32 for none).
    """
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return make_tensor(0.0)
    _check_foreach(foreach, tensors)
    with no_grad():
        norms = [vector_norm(t, norm_type) for t in tensors]
        total_norm = vector_norm(stack(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total_norm.item()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return total_norm


def clip_grads_with_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    total_norm: Tensor,
    foreach: bool | None = None,
) -> None:
    """Scale gradients in place by min(max_norm / (total_norm + 1e-6), 1). Mirrors PyTorch's.

    The coefficient is clamped to 1 so gradients are only ever scaled down.
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return
    _check_foreach(foreach, grads)
    # A non-finite total norm gives inf * 0 = nan, which is the answer (as in PyTorch).
    with no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        clip_coef = clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for grad in grads:
            grad.mul_(clip_coef)


def clip_grad_norm_(
    parameters: TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Clip the gradients' total norm to max_norm in place. Mirrors ``clip_grad_norm_``.

    Returns the total norm of the gradients before clipping (as one vector). ``norm_type`` may
    be ``inf``; ``error_if_nonfinite`` raises on a nan/inf total instead of scaling by it.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn(
                "`parameters` is an empty generator, no gradient clipping will occur.",
                stacklevel=2,
            )
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_value_(
    parameters: TensorOrTensors, clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient in place to [-clip_value, clip_value]. Mirrors PyTorch's."""
    clip_value = float(clip_value)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    _check_foreach(foreach, grads)
    with no_grad():
        for grad in grads:
            grad.clamp_(min=-clip_value, max=clip_value)
