"""Pooling layers: max, max-unpool, average, power-average and adaptive, in 1, 2 and 3 dims.

Each layer keeps its arguments as PyTorch's does (some as given, some as tuples, exactly as
``torch.nn`` stores them, so ``repr`` matches) and calls one function of ``F``.
"""

from __future__ import annotations

from typing import Any

from ember.nn import functional as F
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]

_SizeArg = Any  # an int or a tuple of ints


def _tuple(value: _SizeArg, d: int) -> tuple:
    """PyTorch's _single/_pair/_triple: an int repeated d times; a sequence as a tuple."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * d


class _MaxPoolNd(Module):
    """Shared constructor and repr of MaxPool1d/2d/3d."""

    _pool: Any = None

    def __init__(
        self,
        kernel_size: _SizeArg,
        stride: _SizeArg | None = None,
        padding: _SizeArg = 0,
        dilation: _SizeArg = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:
        return type(self)._pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of the last dim. Mirrors ``torch.nn.MaxPool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, L_out); with ``return_indices`` also the indices.
    """

    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows of the last 2 dims. Mirrors ``torch.nn.MaxPool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    """

    _pool = staticmethod(F.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows of the last 3 dims. Mirrors ``torch.nn.MaxPool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).
    """

    _pool = staticmethod(F.max_pool3d)


class _MaxUnpoolNd(Module):
    """Shared constructor and repr of MaxUnpool1d/2d/3d (arguments kept as tuples)."""

    _dims = 0
    _unpool: Any = None

    def __init__(
        self, kernel_size: _SizeArg, stride: _SizeArg | None = None, padding: _SizeArg = 0
    ) -> None:
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self._dims)
        self.stride = _tuple(stride if stride is not None else kernel_size, self._dims)
        self.padding = _tuple(padding, self._dims)

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return type(self)._unpool(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: values at their indices, zeros elsewhere.

    Mirrors ``torch.nn.MaxUnpool1d``; ``forward(input, indices, output_size=None)``.
    """

    _dims = 1
    _unpool = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of MaxPool2d: values at their indices, zeros elsewhere.

    Mirrors ``torch.nn.MaxUnpool2d``; ``forward(input, indices, output_size=None)``.
    """

    _dims = 2
    _unpool = staticmethod(F.max_unpool2d)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d: values at their indices, zeros elsewhere.

    Mirrors ``torch.nn.MaxUnpool3d``; ``forward(input, indices, output_size=None)``.
    """

    _dims = 3
    _unpool = staticmethod(F.max_unpool3d)


class _AvgPoolNd(Module):
    """Shared repr of AvgPool1d/2d/3d."""

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Average over sliding windows of the last dim. Mirrors ``torch.nn.AvgPool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, L_out). Arguments are kept as 1-tuples, as in
    PyTorch.
    """

    def __init__(
        self,
        kernel_size: _SizeArg,
        stride: _SizeArg | None = None,
        padding: _SizeArg = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 1)
        self.stride = _tuple(stride if stride is not None else kernel_size, 1)
        self.padding = _tuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad,
        )  # fmt: skip


class _AvgPool23d(_AvgPoolNd):
    """Shared constructor and forward of AvgPool2d/3d (with ``divisor_override``)."""

    _pool: Any = None

    def __init__(
        self,
        kernel_size: _SizeArg,
        stride: _SizeArg | None = None,
        padding: _SizeArg = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._pool(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip


class AvgPool2d(_AvgPool23d):
    """Average over sliding windows of the last 2 dims. Mirrors ``torch.nn.AvgPool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    """

    _pool = staticmethod(F.avg_pool2d)


class AvgPool3d(_AvgPool23d):
    """Average over sliding windows of the last 3 dims. Mirrors ``torch.nn.AvgPool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).
    """

    _pool = staticmethod(F.avg_pool3d)


class _LPPoolNd(Module):
    """Shared constructor, forward and repr of LPPool1d/2d/3d."""

    _pool: Any = None

    def __init__(
        self,
        norm_type: float,
        kernel_size: _SizeArg,
        stride: _SizeArg | None = None,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._pool(
            input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode
        )

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average (p-norm) over sliding windows of the last dim. Mirrors ``torch.nn.LPPool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, L_out).
    """

    _pool = staticmethod(F.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average over sliding windows of the last 2 dims. Mirrors ``torch.nn.LPPool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    """

    _pool = staticmethod(F.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average over sliding windows of the last 3 dims. Mirrors ``torch.nn.LPPool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out).
    """

    _pool = staticmethod(F.lp_pool3d)


class _AdaptiveMaxPoolNd(Module):
    """Shared constructor, forward and repr of AdaptiveMaxPool1d/2d/3d."""

    _pool: Any = None

    def __init__(self, output_size: _SizeArg, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return type(self)._pool(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows of the last dim. Mirrors ``torch.nn.AdaptiveMaxPool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, output_size).
    """

    _pool = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows of the last 2 dims. Mirrors ``torch.nn.AdaptiveMaxPool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size); None keeps that size.
    """

    _pool = staticmethod(F.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max over adaptive windows of the last 3 dims. Mirrors ``torch.nn.AdaptiveMaxPool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).
    """

    _pool = staticmethod(F.adaptive_max_pool3d)


class _AdaptiveAvgPoolNd(Module):
    """Shared constructor, forward and repr of AdaptiveAvgPool1d/2d/3d."""

    _pool: Any = None

    def __init__(self, output_size: _SizeArg) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average over adaptive windows of the last dim. Mirrors ``torch.nn.AdaptiveAvgPool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, output_size).
    """

    _pool = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average over adaptive windows of the last 2 dims. Mirrors ``torch.nn.AdaptiveAvgPool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size); None keeps that size.
    """

    _pool = staticmethod(F.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average over adaptive windows of the last 3 dims. Mirrors ``torch.nn.AdaptiveAvgPool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).
    """

    _pool = staticmethod(F.adaptive_avg_pool3d)
