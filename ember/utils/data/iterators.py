"""DataLoader iterators: one fetching in the calling process, one driving worker processes.

The multi-process iterator keeps ``prefetch_factor * num_workers`` batches in flight, sending
``(task, indices)`` to the workers round-robin through one index queue each, and receives on
one pipe per worker. It waits on those pipes and on the workers' process sentinels together,
so a worker that dies is noticed at once instead of hanging the loader. Batches come back in
task order unless ``in_order=False``.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import secrets
import sys
import weakref
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

import numpy as np

from ember.backend.random import generator_for
from ember.utils.data.worker import (
    SHM_DIR,
    ExceptionWrapper,
    IterableDatasetStopIteration,
    IterableFetcher,
    MapFetcher,
    ResumeIteration,
    decode,
    sweep,
    worker_loop,
)

if TYPE_CHECKING:
    from ember.utils.data.dataloader import DataLoader

JOIN_TIMEOUT = 5.0  # seconds a worker gets to exit on shutdown before it is terminated


def default_context() -> Any:
    """The start method for workers: fork on Linux (cheap, no pickling), else the default."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)


class _BaseDataLoaderIter:
    """What both iterators share: the index stream and the per-iterator base seed."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._collate_fn = loader.collate_fn
        self._timeout = loader.timeout
        self._base_seed = int(
            generator_for(loader.generator).integers(0, 2**63 - 1, dtype=np.int64)
        )
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def _next_index(self) -> Any:
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self) -> Any:
        raise NotImplementedError

    def __next__(self) -> Any:
        data = self._next_data()
        self._num_yielded += 1
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Fetch each batch in the calling process."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        fetcher = IterableFetcher if self._iterable else MapFetcher
        self._fetcher = fetcher(
            self._dataset, self._auto_collation, self._collate_fn, self._drop_last
        )

    def _next_data(self) -> Any:
        index = self._next_index()
        return self._fetcher.fetch(index)  # an iterable dataset's StopIteration ends the epoch


class _WorkerPool:
    """The worker processes, their queues and pipes; ``shutdown`` is safe to call twice.

    Kept apart from the iterator so that a ``weakref.finalize`` can shut it down (at garbage
    collection or interpreter exit) without holding the iterator alive.
    """

    def __init__(self) -> None:
        self.prefix = os.path.join(SHM_DIR, f"ember-dl-{os.getpid()}-{secrets.token_hex(4)}-")
        self.processes: list[Any] = []
        self.index_queues: list[Any] = []
        self.conns: list[Any] = []
        self.closed = False

    def shutdown(self, grace: float = JOIN_TIMEOUT) -> None:
        if self.closed:
            return
        self.closed = True
        for conn in self.conns:  # a worker blocked in send() now gets BrokenPipeError
            conn.close()
        for q, process in zip(self.index_queues, self.processes, strict=True):
            if process.is_alive():
                q.put(None)
        for process in self.processes:
            process.join(grace)
            if process.is_alive():
                process.terminate()
                process.join()
        for q in self.index_queues:
            q.cancel_join_thread()
            q.close()
        sweep(self.prefix)


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Fetch batches in ``num_workers`` worker processes, through shared memory."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        self._persistent_workers = loader.persistent_workers
        context = loader.multiprocessing_context or default_context()
        pool = self._pool = _WorkerPool()
        self._shutdown_finalizer = weakref.finalize(self, pool.shutdown)
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(
                target=worker_loop,
                args=(
                    self._iterable, self._dataset, index_queue, writer, self._auto_collation,
                    self._collate_fn, self._drop_last, self._base_seed, loader.worker_init_fn,
                    worker_id, self._num_workers, pool.prefix,
                ),
                daemon=True,
            )  # fmt: skip
            process.start()
            writer.close()  # the worker holds the only write end, so its death closes the pipe
            pool.processes.append(process)
            pool.index_queues.append(index_queue)
            pool.conns.append(reader)
        self._worker_pids = [p.pid for p in pool.processes]
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        super()._reset(loader)
        self._send_idx = 0  # the next task to send
        self._rcvd_idx = 0  # the next task to yield
        self._task_info: dict[int, tuple] = {}  # task -> (worker,) or (worker, data)
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: start a new epoch and wait for every ack
            for q in self._pool.index_queues:
                q.put(ResumeIteration())
            remaining = self._num_workers
            while remaining:
                task, _ = self._get_data()
                remaining -= isinstance(task, ResumeIteration)
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return  # every worker's iterable is exhausted
        self._pool.index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _get_data(self) -> tuple[Any, Any]:
        """Receive one message from any worker; raise if a worker died or on timeout."""
        pool = self._pool
        waitables = [*pool.conns, *(p.sentinel for p in pool.processes)]
        ready = wait(waitables, timeout=self._timeout or None)
        if not ready:
            self._shutdown_workers(grace=0.1)  # a stuck worker will not answer
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        for conn in pool.conns:
            if conn in ready:
                try:
                    task, path, payload = conn.recv()
                except EOFError:  # the pipe closed: the worker is gone
                    break
                return task, decode(path, payload)
        # A closed sentinel means the process is exiting; it may not be reapable yet.
        dead = [str(p.pid) for p in pool.processes if p.sentinel in ready or p.exitcode is not None]
        self._shutdown_workers(grace=0.1)
        raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly")

    def _next_data(self) -> Any:
        while True:
            while self._rcvd_idx < self._send_idx:  # skip tasks of exhausted workers
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                self._rcvd_idx += 1
                return self._process_data(data)
            task, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                self._task_info.pop(task, None)
                self._try_put_index()
            elif task == self._rcvd_idx or not self._in_order:
                del self._task_info[task]
                self._rcvd_idx += task == self._rcvd_idx
                return self._process_data(data)
            else:
                self._task_info[task] += (data,)

    def _process_data(self, data: Any) -> Any:
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self, grace: float = JOIN_TIMEOUT) -> None:
        if self._shutdown_finalizer.detach() is not None:
            self._pool.shutdown(grace)
