"""Muon: momentum orthogonalised by a Newton-Schulz iteration, for 2-D (hidden-layer) weights."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

__all__ = ["Muon"]

# Keller Jordan's constants, as torch.optim.Muon has them.
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def _round_bf16(x: Array) -> Array:
    """Round a float32 array to the nearest bfloat16 value (ties to even), in place.

    The result stays float32 (bfloat16 values are exactly representable), so the following
    matmuls run in float32 BLAS with float32 accumulation, as PyTorch's bfloat16 CPU GEMM does.
    """
    xp = array_module(x)
    bits = x.view(xp.uint32)
    lsb = bits >> 16
    lsb &= 1
    lsb += 0x7FFF
    bits += lsb
    bits &= 0xFFFF0000
    return x


def _zeropower_via_newtonschulz(
    grad: Array, ns_coefficients: tuple[float, float, float], ns_steps: int, eps: float
) -> Array:
    """Orthogonalise ``grad`` (2-D) with ``ns_steps`` quintic Newton-Schulz iterations.

    PyTorch runs the iteration in bfloat16 (``grad.bfloat16()``) on every device; Ember
    computes each product in float32 and rounds every intermediate to bfloat16, which is what
    PyTorch's bfloat16 kernels do (float32 accumulation, one rounding per op). The result is a
    float32 array holding bfloat16 values.
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    xp = array_module(grad)
    a, b, c = ns_coefficients
    transpose = grad.shape[0] > grad.shape[1]
    x = _round_bf16(grad.astype(xp.float32))  # a fresh copy: grad is never modified
    if transpose:
        x = x.T
    norm = _round_bf16(xp.sqrt(xp.vdot(x, x), dtype=xp.float32).reshape(1))
    bf_eps = _round_bf16(xp.full(1, eps, dtype=xp.float32))
    x /= xp.maximum(norm, bf_eps)
    _round_bf16(x)
    for _ in range(ns_steps):
        gram = _round_bf16(x @ x.T)
        update = gram @ gram
        update *= c
        update += b * gram
        _round_bf16(update)
        new_x = update @ x
        new_x += a * x
        x = _round_bf16(new_x)
    return x.T if transpose else x


def _adjust_lr(lr: float, adjust_lr_fn: str | None, param_shape: tuple[int, ...]) -> float:
    """Scale ``lr`` for a (A, B) matrix: ``"original"`` or ``"match_rms_adamw"``."""
    rows, cols = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon. Mirrors ``torch.optim.Muon`` (defaults, param groups, state_dict layout).

    Per step, with g the gradient of a 2-D parameter p::

        B = lerp(B, g, 1 - momentum);  U = lerp(g, B, momentum) if nesterov else B
        O = NewtonSchulz(U)  (ns_steps quintic iterations with ns_coefficients, in bfloat16)
        p = p * (1 - lr * weight_decay);  p = p - adjust_lr(lr, p.shape) * O

    ``adjust_lr_fn``: ``None``/``"original"`` scales lr by ``sqrt(max(1, A / B))``,
    ``"match_rms_adamw"`` by ``0.2 * sqrt(max(A, B))``. State: ``momentum_buffer``.
    Use Muon for hidden 2-D weights only and a standard optimizer (AdamW) for the rest.

    Differences from PyTorch: the bfloat16 Newton-Schulz iteration is emulated in float32 with
    a bfloat16 rounding after each operation; it is bit-identical to PyTorch's for moderate
    matrices, while for large ones the float32 accumulation order of the BLAS may round a few
    entries the other way.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps: float = EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if not lr >= 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not momentum >= 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {p.size()}"
                    )

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["momentum_buffer"] = Tensor(array_module(param).zeros_like(param))

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if grad.ndim != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        lr, momentum = group["lr"], group["momentum"]
        buf = state["momentum_buffer"].data
        wide = self._scratch(param, 2, _wide_dtype(param))
        _fma_lerp(buf, buf, grad, 1 - momentum, self._scratch(param, 1), wide)
        if group["nesterov"]:
            update = _fma_lerp(
                self._scratch(param), grad, buf, momentum, self._scratch(param, 1), wide
            )
        else:
            update = buf
        ortho = _zeropower_via_newtonschulz(
            update, group["ns_coefficients"], group["ns_steps"], group["eps"]
        )
        adjusted_lr = _adjust_lr(lr, group["adjust_lr_fn"], param.shape)
        param *= 1 - lr * group["weight_decay"]
        _fma_add(param, ortho, -adjusted_lr, wide)


def _wide_dtype(x: Array) -> Any:
    """The dtype in which a fused multiply-add of ``x``'s dtype is exact before rounding."""
    xp = array_module(x)
    return xp.float64 if x.dtype.itemsize < 8 else x.dtype


def _fma_lerp(
    out: Array, start: Array, end: Array, weight: float, work: Array, wide: Array
) -> Array:
    """Write lerp(start, end, weight) into ``out`` (which may be ``start``) as PyTorch does.

    PyTorch's CPU kernel computes ``diff = end - start`` and then one fused multiply-add,
    ``start + weight * diff`` (weight < 0.5) or ``end - diff * (1 - weight)``; the product and
    sum are formed in the wider ``wide`` dtype and rounded once, which reproduces the FMA (the
    Newton-Schulz bfloat16 rounding would turn a 1-ulp difference into a visible one).
    """
    xp = array_module(start)
    xp.subtract(end, start, out=work)
    w = xp.asarray(weight, start.dtype)
    if abs(weight) < 0.5:
        xp.multiply(work, w.astype(wide.dtype), out=wide)
        wide += start
    else:
        xp.multiply(work, -(xp.asarray(1, start.dtype) - w).astype(wide.dtype), out=wide)
        wide += end
    out[...] = wide
    return out


def _fma_add(param: Array, other: Array, alpha: float, wide: Array) -> None:
    """Do param += alpha * other with one rounding, as PyTorch's ``add_(other, alpha=)`` does."""
    xp = array_module(param)
    xp.multiply(other, xp.asarray(alpha, param.dtype).astype(wide.dtype), out=wide)
    wide += param
    param[...] = wide
