"""Worker processes: the loop each one runs, and the shared-memory batch transport.

A worker takes ``(task, indices)`` from its index queue, fetches and collates the batch, and
sends it to the main process over its own pipe. The batch is pickled with every NumPy array
of at least ``INLINE_BYTES`` replaced by a reference (offset, dtype, shape) into one
shared-memory file per batch (``/dev/shm`` on Linux), written with ``pwrite``; only the
small pickle crosses the pipe. The main process maps the file, unlinks it at once, and
rebuilds the arrays as views of the mapping (no copy): the memory is freed when the last of
them dies. File names carry the main pid and the iterator's token, so shutdown can sweep the
files of batches that were never received.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import pickle
import queue
import random
import sys
import tempfile
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ember.backend.random import manual_seed

__all__ = ["ExceptionWrapper", "WorkerInfo", "get_worker_info"]

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
INLINE_BYTES = 512  # smaller arrays ride in the pickle: cheaper than a page of shared memory
STATUS_INTERVAL = 1.0  # seconds between a worker's checks that its parent is alive
_ALIGN = 64


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself. Mirrors ``torch.utils.data.get_worker_info()``'s object."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """Return this worker's info, or None in the main process. Mirrors ``get_worker_info``.

    Its ``seed`` is ``base_seed + id``; ``dataset`` is the worker's own copy of the dataset,
    so an ``IterableDataset`` can pick its share in ``__iter__``.
    """
    return _worker_info


class KeyErrorMessage(str):
    """A KeyError message that prints its newlines (KeyError repr()s its argument)."""

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception caught in a worker, with its traceback text. Mirrors PyTorch's wrapper."""

    def __init__(self, exc_info: Any = None, where: str = "in background") -> None:
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self) -> None:
        """Raise the exception again, its message carrying the original traceback."""
        raise self._rebuild()

    def _rebuild(self) -> BaseException:
        # Built here and raised by the caller, so no frame holds the exception (no cycle
        # through its traceback keeping the DataLoader iterator and its workers alive).
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        try:
            return self.exc_type(msg)
        except Exception:
            return RuntimeError(msg)


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    """Sent by a worker whose iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class ResumeIteration:
    """Asks a persistent worker to start a new epoch (it answers with the same object)."""

    seed: int | None = None


# -- fetching ----------------------------------------------------------------------------------


class MapFetcher:
    """Fetch a batch from a map-style dataset, in one ``__getitems__`` call when it has one."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.getitems = getattr(dataset, "__getitems__", None)

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.getitems is not None:
            return self.collate_fn(self.getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableFetcher:
    """Fetch the next batch from an iterable dataset; StopIteration when it is exhausted."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Any, drop_last: bool):
        self.dataset_iter = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


# -- shared-memory transport ------------------------------------------------------------------


class _Pickler(pickle.Pickler):
    """Pickle a batch, setting large arrays aside for shared memory."""

    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.arrays: list[tuple[int, np.ndarray]] = []
        self.size = 0

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is not np.ndarray or obj.nbytes < INLINE_BYTES or obj.dtype.hasobject:
            return None
        offset = self.size
        self.arrays.append((offset, obj))
        self.size = offset + (obj.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
        return (offset, obj.dtype, obj.shape)


def encode(data: Any, path: str) -> tuple[str | None, bytes]:
    """Pickle ``data``; write its large arrays into a new shared-memory file at ``path``."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer)
    pickler.dump(data)
    if not pickler.arrays:
        return None, buffer.getvalue()
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, pickler.size)
        for offset, array in pickler.arrays:
            raw = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
            written = 0
            while written < raw.size:  # pwrite may write less than asked
                written += os.pwrite(fd, raw[written:], offset + written)
    except BaseException:
        os.unlink(path)
        raise
    finally:
        os.close(fd)
    return path, buffer.getvalue()


class _Unpickler(pickle.Unpickler):
    """Unpickle a batch, its large arrays as views of the mapped shared-memory file."""

    def __init__(self, payload: bytes, mapping: mmap.mmap | None) -> None:
        super().__init__(io.BytesIO(payload))
        self.mapping = mapping

    def persistent_load(self, pid: Any) -> np.ndarray:
        offset, dtype, shape = pid
        count = int(np.prod(shape, dtype=np.int64))
        array = np.frombuffer(self.mapping, dtype=dtype, count=count, offset=offset)
        return array.reshape(shape)


def decode(path: str | None, payload: bytes) -> Any:
    """Rebuild a batch from ``encode``'s output; the file is unlinked once mapped."""
    if path is None:
        return pickle.loads(payload)
    fd = os.open(path, os.O_RDWR)
    try:
        mapping = mmap.mmap(fd, 0)
    finally:
        os.close(fd)
        os.unlink(path)
    return _Unpickler(payload, mapping).load()


def sweep(prefix: str) -> None:
    """Remove the shared-memory files left by batches that were never received."""
    directory, stem = os.path.split(prefix)
    for name in os.listdir(directory):
        if name.startswith(stem):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, name))


# -- the worker loop --------------------------------------------------------------------------


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, Ember's and NumPy's global generators as PyTorch's workers do."""
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(
    iterable: bool,
    dataset: Any,
    index_queue: Any,
    conn: Any,
    auto_collation: bool,
    collate_fn: Any,
    drop_last: bool,
    base_seed: int,
    init_fn: Any,
    worker_id: int,
    num_workers: int,
    prefix: str,
) -> None:
    """Run one worker until told to stop (None), the pipe breaks, or the parent dies."""
    global _worker_info
    parent = os.getppid()
    where = f"in DataLoader worker process {worker_id}"
    seed = _seed_worker(base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    fetcher_type = IterableFetcher if iterable else MapFetcher
    init_error = fetcher = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = fetcher_type(dataset, auto_collation, collate_fn, drop_last)
    except Exception:
        init_error = ExceptionWrapper(where=where)
    count = 0
    try:
        while True:
            try:
                task = index_queue.get(timeout=STATUS_INTERVAL)
            except queue.Empty:
                if os.getppid() != parent:
                    return  # orphaned: the main process is gone
                continue
            if task is None:
                return
            if isinstance(task, ResumeIteration):
                if iterable:
                    fetcher = fetcher_type(dataset, auto_collation, collate_fn, drop_last)
                conn.send((task, *encode(None, "")))
                continue
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    data = IterableDatasetStopIteration(worker_id)
                except Exception:
                    data = ExceptionWrapper(where=where)
            count += 1
            try:
                path, payload = encode(data, f"{prefix}{worker_id}-{count}")
            except Exception:
                path, payload = encode(ExceptionWrapper(where=where), "")
            conn.send((idx, path, payload))
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        return  # the main process shut down or is going away
