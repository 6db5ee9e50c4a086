"""Anomaly detection for the backward pass. Mirrors ``torch.autograd.anomaly_mode``.

When on, every recorded node keeps the stack of the forward call that created it
(``traceback.format_stack``); if that node's backward raises, a UserWarning carrying the
forward stack is emitted before the error propagates. With ``check_nan`` a node whose backward
returns NaN raises ``RuntimeError("Function 'MulBackward0' returned nan values in its 0th
output.")``. The switches are plain module globals of ``function`` and ``engine``, so the cost
when off is one global load per recorded op and per backward step.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from ember.autograd import engine as _engine
from ember.autograd import function as _function

__all__ = [
    "detect_anomaly",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "set_anomaly_enabled",
    "set_detect_anomaly",
]


def is_anomaly_enabled() -> bool:
    """Return whether anomaly detection is on. Mirrors ``torch.is_anomaly_enabled``."""
    return _function._anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Return whether anomaly detection checks for NaN gradients.

    Mirrors ``torch.is_anomaly_check_nan_enabled``.
    """
    return _engine._check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Switch anomaly detection on or off for good. Mirrors ``torch.set_anomaly_enabled``.

    Args:
        enabled: Turn anomaly detection on (True) or off (False).
        check_nan: Raise when a backward returns NaN values.
    """
    _function._anomaly = _engine._anomaly = bool(enabled)
    _engine._check_nan = bool(check_nan)


_set_anomaly_enabled = set_anomaly_enabled


class _AnomalyContext:
    """Shared enter/exit/decorator logic: restores the previous mode on exit."""

    mode: bool = True
    check_nan: bool = True

    def __enter__(self) -> None:
        self.prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        _set_anomaly_enabled(self.mode, self.check_nan)

    def __exit__(self, *exc: object) -> None:
        _set_anomaly_enabled(*self.prev)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
            _set_anomaly_enabled(self.mode, self.check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_anomaly_enabled(*prev)

        return wrapper


class detect_anomaly(_AnomalyContext):
    """Enable anomaly detection inside the block. Mirrors ``torch.autograd.detect_anomaly``.

    Nodes created in the block remember their forward stack; a backward error is preceded by
    a UserWarning "Error detected in <node>. Traceback of forward call that caused the
    error: ...", and with ``check_nan`` NaN gradients raise RuntimeError. Warns on creation,
    as PyTorch does, since it slows every op down.

    Differences from PyTorch: it also works as a decorator (PyTorch's object is not callable),
    and the failing node is named with Ember's node names (``FBackward0``).

    Args:
        check_nan: Raise when a backward returns NaN values.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = bool(check_nan)
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            UserWarning,
            stacklevel=2,
        )


class set_detect_anomaly(_AnomalyContext):
    """Set anomaly detection on or off; a call, a context manager or a decorator.

    Mirrors ``torch.autograd.set_detect_anomaly``: as a plain call the setting takes effect at
    once; leaving the ``with`` block restores the previous one.

    Args:
        mode: Turn anomaly detection on (True) or off (False).
        check_nan: Raise when a backward returns NaN values.
    """

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        self.prev = (is_anomaly_enabled(), is_anomaly_check_nan_enabled())
        _set_anomaly_enabled(self.mode, self.check_nan)

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        _set_anomaly_enabled(*self.prev)  # used as a decorator: undo the eager switch
        return super().__call__(fn)
