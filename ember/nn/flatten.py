"""Identity, Flatten and Unflatten: shape-only layers for use in Sequential."""

from __future__ import annotations

from typing import Any

from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["Flatten", "Identity", "Unflatten"]


class Identity(Module):
    """Return the input unchanged, ignoring constructor arguments. Mirrors ``torch.nn.Identity``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one. Mirrors ``torch.nn.Flatten``.

    Shapes: (*, S_start, ..., S_end, *) -> (*, S_start * ... * S_end, *).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim into unflattened_size. Mirrors ``torch.nn.Unflatten``.

    Shapes: (*, S_dim, *) -> (*, U_1, ..., U_n, *) with U_1 * ... * U_n = S_dim (one U may be -1).
    """

    def __init__(self, dim: int, unflattened_size: Any) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(
                "unflattened_size must be a tuple of ints, but found type "
                f"{type(unflattened_size).__name__}"
            )
        for idx, elem in enumerate(unflattened_size):
            if not isinstance(elem, int):
                raise TypeError(
                    "unflattened_size must be tuple of ints, but found element of type "
                    f"{type(elem).__name__} at pos {idx}"
                )
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
