"""Adam, AdamW and Adamax: first and second moment estimates with bias correction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer, _addcmul_, _check_args, _lerp_, _zeros_state
from ember.tensor import Tensor

__all__ = ["Adam", "AdamW", "Adamax"]


class Adam(Optimizer):
    """Adam. Mirrors ``torch.optim.Adam`` (defaults, param groups, state_dict layout).

    Per step t, with g the gradient (negated if ``maximize``)::

        g = g + weight_decay * p          (or p = p * (1 - lr * weight_decay) if decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    State: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsgrad).
    ``foreach``, ``capturable``, ``differentiable`` and ``fused`` are accepted and stored for
    compatibility; Ember has one in-place implementation (PyTorch's single-tensor arithmetic).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_args(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["exp_avg"] = Tensor(xp.zeros_like(param))
        state["exp_avg_sq"] = Tensor(xp.zeros_like(param))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        lr, weight_decay = group["lr"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        step_t = state["step"].data
        step_t += 1
        step = float(step_t)
        if weight_decay != 0 and group["decoupled_weight_decay"]:
            param *= 1 - lr * weight_decay
            weight_decay = 0
        grad = self._grad_with_decay(param, grad, group["maximize"], weight_decay)
        exp_avg, exp_avg_sq = state["exp_avg"].data, state["exp_avg_sq"].data
        work = self._scratch(param, 1)
        _lerp_(exp_avg, grad, 1 - beta1, work)
        exp_avg_sq *= beta2
        _addcmul_(exp_avg_sq, grad, grad, 1 - beta2, work)
        if group["amsgrad"]:
            max_sq = state["max_exp_avg_sq"].data
            exp_avg_sq = xp.maximum(max_sq, exp_avg_sq, out=max_sq)
        step_size = lr / (1 - beta1**step)
        denom = xp.sqrt(exp_avg_sq, out=work)
        denom /= (1 - beta2**step) ** 0.5
        denom += group["eps"]
        update = xp.multiply(exp_avg, -step_size, out=self._scratch(param))  # grad is used up
        update /= denom
        param += update


class AdamW(Adam):
    """Adam with decoupled weight decay. Mirrors ``torch.optim.AdamW``.

    The same update as ``Adam(..., decoupled_weight_decay=True)``: ``p = p * (1 - lr * wd)``
    before the Adam step; the default ``weight_decay`` is 0.01.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm). Mirrors ``torch.optim.Adamax``.

    Per step t::

        g = g + weight_decay * p;  m = lerp(m, g, 1 - beta1)
        u = max(beta2 * u, |g| + eps);  p = p - lr / (1 - beta1^t) * m / u

    State: ``step`` (0-d float32), ``exp_avg``, ``exp_inf``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_args(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["exp_avg"] = Tensor(xp.zeros_like(param))
        state["exp_inf"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        beta1, beta2 = group["betas"]
        step_t = state["step"].data
        step_t += 1
        grad = self._grad_with_decay(param, grad, group["maximize"], group["weight_decay"])
        exp_avg, exp_inf = state["exp_avg"].data, state["exp_inf"].data
        work = self._scratch(param, 1)
        _lerp_(exp_avg, grad, 1 - beta1, work)
        exp_inf *= beta2
        norm = xp.abs(grad, out=work)
        norm += group["eps"]
        xp.maximum(exp_inf, norm, out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** float(step_t))
        update = xp.multiply(exp_avg, -clr, out=self._scratch(param))
        update /= exp_inf
        param += update
