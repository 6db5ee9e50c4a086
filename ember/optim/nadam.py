"""NAdam and RAdam: Adam with Nesterov momentum, and Adam with a rectified adaptive term."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer, _addcmul_, _check_args, _lerp_, _zeros_state
from ember.tensor import Tensor

__all__ = ["NAdam", "RAdam"]


def _adam_moments(
    opt: Optimizer, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
) -> tuple[Array, float]:
    """Shared head of NAdam and RAdam: step count, weight decay, both moment updates."""
    step_t = state["step"].data
    step_t += 1
    lr, weight_decay = group["lr"], group["weight_decay"]
    if weight_decay != 0 and group["decoupled_weight_decay"]:
        param *= 1 - lr * weight_decay
        weight_decay = 0
    grad = opt._grad_with_decay(param, grad, group["maximize"], weight_decay)
    beta1, beta2 = group["betas"]
    work = opt._scratch(param, 1)
    _lerp_(state["exp_avg"].data, grad, 1 - beta1, work)
    exp_avg_sq = state["exp_avg_sq"].data
    exp_avg_sq *= beta2
    _addcmul_(exp_avg_sq, grad, grad, 1 - beta2, work)
    return grad, float(step_t)


class NAdam(Optimizer):
    """NAdam (Adam with Nesterov momentum). Mirrors ``torch.optim.NAdam``.

    Per step t, with mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)) and
    mu_prod = prod(mu_1..mu_t) (kept in float32, as PyTorch keeps it)::

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - mu_prod) * g / denom
              - lr * mu_{t+1} / (1 - mu_prod * mu_{t+1}) * m / denom

    State: ``step``, ``mu_product`` (0-d float32), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr, eps, betas, weight_decay)
        if not momentum_decay >= 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["mu_product"] = _zeros_state(param, 1.0)
        state["exp_avg"] = Tensor(xp.zeros_like(param))
        state["exp_avg_sq"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        grad, step = _adam_moments(self, param, grad, state, group)
        lr, momentum_decay = group["lr"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product_t = state["mu_product"].data
        mu_product_t *= mu
        mu_product = float(mu_product_t)
        denom = xp.divide(state["exp_avg_sq"].data, 1 - beta2**step, out=self._scratch(param, 1))
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        work = self._scratch(param, 2)
        xp.multiply(grad, -lr * (1.0 - mu) / (1.0 - mu_product), out=work)
        work /= denom
        param += work
        xp.multiply(state["exp_avg"].data, (-lr * mu_next) / (1.0 - mu_product * mu_next), out=work)
        work /= denom
        param += work


class RAdam(Optimizer):
    """RAdam (rectified Adam). Mirrors ``torch.optim.RAdam``.

    Per step t, with rho_inf = 2 / (1 - beta2) - 1 and
    rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)::

        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  m_hat = m / (1 - beta1^t)
        if rho_t > 5: p = p - lr * m_hat * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
        else:         p = p - lr * m_hat
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    State: ``step`` (0-d float32), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr, eps, betas, weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["exp_avg"] = Tensor(xp.zeros_like(param))
        state["exp_avg_sq"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        _, step = _adam_moments(self, param, grad, state, group)
        beta1, beta2 = group["betas"]
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        # m_hat * lr (* adaptive * rect), multiplied left to right as PyTorch does
        update = xp.divide(state["exp_avg"].data, bias_correction1, out=self._scratch(param))
        update *= group["lr"]
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            adaptive = xp.sqrt(state["exp_avg_sq"].data, out=self._scratch(param, 1))
            adaptive += group["eps"]
            xp.reciprocal(adaptive, out=adaptive)  # PyTorch's scalar / tensor
            adaptive *= bias_correction2**0.5
            update *= adaptive
            rect = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            update *= rect**0.5
        param -= update
