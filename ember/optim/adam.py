"""Adam, AdamW and Adamax: first and second moment estimates with bias correction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer, _check_args, _lerp_, _zeros_state
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
    compatibility; Ember has one in-place implementation. It folds the bias corrections into
    two scalars (``lr * sqrt(bc2) / bc1`` and ``eps * sqrt(bc2)``) and walks large contiguous
    parameters in cache-sized chunks, so it matches PyTorch's single-tensor arithmetic to
    rounding (about 1e-7 relative per step), not bit for bit.
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
        lr, weight_decay, eps = group["lr"], group["weight_decay"], group["eps"]
        beta1, beta2 = group["betas"]
        step_t = state["step"].data
        step_t += 1
        step = float(step_t)
        # The bias corrections fold into two scalars: lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
        # == (lr * sqrt(bc2) / bc1) * m / (sqrt(v) + eps * sqrt(bc2)).
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        scalars = (
            1 - beta1,
            1 - beta2,
            -lr * bias_correction2_sqrt / (1 - beta1**step),
            eps * bias_correction2_sqrt,
            1 - lr * weight_decay if weight_decay != 0 and group["decoupled_weight_decay"] else 1,
            weight_decay if not group["decoupled_weight_decay"] else 0,
            group["maximize"],
        )
        arrays = [param, grad, state["exp_avg"].data, state["exp_avg_sq"].data]
        if group["amsgrad"]:
            arrays.append(state["max_exp_avg_sq"].data)
        size = param.size
        chunk = _CHUNK_BYTES // param.itemsize
        if size <= chunk or not all(a.flags.c_contiguous for a in arrays):
            _adam_chunk(*arrays, scalars, self._scratch(param, 1), self._scratch(param, 2))
            return
        # Large parameters go through in cache-sized chunks: the dozen element-wise passes
        # then run on data in cache, and memory sees each array about once per step.
        flats = [a.reshape(-1) for a in arrays]
        work1 = self._scratch(flats[0][:chunk], 1)
        work2 = self._scratch(flats[0][:chunk], 2)
        for start in range(0, size, chunk):
            stop = start + chunk
            if stop > size:
                stop = size
                work1, work2 = work1[: stop - start], work2[: stop - start]
            _adam_chunk(*[f[start:stop] for f in flats], scalars, work1, work2)


_CHUNK_BYTES = 256 * 1024  # per array: the working set (six arrays) stays in L2/L3


def _adam_chunk(
    param: Array,
    grad: Array,
    exp_avg: Array,
    exp_avg_sq: Array,
    *rest: Any,
) -> None:
    """One Adam step on (a chunk of) a parameter, in place, with two work arrays.

    ``rest`` is ``[max_exp_avg_sq,] scalars, work1, work2``; ``scalars`` are (1 - beta1,
    1 - beta2, -step_size, eps_hat, decoupled decay factor, coupled weight decay, maximize).
    """
    *max_sq, scalars, work1, work2 = rest
    weight1, weight2, neg_step, eps_hat, decay, weight_decay, maximize = scalars
    xp = array_module(param)
    if decay != 1:
        param *= decay
    if weight_decay != 0:  # g = (-g if maximize else g) + weight_decay * p
        decayed = xp.multiply(param, weight_decay, out=work1)
        grad = (xp.subtract if maximize else xp.add)(decayed, grad, out=work1)
    elif maximize:
        grad = xp.negative(grad, out=work1)
    # v = v + (g * g - v) * (1 - beta2): before m, because m's update reuses work1 for g
    square = xp.multiply(grad, grad, out=work2)
    square -= exp_avg_sq
    square *= weight2
    exp_avg_sq += square
    # m = m + (g - m) * (1 - beta1), PyTorch's lerp
    diff = xp.subtract(grad, exp_avg, out=work1)
    diff *= weight1
    exp_avg += diff
    if max_sq:
        exp_avg_sq = xp.maximum(max_sq[0], exp_avg_sq, out=max_sq[0])
    denom = xp.sqrt(exp_avg_sq, out=work2)
    denom += eps_hat
    update = xp.divide(exp_avg, denom, out=work2)
    update *= neg_step
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
