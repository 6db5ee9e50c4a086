"""What every loss shares: the reduction modes, and PyTorch's legacy size_average/reduce."""

from __future__ import annotations

import warnings
from typing import Any

from ember.ops.reduction import mean, sum
from ember.tensor import Tensor

__all__: list[str] = []


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """Map the deprecated size_average/reduce pair to a reduction, with PyTorch's warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    mode = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{mode}' instead.",
        UserWarning,
        stacklevel=3,
    )
    return mode


def reduction_mode(size_average: Any, reduce: Any, reduction: str, extra: tuple = ()) -> str:
    """The reduction to apply, validated ('none', 'mean', 'sum' and any ``extra`` mode)."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in ("mean", "sum", "none") and reduction not in extra:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    """Reduce an elementwise loss: 'mean', 'sum' or 'none'."""
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss
