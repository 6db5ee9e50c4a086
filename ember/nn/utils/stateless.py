"""Call a module with other tensors in place of its parameters and buffers.

Mirrors ``torch.nn.utils.stateless`` (and ``torch.func.functional_call``, the same function).
The given tensors are swapped into the module's ``_parameters`` / ``_buffers`` for one call and
the originals are swapped back afterwards, even when forward raises; gradients flow to the
given tensors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["functional_call"]

_MISSING = object()


def _untie(module: Module, tensors: dict[str, Any]) -> dict[str, Any]:
    """Give every name of a tied tensor the value the caller gave for one of its names."""
    names_of: dict[int, set[str]] = {}
    for name, t in [
        *module.named_parameters(remove_duplicate=False),
        *module.named_buffers(remove_duplicate=False),
    ]:
        names_of.setdefault(id(t), set()).add(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    given = [name for name in tensors if name in tied]
    for name in given:
        names = tied[name]
        values = {id(tensors[n]) for n in names if n in tensors}
        if len(values) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(names)}, which are "
                "tied. Consider using tie_weights=False"
            )
    untied = dict(tensors)
    for name in given:
        for other in tied[name]:
            untied[other] = tensors[name]
    return untied


def _swap(module: Module, name: str, value: Any) -> Any:
    """Put value at the dotted name; return what was there (_MISSING if nothing)."""
    path, _, attr = name.rpartition(".")
    owner = module.get_submodule(path)
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of ember.Tensor")
    for store in (owner._parameters, owner._buffers):
        if attr in store:
            orig = store[attr]
            if value is _MISSING:
                del store[attr]
            else:
                store[attr] = value
            return orig
    orig = getattr(owner, attr, _MISSING)
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{attr}`: {orig} is not an instance of ember.Tensor")
    if value is not _MISSING:
        object.__setattr__(owner, attr, value)
    elif orig is not _MISSING:
        object.__delattr__(owner, attr)
    return orig


@contextlib.contextmanager
def _reparametrize_module(
    module: Module, tensors: dict[str, Any], tie_weights: bool = False, strict: bool = False
) -> Iterator[None]:
    untied = _untie(module, tensors) if tie_weights else tensors
    if strict:
        valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
        valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
        unexpected, missing = sorted(set(untied) - valid), sorted(valid - set(untied))
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError(
                f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(msgs)
            )
    originals: dict[str, Any] = {}
    try:
        for name, value in untied.items():
            originals[name] = _swap(module, name, value)
        yield
    finally:
        current = {name: _swap(module, name, orig) for name, orig in originals.items()}
        # What forward left in the module (a reassigned buffer) goes back to the caller's dict.
        tensors.update({k: current[k] for k in tensors if k in current})


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: dict[str, Tensor] | tuple | list,
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call module with the given tensors in place of its parameters and buffers.

    Mirrors ``torch.func.functional_call`` (and ``torch.nn.utils.stateless.functional_call``).

    Differences from PyTorch: the ``nn.utils.stateless`` spelling does not emit PyTorch's
    deprecation warning.

    Args:
        module: The module to call.
        parameter_and_buffer_dicts: A dict from dotted names (as in ``state_dict``) to Tensors,
            or a tuple/list of such dicts with distinct keys. Names not given keep the
            module's own tensors.
        args: The positional arguments: a tuple, or a single argument.
        kwargs: The keyword arguments.
        tie_weights: Whether a value given for one name of tied tensors replaces them all.
        strict: Whether the names must be exactly the module's parameters and buffers.

    Returns:
        What the module returns.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError(
                "Expected all elements of parameter_and_buffer_dicts to be dictionaries"
            )
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                "ambiguous"
            )
        tensors = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
            f"{type(parameter_and_buffer_dicts)}"
        )
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize_module(module, tensors, tie_weights=tie_weights, strict=strict):
        return module(*args, **(kwargs or {}))
