"""CIFAR10 and CIFAR100 from the "python version" batches, read without running pickled code.

The batches are Python 2 pickles of a dict of str -> bytes/list/ndarray. ``load_batch`` uses
an Unpickler whose ``find_class`` resolves only the three globals a NumPy array needs (its
reconstructor, ``ndarray``, ``dtype``) and latin-1 string encoding; any other global, the way a
malicious pickle would run code, is refused with an error naming the file.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ember.datasets.download import Resource, download_and_extract
from ember.utils.data.dataset import Dataset

__all__ = ["CIFAR10", "CIFAR100", "load_batch"]

_RECONSTRUCT = np.ndarray(0).__reduce__()[0]  # numpy's _reconstruct, whatever its module


def _latin1_encode(obj: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # Python 3 pickles bytes at protocol 2 as _codecs.encode(str, 'latin1').
    if encoding not in ("latin1", "latin-1"):
        raise RefusedGlobal(f"refusing _codecs.encode with encoding {encoding!r}")
    return codecs.encode(obj, "latin1")


ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
}


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle asked for a global outside ALLOWED_GLOBALS."""


class _RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that builds only plain containers, strings, numbers and NumPy arrays."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise RefusedGlobal(
                f"refusing to load global '{module}.{name}': only NumPy arrays, numbers, "
                "strings, lists and dicts are allowed in a dataset batch"
            ) from None


def _check_values(path: Path, value: Any) -> None:
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        raise RuntimeError(f"{path}: object arrays are not allowed in a dataset batch")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_values(path, item)


def load_batch(path: str | os.PathLike) -> dict[str, Any]:
    """Read one CIFAR batch file into a dict, executing no code from the file.

    Keys come back as str (the file's Python 2 strings decoded as latin-1, as torchvision
    does). Raises RuntimeError naming the file if it is truncated, corrupt or not a dict.
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        batch = _RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except RefusedGlobal as err:
        raise RuntimeError(f"{path}: {err}") from None
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
    ) as err:
        raise RuntimeError(f"{path}: truncated or corrupt pickle batch ({err!r})") from None
    if not isinstance(batch, dict):
        raise RuntimeError(f"{path}: expected a dict batch, got {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    for value in batch.values():
        _check_values(path, value)
    return batch


class CIFAR10(Dataset):
    """The CIFAR-10 tiny images (32x32 RGB, 10 classes). Mirrors ``torchvision.datasets.CIFAR10``.

    Reads ``root/cifar-10-batches-py``; ``download=True`` fetches and extracts the archive
    first. ``data`` is a uint8 NumPy array (N, 32, 32, 3) and ``targets`` a list of ints, as in
    torchvision.

    Differences from PyTorch: an item's image is the NumPy uint8 array (32, 32, 3) rather than
    a PIL image (``transforms.ToTensor`` makes it a (3, 32, 32) float tensor); the download is
    checked by SHA-256 instead of MD5; the batches are read without unpickling arbitrary objects.
    """

    base_folder = "cifar-10-batches-py"
    resource = Resource(
        "cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    )
    train_list: ClassVar[list[str]] = [
        "data_batch_1",
        "data_batch_2",
        "data_batch_3",
        "data_batch_4",
        "data_batch_5",
    ]
    test_list: ClassVar[list[str]] = ["test_batch"]
    meta: ClassVar[dict[str, str]] = {"filename": "batches.meta", "key": "label_names"}
    label_key = "labels"

    def __init__(
        self,
        root: str | os.PathLike,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = Path(root)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        folder = self.root / self.base_folder
        if download and not folder.is_dir():
            download_and_extract([self.resource], self.root)
        if not folder.is_dir():
            raise RuntimeError(
                f"Dataset not found or corrupted: no folder {folder}. "
                "You can use download=True to download it"
            )
        data, self.targets = [], []
        for name in self.train_list if train else self.test_list:
            path = folder / name
            if not path.is_file():
                raise RuntimeError(f"Dataset not found or corrupted: {path} is missing")
            batch = load_batch(path)
            images, labels = batch.get("data"), batch.get(self.label_key)
            if not isinstance(images, np.ndarray) or not isinstance(labels, list):
                raise RuntimeError(f"{path}: a batch needs 'data' (array) and '{self.label_key}'")
            if images.ndim != 2 or images.shape[1] != 3072 or len(images) != len(labels):
                raise RuntimeError(
                    f"{path}: expected data of shape (N, 3072) and N labels, got "
                    f"{images.shape} and {len(labels)} labels"
                )
            data.append(images.astype(np.uint8, copy=False))
            self.targets.extend(int(label) for label in labels)
        # (N, 3072) -> (N, 3, 32, 32) -> (N, 32, 32, 3): HWC, as torchvision keeps it
        self.data = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.data = np.ascontiguousarray(self.data)
        meta = load_batch(folder / self.meta["filename"])
        self.classes = [str(name) for name in meta[self.meta["key"]]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.data[index], self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return (
            f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
            f"    Root location: {self.root}\n    Split: {split}"
        )


class CIFAR100(CIFAR10):
    """CIFAR-100 (100 fine classes). Mirrors ``torchvision.datasets.CIFAR100``.

    ``targets`` are the fine labels; ``classes`` the fine label names.
    """

    base_folder = "cifar-100-python"
    resource = Resource(
        "cifar-100-python.tar.gz",
        "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
        ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
    )
    train_list: ClassVar[list[str]] = ["train"]
    test_list: ClassVar[list[str]] = ["test"]
    meta: ClassVar[dict[str, str]] = {"filename": "meta", "key": "fine_label_names"}
    label_key = "fine_labels"
