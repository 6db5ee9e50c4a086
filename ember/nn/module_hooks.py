"""The rest of ``nn.Module``'s API: backward hooks, state-dict hooks, extra state, odds and ends.

``Module`` inherits ``ModuleExtras``; module.py keeps the core (registration, traversal,
state_dict, load_state_dict) and module_state.py the load plan. Full backward hooks work as
PyTorch's ``BackwardHook``: an identity node wraps the module's tensor inputs before forward
and another its outputs after, so the output node sees grad_output first and the input node
then gets grad_input.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import grad_mode
from ember.ops.creation import zeros
from ember.tensor import Tensor

T_destination = TypeVar("T_destination", bound=dict)

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"
_HOOK_DICTS = (
    "_forward_hooks_always_called",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_state_dict_hooks",
    "_state_dict_pre_hooks",
    "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
)
_MIXED = (
    "Cannot use both regular backward hooks and full backward hooks on a single Module. "
    "Please use only one of them."
)


class BackwardHookFunction(Function):
    """Identity on tensors whose backward hands their gradients to a callback."""

    @staticmethod
    def forward(ctx: Context, callback: Callable, needs: tuple, *arrays: Any) -> tuple:
        ctx.callback = callback
        ctx.set_materialize_grads(False)  # an unused output gives None, as in PyTorch
        outputs = tuple(a.view() for a in arrays)
        ctx.mark_non_differentiable(*(o for o, need in zip(outputs, needs) if not need))
        return outputs

    @staticmethod
    def backward(ctx: Context, *grads: Tensor | None) -> tuple:
        grads = ctx.callback(grads)
        needs = ctx.needs_input_grad
        return (None, None, *(g if needs[i + 2] else None for i, g in enumerate(grads)))


def _pack_with_none(indices: list[int], values: Any, size: int) -> tuple:
    out: list = [None] * size
    for i, value in zip(indices, values, strict=True):
        out[i] = value
    return tuple(out)


class BackwardHook:
    """The per-call state linking a module's output gradients to its input gradients.

    Mirrors ``torch.utils.hooks.BackwardHook``: only positional Tensor arguments and a Tensor
    output (or a tuple's Tensors) are wrapped; other entries of grad_input/grad_output are None.
    """

    def __init__(self, module: Any, hooks: list[Callable], pre_hooks: list[Callable]) -> None:
        self.module = module
        self.user_hooks = hooks
        self.user_pre_hooks = pre_hooks
        self.grad_outputs: tuple | None = None
        self.n_inputs = self.n_outputs = -1
        self.input_index: list[int] | None = None
        self.output_index: list[int] | None = None
        self.input_meta: list[tuple] = []

    def _wrap(self, callback: Callable, args: tuple) -> tuple[tuple, list[int] | None]:
        index = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        needs = tuple(args[i]._requires_grad for i in index)
        if not grad_mode.enabled or not any(needs):
            return args, None
        tensors = [args[i] for i in index]
        wrapped = BackwardHookFunction.apply(callback, needs, *tensors)
        out = list(args)
        for i, tensor in zip(index, wrapped, strict=True):
            # Not a tracked view (the version counter stays shared): an in-place op on it is
            # recorded after the hook node instead of being rebased around it.
            tensor._base = None
            out[i] = tensor
        return tuple(out), index

    def setup_input_hook(self, args: tuple) -> tuple:
        """Wrap the positional tensor inputs; their node calls the full backward hooks."""
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(self._on_grad_input, args)
        index = self.input_index or []
        self.input_meta = [(args[i].shape, args[i].dtype, args[i].device) for i in index]
        return args

    def setup_output_hook(self, output: Any) -> Any:
        """Wrap the output tensors; their node records grad_output and runs the pre-hooks."""
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple "
                f"of Tensors but received {type(output)}",
                stacklevel=3,
            )
        is_tuple = isinstance(output, tuple)
        outputs = output if is_tuple else (output,)
        self.n_outputs = len(outputs)
        outputs, self.output_index = self._wrap(self._on_grad_output, outputs)
        return outputs if is_tuple else outputs[0]

    def _on_grad_output(self, grads: tuple) -> tuple:
        self.grad_outputs = _pack_with_none(self.output_index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            if len(result) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, got "
                    f"{len(result)}, but expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = tuple(result)
        local = self.grad_outputs
        if self.input_index is None:  # no input requires grad: call the hooks from here
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients. See "
                "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                "#torch.nn.Module.register_full_backward_hook for more details.",
                stacklevel=2,
            )
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (
                    isinstance(result, tuple) and all(r is None for r in result)
                ):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_index)

    def _on_grad_input(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:  # reached without passing through the outputs
            return grads
        # PyTorch materialises the missing input gradients (unused or not requiring grad).
        grads = [
            zeros(shape, dtype=dtype, device=device) if g is None else g
            for g, (shape, dtype, device) in zip(grads, self.input_meta)
        ]
        result = _pack_with_none(self.input_index, grads, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, result, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(result):
                raise RuntimeError(
                    "Backward hook returned an invalid number of grad_input, got "
                    f"{len(out)}, but expected {len(result)}"
                )
            result = tuple(out)
        self.grad_outputs = None
        return tuple(result[i] for i in self.input_index)


def run_always_called_hooks(
    module: Any, args: tuple, kwargs: dict, output: Any, called: set
) -> None:
    """After forward raised: run the always_call forward hooks that have not run yet."""
    for key, hook in list(module._forward_hooks.items()):
        if key not in module._forward_hooks_always_called or key in called:
            continue
        try:
            if key in module._forward_hooks_with_kwargs:
                result = hook(module, args, kwargs, output)
            else:
                result = hook(module, args, output)
            if result is not None:
                output = result
        except Exception as err:
            warnings.warn(
                "module forward hook with ``always_call=True`` raised an exception that was "
                f"silenced as another error was raised in forward: {err}",
                stacklevel=3,
            )


def _handle(*hook_dicts: dict) -> Any:
    from ember.nn.module import HookHandle

    return HookHandle(*hook_dicts)


def _add(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> Any:
    handle = _handle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class _WithModule:
    """A load_state_dict pre-hook that takes the module first (``with_module=True``)."""

    def __init__(self, hook: Callable, module: Any) -> None:
        self.hook, self.module = hook, module

    def __call__(self, *args: Any) -> Any:
        if self.module is None:
            return self.hook(*args)
        return self.hook(self.module, *args)


class ModuleExtras:
    """Backward hooks, state-dict hooks, extra state and the rarer Module methods."""

    dump_patches: bool = False
    call_super_init: bool = False
    T_destination = T_destination

    def __setstate__(self, state: dict) -> None:
        # Modules pickled before these hook dicts existed get empty ones, as in PyTorch.
        self.__dict__.update(state)
        for name in _HOOK_DICTS:
            self.__dict__.setdefault(name, OrderedDict())
        self.__dict__.setdefault("_is_full_backward_hook", None)

    # -- backward hooks -------------------------------------------------------------------
    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Call hook(module, grad_input, grad_output) in backward. Mirrors PyTorch's.

        The hook may return a new grad_input tuple (same length). grad_input holds one entry
        per positional argument: the gradient of a Tensor that requires grad, else None.
        Differences from PyTorch: an in-place op on the module's output (or, in forward, on its
        input) is allowed and recorded after the hook node, so the hooks still see the right
        gradients; PyTorch raises "Output 0 of BackwardHookFunctionBackward is a view and is
        being modified inplace" there.
        """
        if self._is_full_backward_hook is False:
            raise RuntimeError(_MIXED)
        self._is_full_backward_hook = True
        return _add(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Call hook(module, grad_output) before the module's backward. Mirrors PyTorch's.

        The hook may return a new grad_output tuple (same length).
        """
        return _add(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable) -> Any:
        """Register a deprecated backward hook. Mirrors ``Module.register_backward_hook``.

        Differences from PyTorch: the hook gets the full-hook semantics (the documented
        grad_input of the module's inputs), not those of the last autograd node of forward,
        and a FutureWarning says to use ``register_full_backward_hook``.
        """
        if self._is_full_backward_hook is True:
            raise RuntimeError(_MIXED)
        warnings.warn(
            "register_backward_hook is deprecated; Ember runs it as a full backward hook. "
            "Please use register_full_backward_hook to get the documented behavior.",
            FutureWarning,
            stacklevel=2,
        )
        self._is_full_backward_hook = False
        return _add(self._backward_hooks, hook)

    # -- state-dict hooks -----------------------------------------------------------------
    def register_state_dict_pre_hook(self, hook: Callable) -> Any:
        """Call hook(module, prefix, keep_vars) before state_dict. Mirrors PyTorch's."""
        return _add(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> Any:
        """Call hook(module, state_dict, prefix, local_metadata) after state_dict.

        The hook edits state_dict in place and returns None. Mirrors
        ``Module.register_state_dict_post_hook``.
        """
        hook._from_public_api = True  # type: ignore[attr-defined]
        return _add(self._state_dict_hooks, hook)

    def _register_state_dict_hook(self, hook: Callable) -> Any:
        """Register a state_dict post-hook that may return a new dict (at the root only)."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "Cannot register the same function as the state dict post hook that was "
                "previously registered via register_state_dict_post_hook"
            )
        return _add(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> Any:
        """Call a hook before load_state_dict. Mirrors ``register_load_state_dict_pre_hook``.

        Signature: hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs); it may edit state_dict (a copy) and the lists.
        """
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable, with_module: bool = False) -> Any:
        """Register a load pre-hook; without with_module it does not get the module first."""
        wrapped = _WithModule(hook, self if with_module else None)
        return _add(self._load_state_dict_pre_hooks, wrapped)

    def register_load_state_dict_post_hook(self, hook: Callable) -> Any:
        """Call hook(module, incompatible_keys) after loading; it may edit the key lists.

        Mirrors ``Module.register_load_state_dict_post_hook``. Differences from PyTorch: post
        hooks do not run when loading fails on a shape or dtype error (Ember copies nothing
        then).
        """
        return _add(self._load_state_dict_post_hooks, hook)

    # -- extra state ----------------------------------------------------------------------
    def get_extra_state(self) -> Any:
        """Return extra (picklable) state for state_dict. Mirrors ``Module.get_extra_state``.

        Override it (and ``set_extra_state``) to store ``prefix + "_extra_state"``.
        """
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "  # noqa: E501
            "to report this bug."
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore the extra state from load_state_dict. Mirrors ``Module.set_extra_state``."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "  # noqa: E501
            "to report this bug."
        )

    # -- odds and ends --------------------------------------------------------------------
    def set_submodule(self, target: str, module: Any, strict: bool = False) -> None:
        """Set (or, unless strict, add) the submodule at a dotted path. Mirrors PyTorch's."""
        from ember.nn.module import Module

        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        name = atoms[-1]
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def share_memory(self) -> Any:
        """Return self. Mirrors ``Module.share_memory``.

        Differences from PyTorch: a no-op; Ember's CPU arrays are not moved to shared memory
        (DataLoader workers get data by fork or pickling instead).
        """
        return self

    def to_empty(self, *, device: Any, recurse: bool = True) -> Any:
        """Reallocate parameters and buffers on device, uninitialised. Mirrors PyTorch's.

        Differences from PyTorch: the new storage is zero-filled, and ``recurse=False`` is
        honoured by skipping submodules.
        """
        from ember.ops.creation import zeros_like

        def fresh(t: Tensor) -> Tensor:
            return zeros_like(t, device=device)

        if recurse:
            return self._apply(fresh)
        modules = self._modules
        object.__setattr__(self, "_modules", {})
        try:
            return self._apply(fresh)
        finally:
            object.__setattr__(self, "_modules", modules)

    def type(self, dst_type: Any) -> Any:
        """Cast every parameter and buffer to dst_type. Mirrors ``Module.type``."""
        return self._apply(lambda t: t.type(dst_type))

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """Accept torch.compile's arguments and return None. Mirrors ``Module.compile``.

        Differences from PyTorch: Ember has no compiler; the module runs eagerly as before.
        """
        return None
