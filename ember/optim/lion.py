"""Lion (EvoLved Sign Momentum), Ember's own: not in torch.optim."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

__all__ = ["Lion"]


class Lion(Optimizer):
    """Lion, from Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms".

    Ember's own (PyTorch has no Lion); it follows the paper's Program 1 and lucidrains'
    ``lion-pytorch``::

        p = p * (1 - lr * weight_decay)
        p = p - lr * sign(beta1 * m + (1 - beta1) * g)
        m = beta2 * m + (1 - beta2) * g

    State: ``exp_avg`` (m). Use a learning rate 3-10x smaller than AdamW's, and a
    correspondingly larger weight decay.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta <= 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["exp_avg"] = Tensor(array_module(param).zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        grad = self._grad_with_decay(param, grad, group["maximize"], 0)
        exp_avg = state["exp_avg"].data
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        update = xp.multiply(exp_avg, beta1, out=self._scratch(param, 1))
        work = xp.multiply(grad, 1 - beta1, out=self._scratch(param, 2))
        update += work
        xp.sign(update, out=update)
        update *= lr
        param -= update
        exp_avg *= beta2
        exp_avg += xp.multiply(grad, 1 - beta2, out=work)
