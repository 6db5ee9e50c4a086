"""Fractional max pooling layers: FractionalMaxPool2d and FractionalMaxPool3d."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ember.nn.module import Module
from ember.ops.fractional_pooling import fractional_max_pool2d, fractional_max_pool3d
from ember.tensor import Tensor

__all__ = ["FractionalMaxPool2d", "FractionalMaxPool3d"]


def _ntuple(value: Any, n: int) -> tuple:
    return tuple(value) if isinstance(value, Iterable) else (value,) * n


class _FractionalMaxPoolNd(Module):
    """Arguments, checks and the ``_random_samples`` buffer shared by both layers."""

    _dim = 2

    def __init__(
        self,
        kernel_size: Any,
        output_size: Any = None,
        output_ratio: Any = None,
        return_indices: bool = False,
        _random_samples: Tensor | None = None,
    ) -> None:
        super().__init__()
        d = self._dim
        self.kernel_size = _ntuple(kernel_size, d)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _ntuple(output_size, d) if output_size is not None else None
        self.output_ratio = _ntuple(output_ratio, d) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{type(self).__name__} requires specifying either an output size, or a "
                "pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        pool = fractional_max_pool2d if self._dim == 2 else fractional_max_pool3d
        return pool(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max-pool 2 dims over random windows. Mirrors ``torch.nn.FractionalMaxPool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size); output_size or output_ratio
    (in (0, 1)) fixes the output plane. ``_random_samples`` (N, C, 2), if given, is a buffer
    that fixes the windows; otherwise each call draws new ones from Ember's generator.
    """


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Max-pool 3 dims over random windows. Mirrors ``torch.nn.FractionalMaxPool3d``.

    Shapes: (N, C, T, H, W) or (C, T, H, W) -> (N, C, *output_size). See FractionalMaxPool2d.
    """

    _dim = 3
