"""Build the same distribution in Ember and torch from the same NumPy parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import ember
import ember.distributions as D
from tests.helpers import assert_same

F32 = np.float32


def tensors(params: dict[str, Any], grad: bool = True) -> tuple[dict, dict]:
    """(ember kwargs, torch kwargs): arrays become leaf tensors, anything else passes through."""
    e, t = {}, {}
    for k, v in params.items():
        if isinstance(v, np.ndarray):
            g = grad and v.dtype.kind == "f"
            e[k] = ember.tensor(v, requires_grad=g)
            t[k] = torch.tensor(v, requires_grad=g)
        else:
            e[k] = t[k] = v
    return e, t


def build(name: str, params: dict[str, Any], grad: bool = True) -> tuple[Any, Any, dict, dict]:
    """(ember dist, torch dist, ember params, torch params) for distribution class name."""
    e, t = tensors(params, grad)
    return getattr(D, name)(**e), getattr(torch.distributions, name)(**t), e, t


def compare_grads(e_out: Any, t_out: Any, e_params: dict, t_params: dict, seed: int = 1) -> None:
    """Backprop the same random upstream gradient through both; compare parameter grads."""
    if not t_out.requires_grad:
        assert not e_out.requires_grad
        return
    upstream = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(t_out.shape)).astype(F32)
    (e_out * ember.tensor(upstream)).sum().backward()
    (t_out * torch.tensor(upstream)).sum().backward()
    for k, tv in t_params.items():
        if isinstance(tv, torch.Tensor) and tv.requires_grad:
            ev = e_params[k]
            if tv.grad is None:
                assert ev.grad is None or not np.any(ev.grad.data), k
                continue
            assert ev.grad is not None, f"no gradient for {k}"
            assert_same(ev.grad, tv.grad, rtol=2e-3, atol=2e-4)
