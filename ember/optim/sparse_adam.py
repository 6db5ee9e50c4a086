"""SparseAdam: lazy Adam that updates only the rows a gradient touches (embedding tables)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Lazy Adam for sparse gradients. Mirrors ``torch.optim.SparseAdam``.

    Only the "present" entries of the gradient are touched: their moments are updated and
    their values moved; every other entry of the parameter and of its moments is left as is.
    Per step t (counted for every step that sees a gradient), on the present entries::

        m = m + (g - m) * (1 - beta1);  v = v + (g * g - v) * (1 - beta2)
        p = p - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)

    State: ``step`` (a Python int, as PyTorch keeps it), ``exp_avg``, ``exp_avg_sq``.

    Differences from PyTorch: Ember has no sparse tensors, so gradients are dense (what
    ``nn.Embedding(..., sparse=True)`` produces in Ember) and PyTorch's "dense gradients"
    RuntimeError is not raised. The present entries are the rows (slices along dim 0) of the
    gradient holding any nonzero value (for a 0-d or 1-d parameter, the nonzero entries): for
    an embedding table that is exactly the rows PyTorch's sparse gradient lists, except a row
    that was looked up but received an exactly-zero gradient, which PyTorch would still decay.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ) -> None:
        if not lr > 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps > 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = 0
        state["exp_avg"] = Tensor(xp.zeros_like(param))
        state["exp_avg_sq"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        state["step"] += 1
        step = state["step"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
        if param.ndim == 0:  # views of one entry, so that indexing below writes through
            param, grad = param.reshape(1), grad.reshape(1)
            exp_avg, exp_avg_sq = exp_avg.reshape(1), exp_avg_sq.reshape(1)
        if grad.size == 0:
            return
        if grad.ndim >= 2:  # rows, as an embedding's sparse gradient lists them
            present = xp.flatnonzero(xp.any(grad.reshape(grad.shape[0], -1) != 0, axis=1))
        else:
            present = xp.flatnonzero(grad)
        if present.size == 0:  # PyTorch skips an empty gradient (the step still counts)
            return
        values = grad[present]  # a gathered copy, free to modify
        if group["maximize"]:
            xp.negative(values, out=values)
        old_avg = exp_avg[present]
        avg_update = values - old_avg
        avg_update *= 1 - beta1
        xp.add(old_avg, avg_update, out=old_avg)  # old_avg now holds the new first moment
        exp_avg[present] = old_avg
        old_sq = exp_avg_sq[present]
        sq_update = xp.multiply(values, values, out=values)
        sq_update -= old_sq
        sq_update *= 1 - beta2
        xp.add(old_sq, sq_update, out=old_sq)
        exp_avg_sq[present] = old_sq
        denom = xp.sqrt(old_sq, out=old_sq)
        denom += group["eps"]
        step_size = group["lr"] * math.sqrt(1 - beta2**step) / (1 - beta1**step)
        update = xp.divide(old_avg, denom, out=old_avg)
        update *= -step_size
        update += param[present]
        param[present] = update
