"""RMSprop, Adagrad and Adadelta: per-coordinate step sizes from squared-gradient averages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer, _addcmul_, _check_args, _lerp_, _zeros_state
from ember.tensor import Tensor

__all__ = ["Adadelta", "Adagrad", "RMSprop"]


class RMSprop(Optimizer):
    """RMSprop. Mirrors ``torch.optim.RMSprop``.

    Per step::

        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - g_avg^2) + eps, with g_avg = lerp(g_avg, g, 1 - alpha)   (centered)
        avg = sqrt(v) + eps                                                     (otherwise)
        b = momentum * b + g / avg;  p = p - lr * b      (momentum > 0)
        p = p - lr * g / avg                               (otherwise)

    State: ``step`` (0-d float32), ``square_avg``, ``momentum_buffer``, ``grad_avg``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr, eps)
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        _check_args(lr, weight_decay=weight_decay)
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["square_avg"] = Tensor(xp.zeros_like(param))
        if group["momentum"] > 0:
            state["momentum_buffer"] = Tensor(xp.zeros_like(param))
        if group["centered"]:
            state["grad_avg"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        state["step"].data += 1
        grad = self._grad_with_decay(param, grad, group["maximize"], group["weight_decay"])
        alpha, momentum, lr = group["alpha"], group["momentum"], group["lr"]
        square_avg = state["square_avg"].data
        work = self._scratch(param, 2)
        square_avg *= alpha
        _addcmul_(square_avg, grad, grad, 1 - alpha, work)
        avg = self._scratch(param, 1)
        if group["centered"]:
            grad_avg = state["grad_avg"].data
            _lerp_(grad_avg, grad, 1 - alpha, work)
            xp.negative(grad_avg, out=work)
            work *= grad_avg
            xp.add(square_avg, work, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            xp.sqrt(square_avg, out=avg)
        avg += group["eps"]
        if momentum > 0:
            buf = state["momentum_buffer"].data
            buf *= momentum
            buf += xp.divide(grad, avg, out=work)
            param -= xp.multiply(buf, lr, out=work)
        else:
            xp.multiply(grad, -lr, out=work)
            work /= avg
            param += work


class Adagrad(Optimizer):
    """Adagrad. Mirrors ``torch.optim.Adagrad`` (state created at construction, as there).

    Per step t::

        s = s + g * g;  p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State: ``step`` (0-d float32), ``sum`` (starts at ``initial_accumulator_value``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_args(lr)
        if not lr_decay >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        _check_args(lr, weight_decay=weight_decay)
        if not initial_accumulator_value >= 0.0:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}"
            )
        _check_args(lr, eps)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p.data, self.state[p], group)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["sum"] = Tensor(xp.full_like(param, group["initial_accumulator_value"]))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        step_t = state["step"].data
        step_t += 1
        grad = self._grad_with_decay(param, grad, group["maximize"], group["weight_decay"])
        clr = group["lr"] / (1 + (float(step_t) - 1) * group["lr_decay"])
        state_sum = state["sum"].data
        work = self._scratch(param, 1)
        state_sum += xp.multiply(grad, grad, out=work)
        std = xp.sqrt(state_sum, out=self._scratch(param, 2))
        std += group["eps"]
        xp.multiply(grad, -clr, out=work)
        work /= std
        param += work


class Adadelta(Optimizer):
    """Adadelta. Mirrors ``torch.optim.Adadelta``.

    Per step::

        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta;  p = p - lr * delta

    State: ``step`` (0-d float32), ``square_avg`` (v), ``acc_delta`` (u).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_args(lr, eps, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["square_avg"] = Tensor(xp.zeros_like(param))
        state["acc_delta"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        state["step"].data += 1
        grad = self._grad_with_decay(param, grad, group["maximize"], group["weight_decay"])
        rho, eps = group["rho"], group["eps"]
        square_avg, acc_delta = state["square_avg"].data, state["acc_delta"].data
        std, delta = self._scratch(param, 1), self._scratch(param, 2)
        square_avg *= rho
        _addcmul_(square_avg, grad, grad, 1 - rho, std)
        xp.add(square_avg, eps, out=std)
        xp.sqrt(std, out=std)
        xp.add(acc_delta, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= grad
        acc_delta *= rho
        _addcmul_(acc_delta, delta, delta, 1 - rho, std)
        param -= xp.multiply(delta, group["lr"], out=std)
