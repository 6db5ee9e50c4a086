"""Adafactor: factored second moments (row and column averages) for matrices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer, _lerp_, _zeros_state
from ember.tensor import Tensor

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018). Mirrors ``torch.optim.Adafactor`` (PyTorch 2.5+).

    Per step t, with beta2_t = 1 - t^beta2_decay, rho_t = min(lr, 1 / sqrt(t)) and
    alpha = max(eps2, RMS(p)) * rho_t::

        p = p * (1 - lr * weight_decay)
        matrix (ndim > 1):  R = lerp(R, mean(g^2, dim=-1), 1 - beta2_t)
                            C = lerp(C, mean(g^2, dim=-2), 1 - beta2_t)
                            V = R @ C / max(mean(R, dim=-2), eps1)
        otherwise:          V = lerp(V, g^2, 1 - beta2_t)
        u = g / sqrt(max(V, eps1^2));  p = p - alpha / max(1, RMS(u) / d) * u

    State: ``step`` (0-d float32), ``row_var`` and ``col_var`` (matrices) or ``variance``.
    ``eps1`` None means the machine epsilon of the parameter dtype.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not beta2_decay <= 0.0:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not eps[0] >= 0.0:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not eps[1] >= 0.0:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not d >= 1.0:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param)
        state["step"] = _zeros_state(param)
        if param.ndim > 1:
            state["row_var"] = Tensor(xp.zeros((*param.shape[:-1], 1), param.dtype))
            state["col_var"] = Tensor(
                xp.zeros((*param.shape[:-2], 1, param.shape[-1]), param.dtype)
            )
        else:
            state["variance"] = Tensor(xp.zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        xp = array_module(param)
        lr, weight_decay = group["lr"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(xp.finfo(param.dtype).eps)
        grad = self._grad_with_decay(param, grad, group["maximize"], 0)
        step_t = state["step"].data
        step_t += 1
        step = float(step_t)
        beta2_t = step ** group["beta2_decay"]  # PyTorch's one_minus_beta2_t
        rho_t = min(lr, 1 / (step**0.5))
        alpha = max(eps2, _norm(param) / (param.size**0.5)) * rho_t
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        var = self._scratch(param, 1)
        squared = xp.multiply(grad, grad, out=self._scratch(param, 2))
        if grad.ndim > 1:
            row_var, col_var = state["row_var"].data, state["col_var"].data
            for var_t, dim in ((row_var, -1), (col_var, -2)):
                mean = xp.sqrt(squared.sum(axis=dim, keepdims=True))  # PyTorch's norm().square()
                mean *= mean
                mean /= grad.shape[dim]
                _lerp_(var_t, mean, beta2_t, xp.empty_like(mean))
            xp.matmul(row_var, col_var, out=var)
            var /= xp.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            _lerp_(state["variance"].data, squared, beta2_t, var)
            xp.copyto(var, state["variance"].data)
        xp.maximum(var, eps1 * eps1, out=var)
        xp.sqrt(var, out=var)
        xp.reciprocal(var, out=var)
        var *= grad
        denom = max(1.0, _norm(var) / ((var.size**0.5) * group["d"]))
        var *= -alpha / denom
        param += var


def _norm(x: Array) -> float:
    """The 2-norm of all elements, accumulated in x's dtype (as PyTorch's ``norm``)."""
    flat = x.reshape(-1)
    return float(array_module(x).sqrt(flat @ flat))
