"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

Each stores its members under string keys in the ordinary Module dicts ("0", "1", ... for the
lists), so state_dict keys are PyTorch's ("0.weight", "layers.3.bias").
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any

from ember.nn.module import Module, _addindent
from ember.nn.parameter import Parameter
from ember.tensor import Tensor

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


def _abs_index(idx: Any, size: int) -> int:
    """Return idx as a non-negative int below size, or raise PyTorch's IndexError."""
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range")
    return idx % size if size else idx


def _renumber(modules: dict) -> None:
    """Rename the entries "0", "1", ... in their current order, in place."""
    values = list(modules.values())
    modules.clear()
    modules.update((str(i), module) for i, module in enumerate(values))


def _no_digits(keys: list[str]) -> list[str]:
    return [key for key in keys if not key.isdigit()]


class Sequential(Module):
    """Chain modules: the output of each is the input of the next. Mirrors ``torch.nn.Sequential``.

    Built from modules (named "0", "1", ...) or from one OrderedDict of named modules.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return next(islice(self._modules.values(), _abs_index(idx, len(self)), None))

    def __setitem__(self, idx: int, module: Module) -> None:
        key = next(islice(self._modules.keys(), _abs_index(idx, len(self)), None))
        setattr(self, key, module)

    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            keys = list(self._modules.keys())[idx]
        else:
            keys = [next(islice(self._modules.keys(), _abs_index(idx, len(self)), None))]
        for key in keys:
            delattr(self, key)
        _renumber(self._modules)  # as PyTorch: names become "0", "1", ... again

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __dir__(self) -> list[str]:
        return _no_digits(super().__dir__())

    def _check_sequential(self, other: Any) -> None:
        if not isinstance(other, Sequential):
            raise ValueError(
                "add operator supports only objects of Sequential class, but "
                f"{type(other)!s} is given."
            )

    def __add__(self, other: Sequential) -> Sequential:
        self._check_sequential(other)
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        self._check_sequential(other)
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def _check_factor(self, other: Any) -> None:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")

    def __mul__(self, other: int) -> Sequential:
        self._check_factor(other)
        return Sequential(*(list(self) * other))  # the same modules, shared, repeated

    def __rmul__(self, other: int) -> Sequential:
        return self.__mul__(other)

    def __imul__(self, other: int) -> Sequential:
        self._check_factor(other)
        modules = list(self._modules.values())
        for i, module in enumerate(modules * (other - 1)):
            self.add_module(str(len(modules) + i), module)
        return self

    def pop(self, key: int | slice) -> Any:
        """Remove and return the module(s) at key. Mirrors ``Sequential.pop``."""
        value = self[key]
        del self[key]
        return value

    def append(self, module: Module) -> Sequential:
        """Add a module at the end. Mirrors ``Sequential.append``."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert a module before index. Mirrors ``Sequential.insert``."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def extend(self, sequential: Iterable[Module]) -> Sequential:
        """Append every module of an iterable. Mirrors ``Sequential.extend``."""
        for layer in sequential:
            self.append(layer)
        return self

    def forward(self, input: Any) -> Any:
        for module in self:
            input = module(input)
        return input


class ModuleList(Module):
    """Hold submodules in a list, registered with the parent. Mirrors ``torch.nn.ModuleList``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self += modules

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[str(_abs_index(idx, len(self)))]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, str(_abs_index(idx, len(self))), module)

    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                delattr(self, str(k))
        else:
            delattr(self, str(_abs_index(idx, len(self))))
        _renumber(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        combined = ModuleList()
        for i, module in enumerate(chain(self, other)):
            combined.add_module(str(i), module)
        return combined

    def __dir__(self) -> list[str]:
        return _no_digits(super().__dir__())

    def __repr__(self) -> str:
        # As PyTorch: runs of identical entries print once, as "(0-2): 3 x Linear(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        blocks: list[list] = []  # [start, end, repr]
        for i, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = []
        for start, end, text in blocks:
            line = (
                f"({start}): {text}"
                if start == end
                else f"({start}-{end}): {end - start + 1} x {text}"
            )
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def insert(self, index: int, module: Module) -> None:
        """Insert a module before index. Mirrors ``ModuleList.insert``."""
        for i in range(len(self._modules), index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end. Mirrors ``ModuleList.append``."""
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key: int | slice) -> Any:
        """Remove and return the module(s) at key. Mirrors ``ModuleList.pop``."""
        value = self[key]
        del self[key]
        return value

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of an iterable. Mirrors ``ModuleList.extend``."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleList.extend should be called with an iterable, but got "
                + type(modules).__name__
            )
        offset = len(self)
        for i, module in enumerate(modules):
            self.add_module(str(offset + i), module)
        return self


def _pairs(values: Any, owner: str) -> Iterator[tuple[Any, Any]]:
    """Yield the (key, value) pairs of a sequence of pairs, with PyTorch's errors."""
    for j, pair in enumerate(values):
        if not isinstance(pair, Iterable):
            raise TypeError(
                f"{owner} update sequence element #{j} should be Iterable; is" + type(pair).__name__
            )
        if len(pair) != 2:
            raise ValueError(
                f"{owner} update sequence element #{j} has length {len(pair)}; 2 is required"
            )
        yield pair[0], pair[1]


