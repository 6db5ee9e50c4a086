"""Moving tensors between devices, differentiably. Mirrors ``torch.Tensor.to(device)``."""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, as_device, device_of, module_for
from ember.tensor import Tensor

__all__ = ["to_device"]


class ToDevice(Function):
    """x copied to another device; the gradient is copied back."""

    @staticmethod
    def forward(ctx: Context, x: Array, device: Any) -> Array:
        ctx.source = device_of(x)
        return module_for(device).asarray(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return to_device(grad, ctx.source), None


def to_device(input: Tensor, device: Any) -> Tensor:
    """Return input on device (itself when already there). Mirrors ``torch.Tensor.to(device)``."""
    device = as_device(device)
    if device == input.device:
        return input
    module_for(device)  # raises a clear error for a backend that is not available
    return ToDevice.apply(input, device)
