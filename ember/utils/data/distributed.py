"""DistributedSampler: one disjoint shard of the dataset per process.

Mirrors ``torch.utils.data.distributed``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sized

from ember.backend.random import Generator
from ember.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """Yield this rank's share of the indices; every rank gets the same number.

    Mirrors ``torch.utils.data.distributed.DistributedSampler``: with ``shuffle`` the order is
    a permutation seeded by ``seed + epoch`` (call ``set_epoch`` each epoch), identical on
    every rank; without ``drop_last`` the indices are padded by wrapping around so the total
    divides evenly, with it the tail is dropped. Rank i takes every num_replicas-th index
    from position i.

    Differences from PyTorch: without a process group, ``num_replicas`` and ``rank`` default
    to the ``WORLD_SIZE`` and ``RANK`` environment variables (1 and 0 when unset).
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None:
            num_replicas = int(os.environ.get("WORLD_SIZE", 1))
        if rank is None:
            rank = int(os.environ.get("RANK", 0))
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            engine = Generator().manual_seed(self.seed + self.epoch).engine
            indices = engine.permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank : self.total_size : self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which seeds the next shuffle. Mirrors ``DistributedSampler.set_epoch``."""
        self.epoch = epoch
