"""Padding layers: Zero/Constant/Reflection/Replication/CircularPad in 1, 2 and 3 dims.

Each layer stores ``padding`` as a tuple of 2, 4 or 6 ints (last dim first, as ``F.pad``
reads it) and its forward is one call into ``F.pad``. Mirrors ``torch.nn.modules.padding``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.nn import functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = [
    "CircularPad1d",
    "CircularPad2d",
    "CircularPad3d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReflectionPad3d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ReplicationPad3d",
    "ZeroPad1d",
    "ZeroPad2d",
    "ZeroPad3d",
]


def _ntuple(padding: Any, n: int) -> tuple:
    """An int repeated n times, or a sequence as a tuple (as torch's ``_ntuple``)."""
    return tuple(padding) if isinstance(padding, Iterable) else (padding,) * n


class _PadNd(Module):
    """A padding layer: ``padding`` (2 * d ints) and F.pad's mode."""

    _mode = "constant"
    _dim = 1

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self._dim)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pad with a constant value."""

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant. Mirrors ``torch.nn.ConstantPad1d``.

    Shapes: (C, W) or (N, C, W) -> W + left + right; padding is an int or (left, right).
    """


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant. Mirrors ``torch.nn.ConstantPad2d``.

    Shapes: (C, H, W) or (N, C, H, W); padding is an int or (left, right, top, bottom).
    """

    _dim = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant. Mirrors ``torch.nn.ConstantPad3d``.

    Shapes: (C, D, H, W) or (N, C, D, H, W); padding is an int or a 6-tuple.
    """

    _dim = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros. Mirrors ``torch.nn.ZeroPad1d``."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last 2 dims with zeros. Mirrors ``torch.nn.ZeroPad2d``."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last 3 dims with zeros. Mirrors ``torch.nn.ZeroPad3d``."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad the last dim by reflection. Mirrors ``torch.nn.ReflectionPad1d``.

    Shapes: (C, W) or (N, C, W); each pad must be smaller than W.
    """

    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims by reflection. Mirrors ``torch.nn.ReflectionPad2d``.

    Shapes: (C, H, W) or (N, C, H, W); padding is an int or (left, right, top, bottom).
    """

    _mode = "reflect"
    _dim = 2


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims by reflection. Mirrors ``torch.nn.ReflectionPad3d``.

    Shapes: (C, D, H, W) or (N, C, D, H, W); padding is an int or a 6-tuple.
    """

    _mode = "reflect"
    _dim = 3


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating the edge. Mirrors ``torch.nn.ReplicationPad1d``.

    Shapes: (C, W) or (N, C, W); padding is an int or (left, right).
    """

    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims by repeating the edge. Mirrors ``torch.nn.ReplicationPad2d``.

    Shapes: (C, H, W) or (N, C, H, W); padding is an int or (left, right, top, bottom).
    """

    _mode = "replicate"
    _dim = 2


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims by repeating the edge. Mirrors ``torch.nn.ReplicationPad3d``.

    Shapes: (C, D, H, W) or (N, C, D, H, W); padding is an int or a 6-tuple.
    """

    _mode = "replicate"
    _dim = 3


class _CircularPadNd(_PadNd):
    """Pad by wrapping around, after torch's own input-dim check (a ValueError)."""

    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        ndim = input.ndim
        if ndim not in (self._dim + 1, self._dim + 2):
            raise ValueError(
                f"expected {self._dim + 1}D or {self._dim + 2}D input (got {ndim}D input)"
            )
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim circularly. Mirrors ``torch.nn.CircularPad1d``.

    Shapes: (C, W) or (N, C, W); padding is an int or (left, right).
    """


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims circularly. Mirrors ``torch.nn.CircularPad2d``.

    Shapes: (C, H, W) or (N, C, H, W); padding is an int or (left, right, top, bottom).
    """

    _dim = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims circularly. Mirrors ``torch.nn.CircularPad3d``.

    Shapes: (C, D, H, W) or (N, C, D, H, W); padding is an int or a 6-tuple.
    """

    _dim = 3