class ModuleDict(Module):
    """Hold submodules in an ordered dict. Mirrors ``torch.nn.ModuleDict``."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        """Remove every entry. Mirrors ``ModuleDict.clear``."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove key and return its module. Mirrors ``ModuleDict.pop``."""
        value = self[key]
        del self[key]
        return value

    def keys(self) -> Any:
        """Return the keys. Mirrors ``ModuleDict.keys``."""
        return self._modules.keys()

    def items(self) -> Any:
        """Return the (key, module) pairs. Mirrors ``ModuleDict.items``."""
        return self._modules.items()

    def values(self) -> Any:
        """Return the modules. Mirrors ``ModuleDict.values``."""
        return self._modules.values()

    def update(self, modules: Any) -> None:
        """Add or overwrite entries from a mapping or (key, module) pairs. Mirrors PyTorch's."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, but got "
                + type(modules).__name__
            )
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs = modules.items()
        else:
            pairs = _pairs(modules, "ModuleDict")
        for key, module in pairs:
            self[key] = module


def _describe(value: Any, dtype_text: str) -> str:
    """One line of a ParameterList/ParameterDict repr, as PyTorch prints it."""
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    size = "x".join(str(s) for s in value.shape)
    device = f" ({value.device})" if value.device.type == "cuda" else ""
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"{kind} containing: [{dtype_text} of size {size}{device}]"


class ParameterList(Module):
    """Hold parameters in a list; tensors become Parameters. Mirrors ``torch.nn.ParameterList``."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self += values

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            out = self.__class__()
            for i in range(*idx.indices(len(self))):
                out.append(self[i])
            return out
        return getattr(self, str(_abs_index(idx, len(self))))

    def __setitem__(self, idx: int, param: Any) -> None:
        name = str(_abs_index(idx, len(self)))
        if isinstance(param, Tensor) and not isinstance(param, Parameter):
            param = Parameter(param)
        setattr(self, name, param)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, parameters: Iterable[Any]) -> ParameterList:
        return self.extend(parameters)

    def __dir__(self) -> list[str]:
        return _no_digits(super().__dir__())

    def append(self, value: Any) -> ParameterList:
        """Add a value at the end (a tensor becomes a Parameter). Mirrors PyTorch's."""
        new_idx = len(self)
        self._size += 1
        self[new_idx] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Append every value of an iterable. Mirrors ``ParameterList.extend``."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                "ParameterList.extend should be called with an iterable, but got "
                + type(values).__name__
            )
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(
            f"  ({k}): {_describe(p, str(getattr(p, 'dtype', '')))}" for k, p in enumerate(self)
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """Hold parameters in an ordered dict; tensors become Parameters. Mirrors PyTorch's.

    A plain ``dict`` given to the constructor or ``update`` is added in sorted key order, as in
    PyTorch; an OrderedDict, a ParameterDict or a sequence of pairs keeps its order.
    """

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def _key_to_attr(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(
                "Index given to ParameterDict cannot be used as a key as it is not a string "
                f"(type is '{type(key).__name__}'). Open an issue on github if you need "
                "non-string keys."
            )
        return key

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._key_to_attr(key))

    def __setitem__(self, key: str, value: Any) -> None:
        attr = self._key_to_attr(key)
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, attr, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, self._key_to_attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def copy(self) -> ParameterDict:
        """Return a shallow copy (the same Parameters). Mirrors ``ParameterDict.copy``."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return self[key], first setting it to default if absent. Mirrors PyTorch's."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        """Remove every entry. Mirrors ``ParameterDict.clear``."""
        for key in list(self._keys):
            del self[key]

    def pop(self, key: str) -> Any:
        """Remove key and return its value. Mirrors ``ParameterDict.pop``."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last inserted (key, value). Mirrors PyTorch's."""
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Return self[key], or default if absent. Mirrors ``ParameterDict.get``."""
        return self[key] if key in self else default  # noqa: SIM401 (self.get is this method)

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        """Return a new ParameterDict with keys all set to default. Mirrors PyTorch's."""
        return ParameterDict((k, default) for k in keys)

    def keys(self) -> Any:
        """Return the keys. Mirrors ``ParameterDict.keys``."""
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        """Return the (key, value) pairs. Mirrors ``ParameterDict.items``."""
        return ((k, self[k]) for k in self._keys)

    def values(self) -> Iterator[Any]:
        """Return the values. Mirrors ``ParameterDict.values``."""
        return (self[k] for k in self._keys)

    def update(self, parameters: Any) -> None:
        """Add or overwrite entries from a mapping or (key, value) pairs. Mirrors PyTorch's."""
        if not isinstance(parameters, Iterable):
            raise TypeError(
                "ParametersDict.update should be called with an iterable of key/value pairs, "
                "but got " + type(parameters).__name__
            )
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs: Iterable = parameters.items()
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = _pairs(parameters, "ParameterDict")
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return "\n".join(
            f"  ({k}): {_describe(p, p.type() if isinstance(p, Tensor) else '')}"
            for k, p in self.items()
        )

    def __call__(self, input: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")

    def __or__(self, other: ParameterDict) -> ParameterDict:
        copy = self.copy()
        copy.update(other)
        return copy

    def __ror__(self, other: ParameterDict) -> ParameterDict:
        copy = other.copy()
        copy.update(self)
        return copy

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self
