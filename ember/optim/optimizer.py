"""The Optimizer base: param groups, lazy per-parameter state, state_dict, step hooks.

A subclass writes only the per-parameter update, in place on backend arrays:
``_init_state(param, state, group)`` fills a fresh state dict (Tensors, PyTorch's keys) and
``_update(param, grad, state, group)`` applies one step. The base runs the loop, skips
parameters whose grad is None, bumps each updated parameter's version counter and runs hooks.
"""

from __future__ import annotations

import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

from ember.autograd.grad_mode import enable_grad
from ember.backend import Array, array_module
from ember.nn.module import HookHandle
from ember.tensor import Tensor

__all__ = [
    "Optimizer",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
    "required",
]

_global_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_post_hooks: OrderedDict[int, Callable] = OrderedDict()


class _RequiredParameter:
    """Singleton marking a default that every param group must give (``optim.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook: Callable) -> HookHandle:
    """Register a pre-step hook for every optimizer. Mirrors ``torch.optim.optimizer.register_optimizer_step_pre_hook``."""  # noqa: E501
    handle = HookHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook: Callable) -> HookHandle:
    """Register a post-step hook for every optimizer. Mirrors ``torch.optim.optimizer.register_optimizer_step_post_hook``."""  # noqa: E501
    handle = HookHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def _with_hooks(step: Callable) -> Callable:
    """Wrap a ``step`` so that the step pre- and post-hooks run around it, as PyTorch does."""

    @functools.wraps(step)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        self = args[0]  # as in PyTorch, hooks see args with the optimizer first
        for pre_hook in chain(_global_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {result}."
                    )
                args, kwargs = result
        out = step(*args, **kwargs)
        for post_hook in chain(
            self._optimizer_step_post_hooks.values(), _global_post_hooks.values()
        ):
            post_hook(self, args, kwargs)
        return out

    hooked.__wrapped_step__ = True
    return hooked


def _check_args(
    lr: float,
    eps: float | None = None,
    betas: tuple[float, float] | None = None,
    weight_decay: float | None = None,
) -> None:
    """Raise PyTorch's ValueError for an invalid common hyperparameter."""
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps is not None and not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if betas is not None:
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if weight_decay is not None and not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _zeros_state(like: Array, value: float = 0.0) -> Tensor:
    """A 0-d float32 state tensor (``step``, ``mu_product``) as PyTorch keeps it."""
    xp = array_module(like)
    return Tensor(xp.full((), value, dtype=xp.float32))


def _lerp_(start: Array, end: Array, weight: float, work: Array) -> None:
    """Do start += weight * (end - start) in place, in PyTorch's lerp order (``work``: scratch)."""
    xp = array_module(start)
    xp.subtract(end, start, out=work)
    if abs(weight) < 0.5:
        work *= weight
        start += work
    else:  # PyTorch's second branch: end - (end - start) * (1 - weight)
        work *= float(xp.float32(1) - xp.float32(weight))
        xp.subtract(end, work, out=start)


def _addcmul_(out: Array, x: Array, y: Array, value: float, work: Array) -> None:
    """Do out += value * x * y in place, multiplying in PyTorch's order ((value * x) * y)."""
    xp = array_module(out)
    xp.multiply(x, value, out=work)
    work *= y
    out += work


def _typename(obj: Any) -> str:
    """``torch.typename``: the qualified type name, without ``builtins.``."""
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module == "builtins" else f"{module.split('.')[0]}.{name}"


