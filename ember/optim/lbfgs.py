"""L-BFGS with an optional strong-Wolfe line search, a port of PyTorch's (itself from minFunc).

The algorithm works on one flat vector: the gradients of all parameters are concatenated, the
search direction is computed with the two-loop recursion over the last ``history_size``
(s, y) pairs, and the step is added back to each parameter array in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ember.autograd.grad_mode import enable_grad, no_grad
from ember.backend import Array, array_module
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

__all__ = ["LBFGS"]

# state entries holding arrays (Tensors in the state, like PyTorch's); the rest are numbers
_ARRAY_KEYS = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


def _cubic_interpolate(
    x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple | None = None
) -> Any:
    """Minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to the bounds."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:  # no real minimiser: bisect
        return (xmin_bound + xmax_bound) / 2.0
    d2 = d2_square**0.5
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, xmin_bound), xmax_bound)


def _strong_wolfe(
    obj_func: Callable,
    t: Any,
    d: Array,
    f: float,
    g: Array,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Array, Any, int]:
    """Find a step t along d meeting the strong Wolfe conditions; return (f, g, t, evals).

    NOTE: over the ~40-line limit to stay a line-by-line port of PyTorch's ``_strong_wolfe``
    (minFunc's lswolfe): a bracketing phase, then a zoom phase by cubic interpolation.
    """
    xp = array_module(d)
    d_norm = xp.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = (
            t,
            _cubic_interpolate(
                t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
            ),
        )
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the criteria
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # a t too close to an end of the bracket twice in a row (or outside it) moves to
        # 0.1 * (bracket length) away from the nearest end
        high, low = max(bracket), min(bracket)
        eps = 0.1 * (high - low)
        if min(high - t, t - low) < eps:
            if insuf_progress or t >= high or t <= low:
                t = high - eps if abs(t - high) < abs(t - low) else low + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo fails or no lower than the lowest point: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _pack(value: Any, xp: Any) -> Any:
    """A state value as PyTorch stores it: arrays and array scalars become Tensors."""
    if isinstance(value, list):
        return [_pack(v, xp) for v in value]
    if value is None or type(value) in (int, float):  # not numpy's float64, a float subclass
        return value
    return Tensor(xp.asarray(value))


def _unpack(value: Any) -> Any:
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    return value.data if isinstance(value, Tensor) else value


class LBFGS(Optimizer):
    """Limited-memory BFGS, optionally with a strong-Wolfe line search. Mirrors ``torch.optim.LBFGS``.

    ``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls, default
    ``max_iter * 5 // 4``): the direction is ``-H g`` from the two-loop recursion over the last
    ``history_size`` pairs ``s = t d``, ``y = g_new - g``, scaled by ``H_diag = s.y / y.y``;
    the step length is ``lr`` (the first iteration ``min(1, 1 / |g|_1) * lr``), or found by
    ``line_search_fn='strong_wolfe'``. Stops when ``max |g| <= tolerance_grad`` or the
    change in parameters or loss is below ``tolerance_change``. One param group only; all
    state is kept under the first parameter, with PyTorch's keys.
    """  # noqa: E501

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # -- the flat view ------------------------------------------------------------------------
    def _gather_flat_grad(self) -> Array:
        xp = array_module(self._params[0].data)
        return xp.concatenate(
            [
                xp.zeros(p.data.size, p.data.dtype) if p.grad is None else p.grad.data.reshape(-1)
                for p in self._params
            ]
        )

    def _add_grad(self, step_size: Any, update: Array) -> None:
        """Add ``step_size * update`` to the parameters in place, each its slice of the vector."""
        offset = 0
        for p in self._params:
            data = p.data
            data += step_size * update[offset : offset + data.size].reshape(data.shape)
            offset += data.size
            p._version[0] += 1

    def _set_param(self, params_data: list[Array]) -> None:
        for p, saved in zip(self._params, params_data, strict=True):
            p.data[...] = saved
            p._version[0] += 1

    def _directional_evaluate(
        self, closure: Callable, x: list[Array], t: Any, d: Array
    ) -> tuple[float, Array]:
        """Loss and flat gradient at x + t d; the parameters are restored to x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # -- the step ----------------------------------------------------------------------------
    @no_grad()
    def step(self, closure: Callable[[], Any]) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` recomputes and returns the loss.

        Returns the loss of the closure's first evaluation.
        """
        closure = enable_grad()(closure)
        group = self.param_groups[0]
        lr = float(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        xp = array_module(self._params[0].data)

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
        if opt_cond:
            return orig_loss

        memory = {key: _unpack(state.get(key)) for key in _ARRAY_KEYS}
        memory["prev_loss"] = state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            d = self._direction(state["n_iter"], flat_grad, memory, group["history_size"])
            if memory["prev_flat_grad"] is None:
                memory["prev_flat_grad"] = flat_grad.copy()
            else:
                memory["prev_flat_grad"][...] = flat_grad
            prev_loss = memory["prev_loss"] = loss
            # initial guess for the step length, then the directional derivative
            t = lr if state["n_iter"] > 1 else min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:
                memory["t"] = t
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.data.copy() for p in self._params]

                def obj_func(t: Any, d: Array, x_init: list[Array] = x_init) -> Any:
                    return self._directional_evaluate(closure, x_init, t, d)

                max_ls = max_eval - current_evals
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, t, d, loss, flat_grad, gtd, max_ls=max_ls
                )
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # fixed step
                if n_iter != max_iter:  # no re-evaluation after the last iteration
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            memory["t"] = t
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change:  # lack of progress
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        prev_loss = memory.pop("prev_loss")
        for key, value in memory.items():
            if key != "al" or value is not None:  # "al" exists from the second iteration on
                state[key] = _pack(value, xp)
        state["prev_loss"] = prev_loss
        return orig_loss

    def _direction(
        self, n_iter: int, flat_grad: Array, memory: dict[str, Any], history_size: int
    ) -> Array:
        """Update the (s, y) memory and return the L-BFGS direction ``-H g`` (two-loop)."""
        if n_iter == 1:
            memory.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            memory["d"] = -flat_grad
            return memory["d"]
        old_dirs, old_stps, ro = memory["old_dirs"], memory["old_stps"], memory["ro"]
        y = flat_grad - memory["prev_flat_grad"]
        s = memory["d"] * memory["t"]
        ys = y.dot(s)
        if ys > 1e-10:  # curvature condition holds: remember the pair
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            memory["H_diag"] = ys / y.dot(y)  # scale of the initial inverse Hessian
        if memory["al"] is None:
            memory["al"] = [None] * history_size
        al = memory["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = old_stps[i].dot(q) * ro[i]
            q -= al[i] * old_dirs[i]
        r = q * memory["H_diag"]
        for i in range(len(old_dirs)):
            be_i = old_dirs[i].dot(r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        memory["d"] = r
        return r
