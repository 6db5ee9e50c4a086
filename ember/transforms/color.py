"""Colour adjustments and erasing on tensor images, with torchvision's blend-and-clamp rules."""

from __future__ import annotations

from ember.backend.dtypes import float32
from ember.ops.creation import zeros_like
from ember.tensor import Tensor
from ember.transforms.image import _check_image

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "erase", "rgb_to_grayscale"]


def _channels(img: Tensor, op: str) -> int:
    _check_image(img, op)
    c = img.shape[-3] if img.ndim >= 3 else 1
    if c not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {c}")
    return c


def _blend(img1: Tensor, img2: Tensor, ratio: float) -> Tensor:
    bound = 1.0 if img1.is_floating_point() else 255.0
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    """Convert RGB to luma 0.2989 R + 0.587 G + 0.114 B. Mirrors ``...rgb_to_grayscale``."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _channels(img, "rgb_to_grayscale") == 1:
        return (
            img.clone()
            if num_output_channels == 1
            else img.expand(*img.shape[:-3], 3, *img.shape[-2:])
        )
    r, g, b = img.unbind(dim=-3)
    gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    return gray.expand(img.shape) if num_output_channels == 3 else gray


def adjust_brightness(img: Tensor, brightness_factor: float) -> Tensor:
    """Scale brightness: blend with black. Mirrors ``torchvision...adjust_brightness``."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _channels(img, "adjust_brightness")
    return _blend(img, zeros_like(img), brightness_factor)


def adjust_contrast(img: Tensor, contrast_factor: float) -> Tensor:
    """Scale contrast: blend with the mean grey level. Mirrors ``...adjust_contrast``."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    c = _channels(img, "adjust_contrast")
    dtype = img.dtype if img.is_floating_point() else float32
    gray = rgb_to_grayscale(img) if c == 3 else img
    mean = gray.to(dtype).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img: Tensor, saturation_factor: float) -> Tensor:
    """Scale saturation: blend with the grayscale image. Mirrors ``...adjust_saturation``."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _channels(img, "adjust_saturation") == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def erase(
    img: Tensor, i: int, j: int, h: int, w: int, v: Tensor | float, inplace: bool = False
) -> Tensor:
    """Set the box at (i, j) of size (h, w) to v. Mirrors ``torchvision...erase``."""
    _check_image(img, "erase")
    if not inplace:
        img = img.clone()
    img[..., i : i + h, j : j + w] = v
    return img
