"""ImageFolder: images sorted into one folder per class, read through Pillow (extra: images)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ember.utils.data.dataset import Dataset

__all__ = ["IMG_EXTENSIONS", "DatasetFolder", "ImageFolder", "default_loader", "pil_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an RGB uint8 NumPy array (H, W, 3) through Pillow.

    Differences from PyTorch: torchvision's loader returns the PIL image itself.
    """
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "ember.datasets.ImageFolder reads images with Pillow, which is not installed: "
            "pip install ember[images]"
        ) from None
    with open(path, "rb") as f, Image.open(f) as image:
        return np.asarray(image.convert("RGB"))


default_loader = pil_loader


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """Return the sorted class folder names in ``directory`` and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


class DatasetFolder(Dataset):
    """Samples as ``root/<class>/**/<file>``. Mirrors ``torchvision.datasets.DatasetFolder``.

    Classes are the sorted sub-folder names; ``samples`` lists (path, class index) in sorted
    order; ``targets`` the class indices.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        loader: Callable[[str], Any],
        extensions: tuple[str, ...] | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        is_valid_file: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> None:
        if (extensions is None) == (is_valid_file is None):
            raise ValueError(
                "Both extensions and is_valid_file cannot be None or not None at the same time"
            )
        self.root = Path(root)
        self.loader, self.extensions = loader, extensions
        self.transform, self.target_transform = transform, target_transform
        self.classes, self.class_to_idx = find_classes(self.root)
        if is_valid_file is None:
            lowered = tuple(ext.lower() for ext in extensions)
            is_valid_file = lambda path: path.lower().endswith(lowered)  # noqa: E731
        self.samples = []
        empty = []
        for name in self.classes:
            found = [
                (os.path.join(folder, file), self.class_to_idx[name])
                for folder, _, files in sorted(os.walk(self.root / name, followlinks=True))
                for file in sorted(files)
                if is_valid_file(os.path.join(folder, file))
            ]
            if not found:
                empty.append(name)
            self.samples.extend(found)
        if empty and not allow_empty:
            message = f"Found no valid file for the classes {', '.join(empty)}. "
            if extensions is not None:
                message += f"Supported extensions are: {', '.join(extensions)}"
            raise FileNotFoundError(message)
        self.targets = [target for _, target in self.samples]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self) -> int:
        return len(self.samples)


class ImageFolder(DatasetFolder):
    """Images arranged as ``root/<class>/<image>``. Mirrors ``torchvision.datasets.ImageFolder``.

    Needs Pillow (``pip install ember[images]``).

    Differences from PyTorch: an item's image is an RGB uint8 NumPy array (H, W, 3) rather than
    a PIL image (``transforms.ToTensor`` makes it a (3, H, W) float tensor).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        loader: Callable[[str], Any] = default_loader,
        is_valid_file: Callable[[str], bool] | None = None,
        allow_empty: bool = False,
    ) -> None:
        super().__init__(
            root,
            loader,
            IMG_EXTENSIONS if is_valid_file is None else None,
            transform,
            target_transform,
            is_valid_file,
            allow_empty,
        )
        self.imgs = self.samples
