"""SGD with momentum, dampening, Nesterov, weight decay and maximize."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent. Mirrors ``torch.optim.SGD`` (defaults, state_dict layout).

    Per step, with g the gradient (negated if ``maximize``)::

        g = g + weight_decay * p
        b = g (first step) or momentum * b + (1 - dampening) * g     # if momentum != 0
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    State: ``momentum_buffer`` (only when momentum != 0). ``foreach``, ``differentiable`` and
    ``fused`` are accepted and stored for compatibility; Ember has one in-place implementation.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        work = None  # slot-0 scratch once grad has been copied there
        if group["maximize"]:
            grad = work = xp.negative(grad, out=self._scratch(param))
        if weight_decay != 0:
            decay = xp.multiply(param, weight_decay, out=self._scratch(param, 1))
            grad = work = xp.add(grad, decay, out=self._scratch(param))
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = Tensor(grad.copy())
                buf = state["momentum_buffer"].data
            else:
                buf = buf.data
                buf *= momentum
                dampening = group["dampening"]
                if dampening == 0:
                    buf += grad
                else:
                    buf += xp.multiply(grad, 1 - dampening, out=self._scratch(param, 1))
            if group["nesterov"]:
                scaled = xp.multiply(buf, momentum, out=self._scratch(param, 1))
                grad = work = xp.add(grad, scaled, out=self._scratch(param))
            else:
                grad = buf
        param -= xp.multiply(
            grad, group["lr"], out=work if work is not None else self._scratch(param)
        )
