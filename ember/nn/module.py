"""Module: the base of every layer. Mirrors ``torch.nn.Module``.

Parameters, buffers and submodules register themselves through ``__setattr__`` into three
dicts, as in PyTorch; ``state_dict`` keys are their dotted paths. Hooks wrap ``forward`` in
``__call__`` and cost nothing when none are registered.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

from ember.autograd.grad_mode import no_grad
from ember.backend import array_module
from ember.nn.module_hooks import (
    _EXTRA_STATE_KEY_SUFFIX,
    BackwardHook,
    ModuleExtras,
    run_always_called_hooks,
)
from ember.nn.module_state import plan_load, positional_state_dict_args, run_state_dict_hooks
from ember.nn.parameter import Buffer, Parameter, is_lazy
from ember.tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the missing and unexpected keys."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class HookHandle:
    """Removes a module hook from its dict. Mirrors ``torch.utils.hooks.RemovableHandle``."""

    _next_id = 0

    def __init__(self, *hook_dicts: dict) -> None:
        self.hook_dicts = hook_dicts
        self.id = HookHandle._next_id
        HookHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        for hooks in self.hook_dicts:
            hooks.pop(self.id, None)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module(ModuleExtras):
    """Base class for all layers and models. Mirrors ``torch.nn.Module``.

    Backward hooks, state-dict hooks, extra state and the rarer methods live in
    ``ModuleExtras`` (module_hooks.py).
    """

    training: bool
    _version = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}"
            )
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", {})
        set_(self, "_buffers", {})
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", {})
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_forward_hooks_with_kwargs", {})
        set_(self, "_forward_pre_hooks_with_kwargs", {})
        set_(self, "_forward_hooks_always_called", {})
        set_(self, "_backward_hooks", OrderedDict())
        set_(self, "_backward_pre_hooks", OrderedDict())
        set_(self, "_is_full_backward_hook", None)
        set_(self, "_state_dict_hooks", OrderedDict())
        set_(self, "_state_dict_pre_hooks", OrderedDict())
        set_(self, "_load_state_dict_pre_hooks", OrderedDict())
        set_(self, "_load_state_dict_post_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            if not (
                self._forward_hooks
                or self._forward_pre_hooks
                or self._backward_hooks
                or self._backward_pre_hooks
            ):
                return self.forward(*args, **kwargs)
            return self._call_with_hooks(args, kwargs)
        except (RuntimeError, ValueError, IndexError, TypeError) as err:
            _name_layer(self, err)
            raise

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        output, called = None, set()  # called: the always_call hooks that have run
        try:
            for key, hook in list(self._forward_pre_hooks.items()):
                if key in self._forward_pre_hooks_with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            backward_hook = None
            if self._backward_hooks or self._backward_pre_hooks:
                backward_hook = BackwardHook(
                    self,
                    list(self._backward_hooks.values()),
                    list(self._backward_pre_hooks.values()),
                )
                args = backward_hook.setup_input_hook(args)
            output = self.forward(*args, **kwargs)
            for key, hook in list(self._forward_hooks.items()):
                called.add(key)
                if key in self._forward_hooks_with_kwargs:
                    result = hook(self, args, kwargs, output)
                else:
                    result = hook(self, args, output)
                if result is not None:
                    output = result
            if backward_hook is not None:
                output = backward_hook.setup_output_hook(output)
            return output
        except Exception:
            if self._forward_hooks_always_called:
                run_always_called_hooks(self, args, kwargs, output, called)
            raise

    # -- registration ---------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as parameter '{name}' "
                    "(torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        else:
            self._set_module_or_buffer(name, value)

    def _set_module_or_buffer(self, name: str, value: Any) -> None:
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as child module '{name}' "
                    "(torch.nn.Module or None expected)"
                )
            modules[name] = value
        elif isinstance(value, Buffer):
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self._forget(name, keep="_buffers")
            self.register_buffer(name, _plain(value), value.persistent)
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as buffer '{name}' "
                    "(torch.Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: str) -> None:
        # Reassigning an existing entry of the kind `keep` keeps its place, as in PyTorch.
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__[store].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        store = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            found = store.get(key)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def _check_new_name(self, name: Any, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_type_name(name)}")
        if "." in name:
            got = f", got: {name}" if kind == "module" else ""
            raise KeyError(f'{kind} name can\'t contain "."{got}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None) under name. Mirrors ``Module.register_parameter``."""
        self._check_new_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                "be created explicitly."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer (state that is not a parameter). Mirrors ``Module.register_buffer``."""
        self._check_new_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' "
                "(torch Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under name. Mirrors ``Module.add_module``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        self._check_new_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """Return the submodule at a dotted path. Mirrors ``Module.get_submodule``."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """Return the parameter at a dotted path. Mirrors ``Module.get_parameter``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """Return the buffer at a dotted path. Mirrors ``Module.get_buffer``."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    # -- traversal ------------------------------------------------------------------------
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yield (dotted name, module) for self and every descendant. Mirrors PyTorch's."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Yield self and every descendant module. Mirrors ``Module.modules``."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield (name, module) for the direct children. Mirrors ``Module.named_children``."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        """Yield the direct children. Mirrors ``Module.children``."""
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in module.__dict__[store].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield (dotted name, parameter). Mirrors ``Module.named_parameters``."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield the parameters. Mirrors ``Module.parameters``."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yield (dotted name, buffer), persistent or not. Mirrors ``Module.named_buffers``."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield the buffers. Mirrors ``Module.buffers``."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call fn on every submodule (children first), then self. Mirrors ``Module.apply``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients --------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode here and below. Mirrors ``Module.train``."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``). Mirrors ``Module.eval``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter. Mirrors ``Module.requires_grad_``."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the parameters' gradients. Mirrors ``Module.zero_grad``."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.detach_()
                param.grad.data[...] = 0

    # -- dtype and device -----------------------------------------------------------------
    def _apply(self, fn: Callable[[Tensor], Tensor]) -> Module:
        """Replace every parameter's and buffer's data by fn's, keeping the objects."""
        for module in self.modules():
            for param in module._parameters.values():
                if param is None or is_lazy(param):
                    continue
                with no_grad():
                    param.data = fn(param).data
                if param.grad is not None:
                    param.grad.data = fn(param.grad).data
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    module._buffers[name] = fn(buffer)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move and/or cast parameters and buffers in place. Mirrors ``Module.to``.

        A dtype applies to floating-point tensors only, as in PyTorch.
        """
        from ember.tensor import _parse_to

        dtype, device, _ = _parse_to(args, dict(kwargs))
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dtype}"
            )

        def convert(t: Tensor) -> Tensor:
            out = t.detach()
            if device is not None:
                out = out.to(device)
            if dtype is not None and out.dtype.is_floating_point:
                out = out.to(dtype)
            return out

        return self._apply(convert)

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32. Mirrors ``Module.float``."""
        return self._cast_floats("float32")

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64. Mirrors ``Module.double``."""
        return self._cast_floats("float64")

    def half(self) -> Module:
        """Cast floating parameters and buffers to float16. Mirrors ``Module.half``."""
        return self._cast_floats("float16")

    def bfloat16(self) -> Module:
        """Cast floating parameters and buffers to bfloat16. Mirrors ``Module.bfloat16``."""
        return self._cast_floats("bfloat16")

    def _cast_floats(self, name: str) -> Module:
        from ember.backend.dtypes import as_dtype

        return self.to(as_dtype(name))

    def cpu(self) -> Module:
        """Move everything to the CPU. Mirrors ``Module.cpu``."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        """Move everything to a CUDA device. Mirrors ``Module.cuda``."""
        return self.to("cuda" if device is None else device)

    # -- state dict -----------------------------------------------------------------------
    def state_dict(
        self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Return the parameters and persistent buffers by dotted name. Mirrors PyTorch's.

        Values share memory with the module (detached unless ``keep_vars``). State-dict
        pre/post hooks run, and ``_extra_state`` entries appear for modules that define
        ``get_extra_state``.
        """
        if args:
            destination, prefix, keep_vars = positional_state_dict_args(
                args, destination, prefix, keep_vars
            )
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()  # type: ignore[attr-defined]
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return run_state_dict_hooks(self, destination, prefix, local_metadata)

    def _save_to_state_dict(self, destination: Any, prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        if type(self).get_extra_state is not ModuleExtras.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def load_state_dict(
        self, state_dict: Any, strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copy tensors from state_dict into the parameters and buffers. Mirrors PyTorch's.

        Every key, shape and dtype kind is checked before anything is copied: on an error the
        module is left unchanged. Floating tensors are cast to the model's float dtype, as
        PyTorch does; a float into an integer buffer (or back) is an error. Load pre-hooks run
        first; when load post-hooks are registered (they may clear the key lists), missing or
        unexpected keys are reported after the copy, as PyTorch does.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        plan = plan_load(self, state_dict, assign)
        errors, sources = plan.errors, {}
        for key, target, source in plan.loads:
            problem = _load_problem(key, source, target)
            if problem:
                errors.append(problem)
            else:
                sources[key] = (target, source if isinstance(source, Tensor) else Tensor(source))
        keyed = strict and (bool(errors) or not plan.post)  # post hooks may clear key lists
        missing, unexpected = (plan.missing, plan.unexpected) if keyed else ([], [])
        if errors or missing or unexpected:
            raise RuntimeError(self._load_error(missing, unexpected, errors))
        with no_grad():
            for key, (target, source) in sources.items():
                self._load_one(key, target, source, assign)
        for module, state in plan.extras:
            module.set_extra_state(state)
        incompatible = _IncompatibleKeys(plan.missing, plan.unexpected)
        for module in plan.post:
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace."
                    )
        if strict and (plan.missing or plan.unexpected):
            raise RuntimeError(self._load_error(plan.missing, plan.unexpected, []))
        return incompatible

    def _load_error(self, missing: list, unexpected: list, errors: list) -> str:
        if unexpected:
            keys = ", ".join(f'"{k}"' for k in unexpected)
            errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
        if missing:
            keys = ", ".join(f'"{k}"' for k in missing)
            errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        return f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors)

    def _load_one(self, key: str, target: Tensor, source: Tensor, assign: bool) -> None:
        if not assign:
            array_module(target.data).copyto(target.data, source.data, casting="unsafe")
            target._version[0] += 1
            return
        path, _, name = key.rpartition(".")
        owner = self.get_submodule(path)
        if isinstance(target, Parameter):
            owner._parameters[name] = Parameter(source.detach(), target.requires_grad)
        else:
            owner._buffers[name] = source.detach()

    # -- printing -------------------------------------------------------------------------
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """Return the extra text inside this module's repr. Mirrors ``Module.extra_repr``."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [
            f"({key}): {_addindent(repr(module), 2)}" for key, module in self._modules.items()
        ]
        body = self._get_name() + "("
        if len(lines) == 1 and not children:
            body += lines[0]
        elif lines or children:
            body += "\n  " + "\n  ".join(lines + children) + "\n"
        return body + ")"

    def __dir__(self) -> list[str]:
        keys = list(super().__dir__())
        for store in ("_parameters", "_buffers", "_modules"):
            keys += list(self.__dict__[store])
        return sorted(set(keys))

    # -- hooks ----------------------------------------------------------------------------
    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> HookHandle:
        """Call hook(module, args) before forward. Mirrors ``Module.register_forward_pre_hook``."""
        handle = HookHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self,
        hook: Callable,
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> HookHandle:
        """Call hook(module, args, output) after forward. Mirrors ``register_forward_hook``.

        With ``always_call`` the hook also runs (output None) when forward raises.
        """
        handle = HookHandle(
            self._forward_hooks, self._forward_hooks_with_kwargs, self._forward_hooks_always_called
        )
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle


def _name_layer(module: Module, err: BaseException) -> None:
    """Prefix an error from forward with the innermost layer that raised it (once).

    Differences from PyTorch: PyTorch's messages name the shapes but not the layer; Ember's keep
    PyTorch's text after the layer, e.g. ``Linear(in_features=5, out_features=3, bias=True):
    mat1 and mat2 shapes cannot be multiplied (4x6 and 5x3)``.
    """
    if getattr(err, "_ember_layer", False) or not err.args or not isinstance(err.args[0], str):
        return
    extra = module.extra_repr().replace("\n", ", ")
    err.args = (f"{module._get_name()}({extra}): {err.args[0]}", *err.args[1:])
    err._ember_layer = True  # type: ignore[attr-defined]


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def _plain(buffer: Buffer) -> Tensor:
    out = Tensor(buffer.data)
    out._version = buffer._version
    return out


def _load_problem(key: str, source: Any, target: Tensor) -> str | None:
    """Why source cannot be loaded into target, or None."""
    if not isinstance(source, Tensor):
        if not hasattr(source, "shape") or not hasattr(source, "dtype"):
            return (
                f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                f"object from checkpoint but received {type(source)}"
            )
        source = Tensor(array_module(target.data).asarray(source))
    if tuple(source.shape) != tuple(target.shape):
        return (
            f"size mismatch for {key}: copying a param with shape {source.shape!r} from "
            f"checkpoint, the shape in current model is {target.shape!r}."
        )
    if source.dtype.is_floating_point != target.dtype.is_floating_point:
        return (
            f"dtype mismatch for {key}: copying a param of dtype {source.dtype} from "
            f"checkpoint, the dtype in current model is {target.dtype}."
        )
    return None
