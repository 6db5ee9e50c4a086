"""CSVDataset: a table of feature and target columns, with normalisation statistics.

Statistics (per-feature mean and standard deviation) are computed on the training split and
must be reused, unchanged, for validation, test and inference; they are saved as JSON beside
the model so that a deployed model normalises its inputs exactly as it was trained::

    train = CSVDataset("train.csv", target_columns="label")
    train.stats.save("model.stats.json")
    test = CSVDataset("test.csv", target_columns="label", stats="model.stats.json")
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ember.backend.dtypes import DType, float32
from ember.ops.creation import from_numpy
from ember.tensor import Tensor
from ember.utils.data.dataset import Dataset

__all__ = ["CSVDataset", "NormalizationStats", "atomic_write_text"]


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write text to a temporary file in the same folder, fsync it, then rename it over path."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


@dataclass
class NormalizationStats:
    """Per-column mean and standard deviation; ``apply`` maps x to (x - mean) / std."""

    columns: list[str]
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, columns: Sequence[str], values: np.ndarray) -> NormalizationStats:
        """Compute the statistics of values (N, F); a constant column gets std 1."""
        mean = values.mean(axis=0, dtype=np.float64)
        std = values.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0
        return cls(list(columns), mean.tolist(), std.tolist())

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Normalise values (N, F) whose columns are self.columns, keeping their dtype."""
        mean = np.asarray(self.mean, dtype=values.dtype)
        return (values - mean) / np.asarray(self.std, dtype=values.dtype)

    def save(self, path: str | os.PathLike) -> None:
        """Write the statistics as JSON, atomically."""
        record = {"columns": self.columns, "mean": self.mean, "std": self.std}
        atomic_write_text(path, json.dumps(record, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> NormalizationStats:
        """Read statistics written by ``save``; a malformed file raises ValueError naming it."""
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
            stats = cls(list(record["columns"]), list(record["mean"]), list(record["std"]))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a normalisation statistics file ({err!r})") from None
        if not len(stats.columns) == len(stats.mean) == len(stats.std):
            raise ValueError(f"{path}: columns, mean and std have different lengths")
        return stats


def _as_list(columns: str | Sequence[str] | None) -> list[str] | None:
    return [columns] if isinstance(columns, str) else None if columns is None else list(columns)


def _parse(path: Path, rows: list[list[str]], header: list[str], column: str) -> np.ndarray:
    index = header.index(column)
    try:
        return np.array([float(row[index]) for row in rows], dtype=np.float64)
    except ValueError as err:
        line = next(i for i, row in enumerate(rows) if not _is_number(row[index])) + 2
        raise ValueError(f"{path}, line {line}, column {column!r}: {err}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class CSVDataset(Dataset):
    """Rows of a CSV file with a header: (features, target) pairs as Tensors.

    Args:
        path: the CSV file (first line: column names).
        target_columns: the target column name(s). A non-numeric target column becomes class
            indices into ``classes`` (sorted labels); an integer-valued one gives int64
            targets, any other float32; ``target_dtype`` overrides this.
        feature_columns: the feature columns (default: all the others), read as float32.
        normalize: whether to normalise the features.
        stats: normalisation statistics to use (a NormalizationStats or the path of a JSON
            file from ``stats.save``); None computes them from this file (the training split).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        target_columns: str | Sequence[str],
        feature_columns: Sequence[str] | None = None,
        normalize: bool = True,
        stats: NormalizationStats | str | os.PathLike | None = None,
        delimiter: str = ",",
        target_dtype: DType | None = None,
    ) -> None:
        self.path = Path(path)
        with open(self.path, newline="", encoding="utf-8") as f:
            header, *rows = list(csv.reader(f, delimiter=delimiter))
        targets, features = _as_list(target_columns), _as_list(feature_columns)
        features = features or [c for c in header if c not in targets]
        missing = [c for c in targets + features if c not in header]
        if missing:
            raise ValueError(f"{self.path}: no column(s) {missing}; the header has {header}")
        for i, row in enumerate(rows):
            if len(row) != len(header):
                raise ValueError(
                    f"{self.path}, line {i + 2}: {len(row)} fields, the header has {len(header)}"
                )
        self.feature_columns, self.target_columns = features, targets
        values = np.stack([_parse(self.path, rows, header, c) for c in features], axis=1)
        values = values.astype(np.float32)
        if normalize:
            if stats is None:
                stats = NormalizationStats.fit(features, values)
            elif not isinstance(stats, NormalizationStats):
                stats = NormalizationStats.load(stats)
            if stats.columns != features:
                raise ValueError(
                    f"normalisation statistics are for columns {stats.columns}, "
                    f"this dataset has features {features}"
                )
            values = stats.apply(values)
        self.stats = stats if normalize else None
        self.features = from_numpy(np.ascontiguousarray(values, dtype=np.float32))
        self.classes: list[str] | None = None
        self.targets = self._targets(rows, header, targets, target_dtype)

    def _targets(
        self, rows: list, header: list[str], targets: list[str], dtype: DType | None
    ) -> Tensor:
        columns = [[row[header.index(c)] for row in rows] for c in targets]
        if len(targets) == 1 and not all(_is_number(v) for v in columns[0]):
            self.classes = sorted(set(columns[0]))
            index = {label: i for i, label in enumerate(self.classes)}
            return from_numpy(np.array([index[v] for v in columns[0]], dtype=np.int64))
        values = np.stack([_parse(self.path, rows, header, c) for c in targets], axis=1)
        if len(targets) == 1:
            values = values[:, 0]
        if dtype is None:
            dtype_np = np.int64 if np.all(values == np.round(values)) else float32.np
        else:
            dtype_np = dtype.np
        return from_numpy(np.ascontiguousarray(values.astype(dtype_np)))

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.features[index], self.targets[index]

    def __len__(self) -> int:
        return self.features.shape[0]
