"""Rprop (sign-based step sizes) and ASGD (averaged SGD)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer, _check_args, _zeros_state
from ember.tensor import Tensor

__all__ = ["ASGD", "Rprop"]


class Rprop(Optimizer):
    """Resilient backpropagation. Mirrors ``torch.optim.Rprop``.

    Per step, with s = sign(g * g_prev)::

        step_size = clamp(step_size * (etaplus if s > 0 else etaminus if s < 0 else 1), *step_sizes)
        g = 0 where s < 0;  p = p - sign(g) * step_size;  g_prev = g

    State: ``step`` (0-d float32), ``prev``, ``step_size`` (starts at lr).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_args(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        state["prev"] = Tensor(xp.zeros_like(param))
        state["step_size"] = Tensor(xp.full_like(param, group["lr"]))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        state["step"].data += 1
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        prev, step_size = state["prev"].data, state["step_size"].data
        grad = self._grad_with_decay(param, grad, group["maximize"], 0)
        factor = xp.multiply(grad, prev, out=self._scratch(param, 1))
        xp.sign(factor, out=factor)
        mask = self._scratch(param, 0, dtype=bool)
        xp.copyto(factor, etaplus, where=xp.greater(factor, 0, out=mask))
        xp.copyto(factor, etaminus, where=xp.less(factor, 0, out=mask))
        xp.copyto(factor, 1, where=xp.equal(factor, 0, out=mask))
        step_size *= factor
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        # The gradient after a sign change counts as zero (and is remembered as zero).
        xp.copyto(prev, grad)
        xp.copyto(prev, 0, where=xp.equal(factor, etaminus, out=mask))
        xp.sign(prev, out=factor)
        xp.negative(factor, out=factor)
        factor *= step_size
        param += factor


class ASGD(Optimizer):
    """Averaged stochastic gradient descent. Mirrors ``torch.optim.ASGD``.

    Per step t::

        p = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)   (ax = p while mu == 1)
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    State: ``step``, ``eta``, ``mu`` (0-d float32), ``ax`` (the averaged parameters).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_args(lr, weight_decay=weight_decay)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
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
        state["eta"] = _zeros_state(param, group["lr"])
        state["mu"] = _zeros_state(param, 1.0)
        state["ax"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        step_t, eta_t, mu_t = state["step"].data, state["eta"].data, state["mu"].data
        step_t += 1
        grad = self._grad_with_decay(param, grad, group["maximize"], group["weight_decay"])
        lr, lambd = group["lr"], group["lambd"]
        eta = float(eta_t)
        param *= 1 - lambd * eta
        param -= xp.multiply(grad, eta, out=self._scratch(param, 1))
        ax = state["ax"].data
        if float(mu_t) != 1:
            work = xp.subtract(param, ax, out=self._scratch(param, 1))
            work *= mu_t
            ax += work
        else:
            xp.copyto(ax, param)
        step = float(step_t)
        eta_t[...] = lr / ((1 + lambd * lr * step) ** group["alpha"])
        mu_t[...] = 1 / max(1, step - group["t0"])
