"""Datasets: map-style and iterable, and the wrappers that combine and split them.

Mirrors ``torch.utils.data.dataset``. A map-style dataset answers ``dataset[i]`` and ``len``;
an iterable one yields samples. ``TensorDataset`` and ``StackDataset`` also answer
``__getitems__(indices)`` with a whole batch at once, which the DataLoader prefers.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ember.backend import array_module
from ember.backend.random import Generator, default_generator, generator_for
from ember.tensor import Tensor

__all__ = [
    "ChainDataset",
    "ConcatDataset",
    "Dataset",
    "IterableDataset",
    "StackDataset",
    "Subset",
    "TensorDataset",
    "random_split",
]


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` (and usually ``__len__``).

    Mirrors ``torch.utils.data.Dataset``; ``a + b`` concatenates two datasets.
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that yields its samples from ``__iter__``.

    Mirrors ``torch.utils.data.IterableDataset``.

    With ``num_workers > 0`` every worker iterates its own copy; use ``get_worker_info`` in
    ``__iter__`` to give each worker a distinct share, as in PyTorch.
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


class _StackedSamples(Sequence):
    """A batch fetched at once: the columns already stacked, samples on demand.

    ``default_collate`` returns the columns as they are (one fancy index per tensor instead
    of one ``__getitem__`` and one stack per sample); any other collate_fn sees an ordinary
    sequence of per-sample tuples.
    """

    __slots__ = ("columns",)

    def __init__(self, columns: tuple[Tensor, ...]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return self.columns[0].data.shape[0]

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return tuple(Tensor(c.data[i]) for c in self.columns)


def _take_rows(tensor: Tensor, indices: Sequence[int]) -> Tensor:
    """Rows ``indices`` of tensor in one gather (differentiable when tensor requires grad)."""
    data = tensor.data
    index = array_module(data).asarray(indices, dtype=np.int64)
    if tensor.requires_grad:
        return tensor[Tensor(index)]
    return Tensor(data.take(index, axis=0) if data.ndim == 1 else data[index])


class TensorDataset(Dataset):
    """Wrap tensors that share their first dim; sample i is ``(t[i] for t in tensors)``.

    Mirrors ``torch.utils.data.TensorDataset``.
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: Sequence[int]) -> _StackedSamples:
        """Return the samples at ``indices`` at once (one gather per tensor)."""
        n = self.tensors[0].size(0)
        for i in indices:
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension 0 with size {n}")
        return _StackedSamples(tuple(_take_rows(t, indices) for t in self.tensors))

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Zip datasets of equal length into tuples (positional) or dicts (keyword).

    Mirrors ``torch.utils.data.StackDataset``.
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) "
                    "like input/output, but both types are given."
                )
            self._length = len(args[0])
            if any(self._length != len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets: Any = args
        elif kwargs:
            tmp = list(kwargs.values())
            self._length = len(tmp[0])
            if any(self._length != len(dataset) for dataset in tmp):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list) -> list:
        """Return the samples at ``indices``, using each dataset's ``__getitems__`` if any."""
        named = isinstance(self.datasets, dict)
        items = self.datasets.items() if named else enumerate(self.datasets)
        out: list[Any] = [{} if named else [] for _ in indices]
        for key, dataset in items:
            if callable(getattr(dataset, "__getitems__", None)):
                samples = dataset.__getitems__(indices)
                if len(samples) != len(indices):
                    raise ValueError(
                        "Nested dataset's output size mismatch. "
                        f"Expected {len(indices)}, got {len(samples)}"
                    )
            else:
                samples = [dataset[i] for i in indices]
            for row, sample in zip(out, samples, strict=True):
                if named:
                    row[key] = sample
                else:
                    row.append(sample)
        return out if named else [tuple(row) for row in out]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """Concatenate map-style datasets end to end. Mirrors ``torch.utils.data.ConcatDataset``."""

    @staticmethod
    def cumsum(sequence: Iterable[Dataset]) -> list[int]:
        """Return the running totals of the datasets' lengths."""
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]


class ChainDataset(IterableDataset):
    """Chain iterable datasets one after another. Mirrors ``torch.utils.data.ChainDataset``."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        super().__init__()
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """Select ``dataset``'s samples at ``indices``, in that order.

    Mirrors ``torch.utils.data.Subset``.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        """Return the samples at ``indices``, through the dataset's ``__getitems__`` if any."""
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self) -> int:
        return len(self.indices)


def _fraction_lengths(total: int, fractions: Sequence[float]) -> list[int]:
    """Turn fractions summing to 1 into lengths summing to ``total`` (PyTorch's rounding)."""
    lengths = []
    for i, frac in enumerate(fractions):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        lengths.append(math.floor(total * frac))
    remainder = total - sum(lengths)
    for i in range(remainder):  # one more sample each, round-robin from the first split
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"Length of split at index {i} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return lengths


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: Generator | None = default_generator,
) -> list[Subset]:
    """Split a dataset into non-overlapping random subsets.

    Mirrors ``torch.utils.data.random_split``.

    ``lengths`` are sizes, or fractions summing to 1 (floor of each, the remainder spread
    round-robin from the first).
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _fraction_lengths(len(dataset), lengths)
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = generator_for(generator).permutation(sum(lengths)).tolist()
    return [
        Subset(dataset, indices[offset - length : offset])
        for offset, length in zip(itertools.accumulate(lengths), lengths, strict=True)
    ]
