"""Transform objects: callables built from the functions. Mirrors ``torchvision.transforms``.

Random transforms draw from ``ember.manual_seed``'s default generator, or from the
``generator`` they are given, so a seed reproduces them. As in torchvision, one call draws one
set of parameters and applies it to the whole input, a batch (N, C, H, W) included.

Differences from PyTorch: the random transforms take a keyword-only ``generator``; the random
stream is Ember's, so the same seed draws different parameters than torch's.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ember.backend.random import Generator, generator_for
from ember.ops.creation import tensor
from ember.tensor import Tensor
from ember.transforms import functional as F
from ember.transforms.image import InterpolationMode, _size_pair

__all__ = [
    "CenterCrop",
    "ColorJitter",
    "Compose",
    "Lambda",
    "Normalize",
    "RandomAffine",
    "RandomCrop",
    "RandomErasing",
    "RandomHorizontalFlip",
    "RandomRotation",
    "RandomVerticalFlip",
    "Resize",
    "ToTensor",
]


class Compose:
    """Apply transforms one after another. Mirrors ``torchvision.transforms.Compose``."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class ToTensor:
    """Convert a NumPy HWC image (uint8 -> [0, 1] float32) to CHW. Mirrors ``ToTensor``."""

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return "ToTensor()"


class Lambda:
    """Wrap a function as a transform. Mirrors ``torchvision.transforms.Lambda``."""

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return "Lambda()"


class Normalize:
    """Normalise each channel with mean and std. Mirrors ``torchvision.transforms.Normalize``."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Resize:
    """Resize to (h, w), or the smaller edge to ``size``. Mirrors ``transforms.Resize``."""

    def __init__(
        self,
        size: int | Sequence[int],
        interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
        max_size: int | None = None,
        antialias: bool | None = True,
    ) -> None:
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = InterpolationMode(interpolation)

    def __call__(self, img: Tensor) -> Tensor:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (
            f"Resize(size={self.size}, interpolation={self.interpolation.value}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )


class CenterCrop:
    """Crop the centre. Mirrors ``torchvision.transforms.CenterCrop``."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _size_pair(size)

    def __call__(self, img: Tensor) -> Tensor:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"CenterCrop(size={self.size})"


class _Random:
    """Base of the random transforms: where their numbers come from."""

    generator: Generator | None = None

    def _uniform(self, low: float, high: float) -> float:
        return float(low + (high - low) * generator_for(self.generator).random())

    def _randint(self, low: int, high: int) -> int:
        return int(generator_for(self.generator).integers(low, high))

    def _coin(self, p: float) -> bool:
        return bool(generator_for(self.generator).random() < p)