def _clone_state(value: Any, param: Tensor, key: Any = None) -> Any:
    """Deep-copy a loaded state value; floating tensors (except ``step``) take param's dtype."""
    if isinstance(value, Tensor):
        data = value.data
        if key != "step" and param.is_floating_point() and data.dtype != param.data.dtype:
            return Tensor(data.astype(param.data.dtype))
        return Tensor(data.copy())
    if isinstance(value, dict):
        return {k: _clone_state(v, param, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_clone_state(v, param) for v in value)
    return value


class Optimizer:
    """Base class for all optimizers. Mirrors ``torch.optim.Optimizer``.

    ``params`` is an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (param
    groups with per-group options overriding ``defaults``). ``state`` maps a parameter to its
    lazily created state dict. A subclass's own ``step`` is wrapped so the step hooks run.
    """

    # hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs); post hooks return None.
    OptimizerPreHook = Callable[[Any, tuple, dict], "tuple[tuple, dict] | None"]
    OptimizerPostHook = Callable[[Any, tuple, dict], None]
    # Wrap a step function so the step hooks run around it (applied to every subclass's step).
    profile_hook_step = staticmethod(_with_hooks)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "__wrapped_step__", False):
            cls.step = _with_hooks(step)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable] = OrderedDict()
        self._scratch_buffers: dict[tuple, Array] = {}
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got " + _typename(params)
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in (
            "_optimizer_step_pre_hooks",
            "_optimizer_step_post_hooks",
            "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks",
            "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks",
        ):
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_scratch_buffers", {})

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- param groups -----------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group (a dict with ``params`` and options). Mirrors ``torch.optim.Optimizer.add_param_group``."""  # noqa: E501
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + _typename(param)
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        ids = {id(p) for p in params}
        if len(ids) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
            if not ids.isdisjoint(id(p) for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- stepping ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors. Mirrors ``torch.optim.Optimizer.zero_grad``."""  # noqa: E501
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:
                        grad = grad.detach()
                        p.grad = grad
                    else:
                        grad.requires_grad_(False)
                    grad.data[...] = 0
                    grad._version[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; return the closure's loss. Mirrors ``torch.optim.Optimizer.step``.

        The closure (if given) is evaluated under ``enable_grad`` first. Parameters whose grad is
        None are skipped.
        """  # noqa: E501
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        init_state, update, state_of = self._init_state, self._update, self.state
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                state = state_of.get(p)
                if not state:  # lazily created; an entry only once it holds something
                    state = {} if state is None else state
                    init_state(p.data, state, group)
                    update(p.data, grad.data, state, group)
                    if state:
                        state_of[p] = state
                else:
                    update(p.data, grad.data, state, group)
                p._version[0] += 1
        return loss

    def _init_state(self, param: Array, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Fill the empty state of ``param`` before its first update (PyTorch's keys)."""

    def _update(
        self, param: Array, grad: Array, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply one update to ``param`` in place; subclasses define it."""
        raise NotImplementedError

    def _scratch(self, like: Array, slot: int = 0, dtype: Any = None) -> Array:
        """Return an uninitialised work array shaped like ``like``, shared across parameters.

        Updates run one parameter at a time, so one flat buffer per (slot, dtype) serves all
        parameters; it grows to the largest and is never in the state_dict.
        """
        dtype = like.dtype if dtype is None else dtype
        key = (slot, dtype)
        flat = self._scratch_buffers.get(key)
        if flat is None or flat.size < like.size:
            flat = array_module(like).empty(like.size, dtype)
            self._scratch_buffers[key] = flat
        return flat[: like.size].reshape(like.shape)

    def _grad_with_decay(
        self, param: Array, grad: Array, maximize: bool, weight_decay: float
    ) -> Array:
        """Return (-grad if maximize else grad) + weight_decay * param, in slot 0 if changed."""
        xp = array_module(param)
        if maximize:
            grad = xp.negative(grad, out=self._scratch(param))
        if weight_decay != 0:
            decay = xp.multiply(param, weight_decay, out=self._scratch(param, 1))
            grad = xp.add(grad, decay, out=self._scratch(param))
        return grad

    # -- hooks ------------------------------------------------------------------------------
    def _register(self, hooks: OrderedDict, hook: Callable, prepend: bool = False) -> HookHandle:
        handle = HookHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook: Callable) -> HookHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run before ``step``. Mirrors ``torch.optim.Optimizer.register_step_pre_hook``.

        It may return ``(new_args, new_kwargs)`` to replace step's arguments.
        """  # noqa: E501
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> HookHandle:
        """Register ``hook(optimizer, args, kwargs)`` to run after ``step``. Mirrors ``torch.optim.Optimizer.register_step_post_hook``."""  # noqa: E501
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> HookHandle:
        """Register ``hook(optimizer)`` to run before ``state_dict``. Mirrors ``torch.optim.Optimizer.register_state_dict_pre_hook``."""  # noqa: E501
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> HookHandle:
        """Register ``hook(optimizer, state_dict)`` to run after ``state_dict``. Mirrors ``torch.optim.Optimizer.register_state_dict_post_hook``."""  # noqa: E501
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> HookHandle:
        """Register ``hook(optimizer, state_dict)`` to run before loading. Mirrors ``torch.optim.Optimizer.register_load_state_dict_pre_hook``."""  # noqa: E501
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(
        self, hook: Callable, prepend: bool = False
    ) -> HookHandle:
        """Register ``hook(optimizer)`` to run after loading. Mirrors ``torch.optim.Optimizer.register_load_state_dict_post_hook``."""  # noqa: E501
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state_dict -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Return ``{"state": {index: {...}}, "param_groups": [...]}``. Mirrors ``torch.optim.Optimizer.state_dict``.

        Parameters are numbered in group order; state tensors are returned by reference.
        """  # noqa: E501
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        mapping: dict[int, int] = {}
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                mapping.setdefault(id(p), len(mapping))
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            param_groups.append(packed)
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from ``state_dict()`` (Ember's or PyTorch's converted to Ember tensors). Mirrors ``torch.optim.Optimizer.load_state_dict``.

        The groups must match in number and sizes; state tensors are copied (floating ones cast
        to their parameter's dtype, ``step`` kept as is), group options replaced.
        """  # noqa: E501
        state_dict = dict(state_dict)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = _clone_state(v, id_map[k])
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)


Optimizer.step = _with_hooks(Optimizer.step)
