"""Finite-difference checks of gradients. Mirrors ``torch.autograd.gradcheck``/``gradgradcheck``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember.autograd.engine import grad
from ember.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree. Mirrors PyTorch's."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func: Callable, inputs: tuple) -> list[Tensor]:
    return [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]


def _numerical(func: Callable, inputs: tuple, wrt: list[int], eps: float) -> list[list[np.ndarray]]:
    """J[out][inp] as (out.numel, inp.numel) arrays, by central differences."""
    outs = _outputs(func, inputs)
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in wrt] for o in outs]
    for col, i in enumerate(wrt):
        data = inputs[i].data  # perturbed in place, in row-major order, whatever its layout
        for j, index in enumerate(np.ndindex(data.shape)):
            orig = data[index].item()
            data[index] = orig + eps
            plus = [o.data.astype(np.float64).ravel() for o in _outputs(func, inputs)]
            data[index] = orig - eps
            minus = [o.data.astype(np.float64).ravel() for o in _outputs(func, inputs)]
            data[index] = orig
            for k in range(len(outs)):
                jac[k][col][:, j] = (plus[k] - minus[k]) / (2 * eps)
    return jac


def _analytical(func: Callable, inputs: tuple, wrt: list[int]) -> list[list[np.ndarray]]:
    outs = _outputs(func, inputs)
    targets = [inputs[i] for i in wrt]
    jac = [[np.zeros((o.numel(), inputs[i].numel())) for i in wrt] for o in outs]
    for k, out in enumerate(outs):
        if not out.requires_grad:
            continue
        for row in range(out.numel()):
            seed = np.zeros(out.numel(), dtype=out.data.dtype)
            seed[row] = 1
            grads = grad(
                out,
                targets,
                Tensor(seed.reshape(out.data.shape)),
                retain_graph=True,
                allow_unused=True,
            )
            for col, g in enumerate(grads):
                if g is not None:
                    jac[k][col][row] = g.data.astype(np.float64).ravel()
    return jac


def gradcheck(
    func: Callable,
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    **_ignored: Any,
) -> bool:
    """Compare autograd's Jacobian with central differences. Mirrors ``torch.autograd.gradcheck``.

    Inputs should be float64 tensors; those with ``requires_grad`` are checked.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    numerical = _numerical(func, inputs, wrt, eps)
    analytical = _analytical(func, inputs, wrt)
    for k, (num_rows, ana_rows) in enumerate(zip(numerical, analytical)):
        for col, (n, a) in enumerate(zip(num_rows, ana_rows)):
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {wrt[col]},\n"
                    f"numerical:{n}\nanalytical:{a}\n"
                )
    return True


def gradgradcheck(
    func: Callable,
    inputs: Any,
    grad_outputs: Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
    **_ignored: Any,
) -> bool:
    """Check second derivatives by gradcheck of the gradient.

    Mirrors ``torch.autograd.gradgradcheck``.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [
            Tensor(rng.standard_normal(o.data.shape).astype(o.data.dtype), requires_grad=True)
            for o in outs
        ]
    grad_outputs = list(grad_outputs)
    n = len(inputs)

    def first_grads(*args: Any) -> tuple:
        ins, gos = args[:n], args[n:]
        diff_outs = _outputs(func, ins)
        grads = grad(
            diff_outs, [ins[i] for i in wrt], list(gos), create_graph=True, allow_unused=True
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_grads,
        (*inputs, *grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )
