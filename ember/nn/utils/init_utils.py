"""Build a module without initialising its parameters: ``skip_init``."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

from ember.nn import init
from ember.nn.module import Module

__all__ = ["skip_init"]

_FILLS = [name for name in init.__all__ if name.endswith("_")]


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@contextlib.contextmanager
def _no_init() -> Iterator[None]:
    """Make every ``reset_parameters`` and every ``nn.init`` fill a no-op for a while."""
    saved_init = {name: getattr(init, name) for name in _FILLS}
    saved_reset = [
        (cls, cls.__dict__["reset_parameters"])
        for cls in {Module, *_subclasses(Module)}
        if "reset_parameters" in cls.__dict__
    ]
    try:
        for name in _FILLS:
            setattr(init, name, lambda tensor, *args, **kwargs: tensor)
        for cls, _ in saved_reset:
            cls.reset_parameters = lambda self, *args, **kwargs: None
        yield
    finally:
        for name, fn in saved_init.items():
            setattr(init, name, fn)
        for cls, fn in saved_reset:
            cls.reset_parameters = fn


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Module:
    """Construct module_cls(*args, **kwargs) without initialising its parameters.

    Mirrors ``torch.nn.utils.skip_init``: the parameters are allocated but hold whatever the
    allocation left (``ember.empty``). Differences from PyTorch: there is no meta device, so
    the module is built with every ``reset_parameters`` and ``nn.init`` fill disabled for the
    duration of the call (process-wide, not thread-safe); buffers keep the values their
    constructor gives them (e.g. BatchNorm's running_var of ones).
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    with _no_init():
        return module_cls(*args, **kwargs)
