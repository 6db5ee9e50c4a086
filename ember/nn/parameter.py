"""Parameter and Buffer: tensors that a Module registers when they are assigned to it."""

from __future__ import annotations

from typing import Any

from ember.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module's learnable weight. Mirrors ``torch.nn.Parameter``.

    Assigning one to a Module attribute registers it; it shares memory with ``data``.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            from ember.ops.creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        Tensor.__init__(self, data.data)
        self._version = data._version  # the same memory, the same counter
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: int) -> tuple:
        return (_rebuild_parameter, (self.data, self._requires_grad))


def _rebuild_parameter(data: Any, requires_grad: bool) -> Parameter:
    return Parameter(Tensor(data), requires_grad)


class Buffer(Tensor):
    """A tensor to register as a module buffer when assigned. Mirrors ``torch.nn.Buffer``.

    The module stores a plain tensor sharing its memory; ``persistent=False`` keeps it out of
    ``state_dict``.
    """

    __slots__ = ()

    def __init__(self, data: Tensor, *, persistent: bool = True) -> None:
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer data must be a Tensor, got {type(data).__name__}")
        Tensor.__init__(self, data.data)
        self._version = data._version
        self.persistent = persistent


def is_lazy(param: Any) -> bool:
    """Whether a parameter is still uninitialised (a lazy module's). Mirrors PyTorch's helper."""
    return isinstance(param, UninitializedParameter)


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet. Mirrors ``torch.nn.UninitializedParameter``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<UninitializedParameter>"
