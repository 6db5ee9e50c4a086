"""Samplers: the order in which a DataLoader visits a map-style dataset.

Mirrors ``torch.utils.data.sampler``. Random samplers draw from an ``ember.Generator`` (or,
when none is given, from a fresh generator seeded by the default one, as PyTorch does), so
``ember.manual_seed`` makes every epoch's order reproducible.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np

from ember.backend.random import Generator, generator_for
from ember.ops.random import multinomial
from ember.tensor import Tensor

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


class Sampler:
    """Base class of samplers: ``__iter__`` yields dataset indices (or lists of them).

    Mirrors ``torch.utils.data.Sampler``.
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


def _fresh_engine(generator: Generator | None) -> np.random.Generator:
    """The stream to shuffle from: the given generator's, else one seeded from the default.

    PyTorch draws one int64 from the default generator per epoch and seeds a new generator
    with it, so consecutive epochs differ yet ``manual_seed`` replays them all.
    """
    if generator is not None:
        return generator.engine
    seed = int(generator_for(None).integers(0, 2**63 - 1, dtype=np.int64))
    return Generator().manual_seed(seed).engine


def _check_positive_int(name: str, value: Any, allow_bool: bool = False) -> None:
    if (isinstance(value, bool) and not allow_bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


def _check_bool(name: str, value: Any, error: type[Exception] = ValueError) -> None:
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value}")


class SequentialSampler(Sampler):
    """Yield 0, 1, ..., len(data_source) - 1. Mirrors ``torch.utils.data.SequentialSampler``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Yield a random permutation, or ``num_samples`` draws with replacement.

    Mirrors ``torch.utils.data.RandomSampler``: without replacement and ``num_samples`` above
    the dataset size, whole permutations follow one another.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_bool("replacement", replacement, TypeError)
        _check_positive_int("num_samples", self.num_samples, allow_bool=True)

    @property
    def num_samples(self) -> int:
        """The number of indices per epoch (the dataset size unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        engine = _fresh_engine(self.generator)
        if self.replacement:
            yield from engine.integers(0, n, self.num_samples).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from engine.permutation(n).tolist()
        yield from engine.permutation(n)[: self.num_samples % n].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """Yield ``indices`` in a random order. Mirrors ``torch.utils.data.SubsetRandomSampler``."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in generator_for(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Yield indices drawn with probability proportional to ``weights``.

    Mirrors ``torch.utils.data.WeightedRandomSampler``.
    """

    def __init__(
        self,
        weights: Sequence[float] | Tensor,
        num_samples: int,
        replacement: bool = True,
        generator: Generator | None = None,
    ) -> None:
        _check_positive_int("num_samples", num_samples)
        _check_bool("replacement", replacement)
        weights_array = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
        if weights_array.ndim != 1:
            raise ValueError(
                "weights should be a 1d sequence but given weights have shape "
                f"{tuple(weights_array.shape)}"
            )
        self.weights = Tensor(weights_array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        draws = multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        yield from draws.data.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group another sampler's indices into lists of ``batch_size``.

    Mirrors ``torch.utils.data.BatchSampler``; the last short batch is dropped with
    ``drop_last``.
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        _check_positive_int("batch_size", batch_size)
        _check_bool("drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        it = iter(self.sampler)
        while batch := list(itertools.islice(it, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
