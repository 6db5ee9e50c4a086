"""MNIST, FashionMNIST and KMNIST: 28x28 grayscale digits from IDX files (gzip or not).

The IDX format (LeCun's): two zero bytes, a type code, the number of dims, then each dim as a
big-endian int32, then the values in big-endian order. ``read_idx`` checks all of it and names
the file in every error.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ember.datasets.download import Resource, download_resource
from ember.ops.creation import from_numpy
from ember.utils.data.dataset import Dataset

__all__ = ["KMNIST", "MNIST", "FashionMNIST", "read_idx"]

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != b"\x1f\x8b":  # not gzip
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise RuntimeError(f"{path}: corrupt or truncated gzip file ({err})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into a NumPy array of its type and shape.

    Raises RuntimeError naming the file if the header is invalid or the data is truncated.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_TYPES:
        raise RuntimeError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = np.dtype(IDX_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">i4", ndim, 4))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise RuntimeError(
            f"{path}: IDX shape {shape} needs {expected} bytes of data, found {len(raw) - header}"
            " (truncated or corrupt file)"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class MNIST(Dataset):
    """The MNIST handwritten digits. Mirrors ``torchvision.datasets.MNIST``.

    Files are looked up (and downloaded, with ``download=True``) in ``root/<ClassName>/raw``,
    with or without the ``.gz`` suffix. ``data`` is a uint8 Tensor (N, 28, 28) and
    ``targets`` an int64 Tensor (N,).

    Differences from PyTorch: an item's image is a NumPy uint8 array (28, 28) rather than a
    PIL image (``transforms.ToTensor`` turns it into a (1, 28, 28) float tensor); downloads are
    checked by SHA-256 instead of MD5.
    """

    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    # SHA-256 of the published files, as other public loaders list them; a mismatch stops it.
    resources = (
        ("train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),  # noqa: E501
        ("train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),  # noqa: E501
        ("t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),  # noqa: E501
        ("t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),  # noqa: E501
    )  # fmt: skip
    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]  # fmt: skip

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
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise RuntimeError(
                f"{self.raw_folder}: images {images.shape} and labels {labels.shape} do not match"
            )
        self.data = from_numpy(np.ascontiguousarray(images, dtype=np.uint8))
        self.targets = from_numpy(labels.astype(np.int64))

    @property
    def raw_folder(self) -> Path:
        """The folder holding the IDX files."""
        return self.root / type(self).__name__ / "raw"

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Map each class name to its index."""
        return {name: i for i, name in enumerate(self.classes)}

    def _find(self, stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (self.raw_folder / name).is_file():
                return self.raw_folder / name
        raise RuntimeError(
            f"Dataset not found: no {stem}[.gz] in {self.raw_folder}. "
            "You can use download=True to download it"
        )

    def download(self) -> None:
        """Download the four IDX files into ``raw_folder`` (skipping those already there)."""
        for filename, sha256 in self.resources:
            if (self.raw_folder / filename.removesuffix(".gz")).is_file():
                continue
            urls = tuple(mirror + filename for mirror in self.mirrors)
            download_resource(Resource(filename, sha256, urls), self.raw_folder)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.data.data[index], int(self.targets.data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(self.data.data)

    def extra_repr(self) -> str:
        """Describe the split, as torchvision's repr does."""
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}"]
        lines.append(self.extra_repr())
        if self.transform is not None:
            lines.append(f"Transforms: {self.transform!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + line for line in lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST clothing images. Mirrors ``torchvision.datasets.FashionMNIST``."""

    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = (
        ("train-images-idx3-ubyte.gz", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),  # noqa: E501
        ("train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),  # noqa: E501
        ("t10k-images-idx3-ubyte.gz", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),  # noqa: E501
        ("t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),  # noqa: E501
    )  # fmt: skip
    classes: ClassVar[list[str]] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip


class KMNIST(MNIST):
    """Kuzushiji-MNIST cursive Japanese characters. Mirrors ``torchvision.datasets.KMNIST``."""

    mirrors = ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)
    resources = (
        ("train-images-idx3-ubyte.gz", "51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4"),  # noqa: E501
        ("train-labels-idx1-ubyte.gz", "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17"),  # noqa: E501
        ("t10k-images-idx3-ubyte.gz", "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5"),  # noqa: E501
        ("t10k-labels-idx1-ubyte.gz", "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"),  # noqa: E501
    )  # fmt: skip
    classes: ClassVar[list[str]] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
