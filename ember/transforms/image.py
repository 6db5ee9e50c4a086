"""Image transforms as functions: conversion, normalisation, flips, padding, crops, resize.

Every function takes one image (C, H, W) or a batch (N, C, H, W) (any leading dims) and uses
Ember ops, so it runs wherever the tensor lives. Float images are in [0, 1], uint8 in [0, 255];
geometric ops on uint8 compute in float32 and round back, as torchvision's tensor path does.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from ember.backend.dtypes import float32, uint8
from ember.ops.creation import from_numpy, tensor
from ember.ops.interpolation import interpolate
from ember.ops.padding import pad as _pad_constant
from ember.ops.rearrange import flip
from ember.ops.scatter import index_select
from ember.tensor import Tensor

__all__ = [
    "InterpolationMode",
    "center_crop",
    "crop",
    "hflip",
    "normalize",
    "pad",
    "resize",
    "to_tensor",
    "vflip",
]


class InterpolationMode(str, Enum):
    """Interpolation modes. Mirrors ``torchvision.transforms.InterpolationMode``."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


def _check_image(img: Any, op: str) -> None:
    if not isinstance(img, Tensor):
        raise TypeError(f"{op}: img should be a Tensor. Got {type(img).__name__}")
    if img.ndim < 2:
        raise TypeError(f"{op}: tensor is not a torch image: expected >= 2 dims, got {img.ndim}")


def to_tensor(pic: Any) -> Tensor:
    """Convert a NumPy (H, W[, C]) or PIL image to a (C, H, W) tensor. Mirrors ``to_tensor``.

    uint8 becomes float32 in [0, 1] (divided by 255); other dtypes keep their values.
    """
    array = np.asarray(pic)
    if array.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
    if array.ndim == 2:
        array = array[:, :, None]
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))  # (H, W, C) -> (C, H, W)
    if chw.dtype == np.uint8:
        return from_numpy(chw.astype(np.float32) / np.float32(255))
    if chw.dtype == np.bool_:
        chw = chw.astype(np.uint8)  # as torch.from_numpy would keep it: a bool tensor is odd
    return from_numpy(chw)


def normalize(
    tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False
) -> Tensor:
    """Normalise each channel: (x - mean[c]) / std[c]. Mirrors ``torchvision...normalize``."""
    _check_image(tensor, "normalize")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(
            "Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
            f"{tuple(tensor.shape)}"
        )
    dtype = tensor.data.dtype
    mean_a = np.asarray(mean, dtype=dtype).reshape(-1, 1, 1)  # (C,) -> (C, 1, 1)
    std_a = np.asarray(std, dtype=dtype).reshape(-1, 1, 1)
    if (std_a == 0).any():
        raise ValueError(
            f"std evaluated to zero after conversion to {tensor.dtype}, leading to division "
            "by zero."
        )
    if inplace:
        return tensor.sub_(tensor_like(mean_a, tensor)).div_(tensor_like(std_a, tensor))
    return (tensor - tensor_like(mean_a, tensor)) / tensor_like(std_a, tensor)


def tensor_like(array: np.ndarray, like: Tensor) -> Tensor:
    """A constant tensor on ``like``'s device."""
    return tensor(array, device=like.device)


def hflip(img: Tensor) -> Tensor:
    """Flip left to right (the last dim). Mirrors ``torchvision.transforms.functional.hflip``."""
    _check_image(img, "hflip")
    return flip(img, [-1])


def vflip(img: Tensor) -> Tensor:
    """Flip top to bottom (dim -2). Mirrors ``torchvision.transforms.functional.vflip``."""
    _check_image(img, "vflip")
    return flip(img, [-2])


def _pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    p = np.arange(-before, n + after)
    if mode == "edge":
        return np.clip(p, 0, n - 1)
    if mode == "reflect":  # mirror without repeating the edge pixel: period 2n - 2
        if n == 1:
            return np.zeros_like(p)
        q = np.abs(p) % (2 * n - 2)
        return np.where(q >= n, 2 * n - 2 - q, q)
    q = p % (2 * n)  # symmetric: mirror repeating the edge pixel, period 2n
    return np.where(q >= n, 2 * n - 1 - q, q)


def _padding_ltrb(padding: int | Sequence[int]) -> list[int]:
    if isinstance(padding, int):
        return [padding] * 4
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(
        f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple"
    )


