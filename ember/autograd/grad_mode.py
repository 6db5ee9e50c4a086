"""Grad mode: whether ops record the graph. ``no_grad`` and friends switch it.

The flag lives in a one-slot object read by ``Function.apply`` on every call, so checking it
costs one attribute load.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class _GradMode:
    __slots__ = ("enabled", "inference")

    def __init__(self) -> None:
        self.enabled = True
        self.inference = False  # inside an inference_mode block


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Return whether grad mode is on. Mirrors ``torch.is_grad_enabled``."""
    return grad_mode.enabled


class _GradModeContext:
    """Base of the grad-mode context managers; each also works as a decorator."""

    mode: bool = True

    def __enter__(self) -> None:
        self.prev = grad_mode.enabled
        grad_mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self.prev

    def __call__(self, fn: Callable) -> Callable:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = grad_mode.enabled
            grad_mode.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                grad_mode.enabled = prev

        return wrapper


class no_grad(_GradModeContext):
    """Turn graph recording off inside the block. Mirrors ``torch.no_grad``."""

    mode = False


class enable_grad(_GradModeContext):
    """Turn graph recording on inside the block. Mirrors ``torch.enable_grad``."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode; works as a call, a context manager or a decorator.

    Mirrors ``torch.set_grad_enabled``.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = grad_mode.enabled
        grad_mode.enabled = self.mode  # as a plain call it takes effect at once

    def __enter__(self) -> None:
        grad_mode.enabled = self.mode

    def __call__(self, fn: Callable) -> Callable:
        grad_mode.enabled = self.prev  # used as a decorator: undo the eager switch
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """Turn graph recording off inside the block. Mirrors ``torch.inference_mode``.

    Differences from PyTorch: tensors made inside are ordinary tensors (no inference-tensor
    restrictions); it is ``no_grad`` under another name.
    """

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
        self.inference = bool(mode)

    def __enter__(self) -> None:
        self.prev_inference = grad_mode.inference
        grad_mode.inference = self.inference
        super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        grad_mode.inference = self.prev_inference

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)(self.inference):
                return fn(*args, **kwargs)

        return wrapper
