"""Image transforms as functions. Mirrors ``torchvision.transforms.functional`` on tensors."""

from ember.transforms.color import (
    adjust_brightness,
    adjust_contrast,
    adjust_saturation,
    erase,
    rgb_to_grayscale,
)
from ember.transforms.geometry import affine, inverse_affine_matrix, rotate
from ember.transforms.image import (
    InterpolationMode,
    center_crop,
    crop,
    hflip,
    normalize,
    pad,
    resize,
    to_tensor,
    vflip,
)

__all__ = [
    "InterpolationMode",
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "affine",
    "center_crop",
    "crop",
    "erase",
    "hflip",
    "inverse_affine_matrix",
    "normalize",
    "pad",
    "resize",
    "rgb_to_grayscale",
    "rotate",
    "to_tensor",
    "vflip",
]