def pad(
    img: Tensor, padding: int | Sequence[int], fill: float = 0, padding_mode: str = "constant"
) -> Tensor:
    """Pad the last two dims. Mirrors ``torchvision.transforms.functional.pad``.

    ``padding``: an int (all sides), (left/right, top/bottom) or (left, top, right, bottom);
    ``padding_mode``: 'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.

    Differences from PyTorch: negative padding is not supported.
    """
    _check_image(img, "pad")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _padding_ltrb(padding)
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"pad: negative padding is not supported, got {padding}")
    if padding_mode == "constant":
        return _pad_constant(img, [left, right, top, bottom], value=fill)
    h, w = img.shape[-2:]
    rows = from_numpy(_pad_index(h, top, bottom, padding_mode))
    cols = from_numpy(_pad_index(w, left, right, padding_mode))
    return index_select(index_select(img, -2, rows.to(img.device)), -1, cols.to(img.device))


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """Crop the box at (top, left) of size (height, width); outside the image is zero-padded.

    Mirrors ``torchvision.transforms.functional.crop``.
    """
    _check_image(img, "crop")
    h, w = img.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        ltrb = [
            max(-left + min(0, right), 0),
            max(-top + min(0, bottom), 0),
            max(right - max(w, left), 0),
            max(bottom - max(h, top), 0),
        ]
        inner = img[..., max(top, 0) : bottom, max(left, 0) : right]
        return pad(inner, ltrb, fill=0)
    return img[..., top:bottom, left:right]


def _size_pair(size: int | Sequence[int], name: str = "size") -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    size = tuple(size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return size[0], size[1]


def center_crop(img: Tensor, output_size: int | Sequence[int]) -> Tensor:
    """Crop the center (zero-padding a smaller image). Mirrors ``torchvision...center_crop``."""
    _check_image(img, "center_crop")
    crop_h, crop_w = _size_pair(output_size)
    h, w = img.shape[-2:]
    if crop_w > w or crop_h > h:
        ltrb = [
            (crop_w - w) // 2 if crop_w > w else 0,
            (crop_h - h) // 2 if crop_h > h else 0,
            (crop_w - w + 1) // 2 if crop_w > w else 0,
            (crop_h - h + 1) // 2 if crop_h > h else 0,
        ]
        img = pad(img, ltrb, fill=0)
        h, w = img.shape[-2:]
        if crop_w == w and crop_h == h:
            return img
    top, left = round((h - crop_h) / 2.0), round((w - crop_w) / 2.0)
    return crop(img, top, left, crop_h, crop_w)


def _resized_size(h: int, w: int, size: Sequence[int], max_size: int | None) -> list[int]:
    if len(size) == 2:
        if max_size is not None:
            raise ValueError(
                "max_size should only be passed if size specifies the length of the smaller "
                "edge, i.e. size should be an int or a sequence of length 1 in torchscript mode."
            )
        return [size[0], size[1]]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(
                f"max_size = {max_size} must be strictly greater than the requested size for "
                f"the smaller edge size = {size}"
            )
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def _to_float(img: Tensor) -> tuple[Tensor, Any]:
    """(N, C, H, W) float32/float64 from any (..., C, H, W) image, and how to undo it."""
    lead = tuple(img.shape[:-3]) if img.ndim >= 3 else None
    out = img.reshape(-1, *img.shape[-3:]) if img.ndim >= 3 else img.reshape(1, 1, *img.shape)
    cast = out.dtype not in (float32,) and out.dtype.name != "float64"
    return (out.to(float32) if cast else out), (img.shape, img.dtype if cast else None, lead)


def _from_float(out: Tensor, undo: Any) -> Tensor:
    _, dtype, lead = undo
    if dtype is not None:
        if not dtype.is_floating_point:
            out = out.round()
        out = out.to(dtype)
    if lead is None:
        return out.reshape(out.shape[-2:])
    return out.reshape(*lead, *out.shape[-3:])


def resize(
    img: Tensor,
    size: int | Sequence[int],
    interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
    max_size: int | None = None,
    antialias: bool | None = True,
) -> Tensor:
    """Resize to ``size`` (h, w), or the smaller edge to ``size`` keeping the aspect ratio.

    Mirrors ``torchvision.transforms.functional.resize`` on tensors: ``interpolate`` with
    align_corners=False, antialias for bilinear and bicubic; uint8 is rounded back.
    """
    _check_image(img, "resize")
    mode = InterpolationMode(interpolation).value
    size = [size] if isinstance(size, int) else list(size)
    if len(size) not in (1, 2):
        raise ValueError("If size is a sequence, it should have 1 or 2 values")
    h, w = img.shape[-2:]
    out_size = _resized_size(h, w, size, max_size)
    if [h, w] == out_size:
        return img
    x, undo = _to_float(img)
    antialias = bool(antialias) and mode in ("bilinear", "bicubic")
    align = False if mode in ("bilinear", "bicubic") else None
    x = interpolate(x, size=out_size, mode=mode, align_corners=align, antialias=antialias)
    if mode == "bicubic" and undo[1] == uint8:
        x = x.clamp(0, 255)
    return _from_float(x, undo)
