"""Hooks into the autograd graph. Mirrors ``torch.autograd.graph``.

``saved_tensors_hooks`` routes every tensor an op saves for backward through a pack hook at
save time and an unpack hook when backward reads it; ``register_multi_grad_hook`` fires once
the gradients of several tensors are known; ``Node`` is the type of ``grad_fn``. Also home of
two small ``torch.autograd`` names: the deprecated ``Variable`` and the no-op
``set_multithreading_enabled``.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Sequence
from typing import Any

from ember.autograd import engine as _engine
from ember.autograd import function as _function
from ember.autograd.function import Context
from ember.tensor import Tensor

__all__ = [
    "Node",
    "Variable",
    "disable_saved_tensors_hooks",
    "register_multi_grad_hook",
    "save_on_cpu",
    "saved_tensors_hooks",
    "set_multithreading_enabled",
]

_disabled_message: list = []  # error messages of the active disable_saved_tensors_hooks


class Node(abc.ABC):  # noqa: B024  (an interface: Context is registered, not derived)
    """The type of a tensor's ``grad_fn``. Mirrors ``torch.autograd.graph.Node``.

    ``isinstance(t.grad_fn, Node)`` holds for every recorded op. Differences from PyTorch: a
    leaf tensor is its own node (there is no AccumulateGrad node), so ``next_functions`` may
    hold leaf tensors.
    """


Node.register(Context)


class _ContextDecorator:
    """Lets a context manager class decorate a function as well."""

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return fn(*args, **kwargs)

        return wrapper


class saved_tensors_hooks(_ContextDecorator):
    """Pack tensors saved for backward with pack_hook; unpack them with unpack_hook.

    Mirrors ``torch.autograd.graph.saved_tensors_hooks``. While active, each tensor an op saves
    for backward (input, output or intermediate) is passed once to ``pack_hook`` at save time
    and only its result is kept; each read of ``ctx.saved_tensors`` in backward calls
    ``unpack_hook`` on it, which must return a tensor with the original's values. The unpacked
    tensor is rewired to the original's place in the graph, so double backward still works.
    Only the innermost pair applies when nested.

    Differences from PyTorch: which tensors an op saves follows Ember's backward formulas,
    so the number of pack calls for an op may differ from PyTorch's.

    Args:
        pack_hook: Called with each saved tensor; returns any object.
        unpack_hook: Called with what pack_hook returned; returns a Tensor.
    """

    def __init__(self, pack_hook: Callable[[Tensor], Any], unpack_hook: Callable[[Any], Tensor]):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        if _disabled_message:
            raise RuntimeError(_disabled_message[-1])
        _function._saved_hooks.append((self.pack_hook, self.unpack_hook))

    def __exit__(self, *exc: object) -> None:
        _function._saved_hooks.pop()


def _identity(tensor: Tensor) -> Tensor:
    return tensor


class save_on_cpu(saved_tensors_hooks):
    """Keep tensors saved for backward on the CPU. Mirrors ``torch.autograd.graph.save_on_cpu``.

    Differences from PyTorch: Ember's tensors live in host memory (NumPy backend), so the hooks
    keep each saved tensor as it is and ``pin_memory`` has no effect; the context still counts
    as saved-tensor hooks (``disable_saved_tensors_hooks`` refuses it).

    Args:
        pin_memory: Accepted for compatibility; ignored.
        device_type: Accepted for compatibility; ignored.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        super().__init__(_identity, _identity)


class disable_saved_tensors_hooks(_ContextDecorator):
    """Make saved-tensor hooks an error inside the block.

    Mirrors ``torch.autograd.graph.disable_saved_tensors_hooks``: entering it while hooks are
    active, or entering ``saved_tensors_hooks`` inside it, raises RuntimeError(error_message).

    Args:
        error_message: The message of the RuntimeError.
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        if _function._saved_hooks:
            raise RuntimeError(self.error_message)
        _disabled_message.append(self.error_message)

    def __exit__(self, *exc: object) -> None:
        _disabled_message.pop()


class _MultiHandle:
    """The handle of register_multi_grad_hook: ``remove()`` drops all its tensor hooks."""

    def __init__(self, handles: tuple) -> None:
        self.handles = handles

    def remove(self) -> None:
        """Unregister every hook (a second call does nothing)."""
        for handle in self.handles:
            handle.remove()


def register_multi_grad_hook(
    tensors: Sequence[Tensor], fn: Callable, *, mode: str = "all"
) -> _MultiHandle:
    """Call fn once the gradients of several tensors are computed in a backward call.

    Mirrors ``torch.autograd.graph.register_multi_grad_hook``. With ``mode="all"``, fn gets a
    list with one gradient per tensor (None for a tensor the current backward does not reach)
    after the last reached one is computed; with ``mode="any"``, fn gets the first gradient
    computed, once per backward call. fn must not modify its arguments.

    Args:
        tensors: The tensors to watch.
        fn: The hook.
        mode: ``"all"`` or ``"any"``.

    Returns:
        A handle whose ``remove()`` unregisters the hook.
    """
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = list(tensors)
    if mode == "any":
        ran: dict = {}

        def first_hook(grad: Tensor) -> None:
            task = _current_task()
            if id(task) in ran:
                return
            ran.clear()  # one backward call at a time: forget the finished ones
            ran[id(task)] = task
            fn(grad)

        handles = tuple(t.register_hook(first_hook) for t in tensors if t.requires_grad)
        return _MultiHandle(handles)

    nodes = [t.grad_fn if t.grad_fn is not None else t for t in tensors]
    state: dict = {}  # id(task) -> [task, calls so far, expected calls, buffer]

    def inner_hook(index: int, grad: Tensor) -> None:
        task = _current_task()
        entry = state.get(id(task))
        if entry is None or entry[0] is not task:
            expected = sum(map(_engine.will_engine_execute_node, nodes))
            entry = state[id(task)] = [task, 0, expected, [None] * len(tensors)]
        entry[3][index] = grad
        entry[1] += 1
        if entry[1] == entry[2]:
            del state[id(task)]
            fn(entry[3])

    handles = tuple(
        t.register_hook(functools.partial(inner_hook, i)) for i, t in enumerate(tensors)
    )
    return _MultiHandle(handles)


def _current_task() -> list:
    task = _engine.current_graph_task()
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    return task


class _VariableMeta(type):
    def __instancecheck__(cls, other: object) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """Return a new leaf tensor sharing data with ``data``. Mirrors ``torch.autograd.Variable``.

    Deprecated in PyTorch (tensors are Variables); kept for old code. ``isinstance(t, Variable)``
    holds for every tensor.

    Args:
        data: The tensor to wrap.
        requires_grad: Whether the result requires grad.
        volatile: Ignored (PyTorch's long-removed flag).
    """

    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        out.requires_grad_(requires_grad)
        return out


class set_multithreading_enabled(_ContextDecorator):
    """Turn multithreaded backward on or off. Mirrors ``torch.autograd.set_multithreading_enabled``.

    Differences from PyTorch: Ember's backward always runs on the calling thread, so this is a
    no-op context manager (and decorator) kept for compatibility.

    Args:
        mode: Accepted and ignored.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        pass

    def clone(self) -> set_multithreading_enabled:
        """Return a copy, as PyTorch's grad-mode context managers have."""
        return self.__class__(self.mode)