class RandomCrop(_Random):
    """Crop a random (h, w) box, after optional padding. Mirrors ``transforms.RandomCrop``."""

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        pad_if_needed: bool = False,
        fill: float = 0,
        padding_mode: str = "constant",
        *,
        generator: Generator | None = None,
    ) -> None:
        self.size = _size_pair(size)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode, self.generator = fill, padding_mode, generator

    def get_params(self, img: Tensor, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """Draw (top, left, height, width) for a crop of output_size."""
        h, w = img.shape[-2:]
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(
                f"Required crop size {(th, tw)} is larger than input image size {(h, w)}"
            )
        if w == tw and h == th:
            return 0, 0, h, w
        return self._randint(0, h - th + 1), self._randint(0, w - tw + 1), th, tw

    def __call__(self, img: Tensor) -> Tensor:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        h, w = img.shape[-2:]
        if self.pad_if_needed and w < self.size[1]:
            img = F.pad(img, [self.size[1] - w, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and h < self.size[0]:
            img = F.pad(img, [0, self.size[0] - h], self.fill, self.padding_mode)
        return F.crop(img, *self.get_params(img, self.size))

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(_Random):
    """Flip left-right with probability p. Mirrors ``transforms.RandomHorizontalFlip``."""

    def __init__(self, p: float = 0.5, *, generator: Generator | None = None) -> None:
        self.p, self.generator = p, generator

    def __call__(self, img: Tensor) -> Tensor:
        return F.hflip(img) if self._coin(self.p) else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Flip top-bottom with probability p. Mirrors ``transforms.RandomVerticalFlip``."""

    def __call__(self, img: Tensor) -> Tensor:
        return F.vflip(img) if self._coin(self.p) else img


def _range(value: float | Sequence[float], name: str, center: float = 0.0) -> tuple[float, float]:
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        return center - float(value), center + float(value)
    if len(value) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return float(value[0]), float(value[1])


class RandomRotation(_Random):
    """Rotate by an angle drawn from ``degrees``. Mirrors ``transforms.RandomRotation``."""

    def __init__(
        self,
        degrees: float | Sequence[float],
        interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
        expand: bool = False,
        center: Sequence[int] | None = None,
        fill: float | Sequence[float] = 0,
        *,
        generator: Generator | None = None,
    ) -> None:
        self.degrees = _range(degrees, "degrees")
        self.interpolation = InterpolationMode(interpolation)
        self.expand, self.center, self.fill, self.generator = expand, center, fill, generator

    def __call__(self, img: Tensor) -> Tensor:
        angle = self._uniform(*self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self) -> str:
        return (
            f"RandomRotation(degrees={list(self.degrees)}, interpolation="
            f"{self.interpolation.value}, expand={self.expand}, fill={self.fill})"
        )


class RandomAffine(_Random):
    """Random rotation, translation, scale and shear. Mirrors ``transforms.RandomAffine``."""

    def __init__(
        self,
        degrees: float | Sequence[float],
        translate: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        shear: float | Sequence[float] | None = None,
        interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
        fill: float | Sequence[float] = 0,
        center: Sequence[int] | None = None,
        *,
        generator: Generator | None = None,
    ) -> None:
        self.degrees = _range(degrees, "degrees")
        if translate is not None and not all(0.0 <= t <= 1.0 for t in translate):
            raise ValueError("translation values should be between 0 and 1")
        if scale is not None and any(s <= 0 for s in scale):
            raise ValueError("scale values should be positive")
        if shear is not None and not isinstance(shear, numbers.Number) and len(shear) == 4:
            self.shear = tuple(float(s) for s in shear)
        else:
            self.shear = None if shear is None else _range(shear, "shear")
        self.translate, self.scale = translate, scale
        self.interpolation = InterpolationMode(interpolation)
        self.fill, self.center, self.generator = fill, center, generator

    def get_params(self, img_size: Sequence[int]) -> tuple:
        """Draw (angle, (tx, ty), scale, (shear_x, shear_y)) for an image of (width, height)."""
        angle = self._uniform(*self.degrees)
        tx = ty = 0
        if self.translate is not None:
            max_dx, max_dy = self.translate[0] * img_size[0], self.translate[1] * img_size[1]
            tx = round(self._uniform(-max_dx, max_dx))
            ty = round(self._uniform(-max_dy, max_dy))
        scale = 1.0 if self.scale is None else self._uniform(*self.scale)
        shear_x = shear_y = 0.0
        if self.shear is not None:
            shear_x = self._uniform(self.shear[0], self.shear[1])
            if len(self.shear) == 4:
                shear_y = self._uniform(self.shear[2], self.shear[3])
        return angle, (tx, ty), scale, (shear_x, shear_y)

    def __call__(self, img: Tensor) -> Tensor:
        angle, translate, scale, shear = self.get_params([img.shape[-1], img.shape[-2]])
        return F.affine(
            img, angle, translate, scale, shear, self.interpolation, self.fill, self.center
        )

    def __repr__(self) -> str:
        return (
            f"RandomAffine(degrees={list(self.degrees)}, translate={self.translate}, "
            f"scale={self.scale}, shear={self.shear})"
        )


def _factor(value: float | Sequence[float], name: str, hue: bool = False) -> tuple | None:
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        low, high = (-value, value) if hue else (max(0.0, 1.0 - value), 1.0 + value)
    elif len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    bound = (-0.5, 0.5) if hue else (0.0, math.inf)
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {[low, high]}.")
    center = 0.0 if hue else 1.0
    return None if low == high == center else (low, high)


class ColorJitter(_Random):
    """Randomly change brightness, contrast and saturation. Mirrors ``transforms.ColorJitter``.

    Differences from PyTorch: hue jitter is not implemented (a non-zero ``hue`` raises).
    """

    def __init__(
        self,
        brightness: float | Sequence[float] = 0,
        contrast: float | Sequence[float] = 0,
        saturation: float | Sequence[float] = 0,
        hue: float | Sequence[float] = 0,
        *,
        generator: Generator | None = None,
    ) -> None:
        self.brightness = _factor(brightness, "brightness")
        self.contrast = _factor(contrast, "contrast")
        self.saturation = _factor(saturation, "saturation")
        self.hue = _factor(hue, "hue", hue=True)
        if self.hue is not None:
            raise NotImplementedError("ColorJitter: hue jitter is not implemented in Ember")
        self.generator = generator

    def __call__(self, img: Tensor) -> Tensor:
        order = generator_for(self.generator).permutation(4)
        factors = [None if r is None else self._uniform(*r) for r in
                   (self.brightness, self.contrast, self.saturation)]  # fmt: skip
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation)
        for i in order:
            if i < 3 and factors[i] is not None:
                img = adjust[i](img, factors[i])
        return img

    def __repr__(self) -> str:
        return (
            f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
            f"saturation={self.saturation}, hue={self.hue})"
        )


class RandomErasing(_Random):
    """Erase a random rectangle with probability p. Mirrors ``transforms.RandomErasing``.

    ``value``: a number, one per channel, or 'random' (standard normal noise).
    """

    def __init__(
        self,
        p: float = 0.5,
        scale: Sequence[float] = (0.02, 0.33),
        ratio: Sequence[float] = (0.3, 3.3),
        value: float | Sequence[float] | str = 0,
        inplace: bool = False,
        *,
        generator: Generator | None = None,
    ) -> None:
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value = p, scale, ratio, value
        self.inplace, self.generator = inplace, generator

    def get_params(self, img: Tensor, value: list[float] | None) -> tuple:
        """Draw (i, j, h, w, v); up to 10 tries, else the whole image unchanged."""
        c, img_h, img_w = img.shape[-3:]
        area = img_h * img_w
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            erase_area = area * self._uniform(self.scale[0], self.scale[1])
            aspect = math.exp(self._uniform(*log_ratio))
            h = round(math.sqrt(erase_area * aspect))
            w = round(math.sqrt(erase_area / aspect))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                noise = generator_for(self.generator).standard_normal((c, h, w), np.float32)
                v = tensor(noise.astype(img.data.dtype), device=img.device)
            else:
                v = tensor(np.asarray(value, img.data.dtype)[:, None, None], device=img.device)
            return self._randint(0, img_h - h + 1), self._randint(0, img_w - w + 1), h, w, v
        return 0, 0, img_h, img_w, img

    def __call__(self, img: Tensor) -> Tensor:
        if not self._coin(self.p):
            return img
        if isinstance(self.value, numbers.Number):
            value = [float(self.value)]
        elif isinstance(self.value, str):
            value = None
        else:
            value = [float(v) for v in self.value]
        if value is not None and len(value) not in (1, img.shape[-3]):
            raise ValueError(
                "If value is a sequence, it should have either a single value or "
                f"{img.shape[-3]} (number of input channels)"
            )
        i, j, h, w, v = self.get_params(img, value)
        return F.erase(img, i, j, h, w, v, self.inplace)

    def __repr__(self) -> str:
        return (
            f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
            f"value={self.value}, inplace={self.inplace})"
        )
