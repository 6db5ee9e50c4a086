"""DataLoader: batching against torch's, worker processes, shared memory, failures, seeding."""

import contextlib
import gc
import glob
import multiprocessing
import os
import signal
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from ember.utils.data import worker as worker_module
from tests.helpers import assert_same


@contextlib.contextmanager
def deadline(seconds=30):
    """Fail instead of hanging: SIGALRM raises in the main thread after ``seconds``."""

    def fail(signum, frame):
        raise TimeoutError(f"DataLoader hung for {seconds} s")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def shm_files():
    return set(glob.glob(os.path.join(worker_module.SHM_DIR, f"ember-dl-{os.getpid()}-*")))


@pytest.fixture(autouse=True)
def no_leaks():
    """Every test leaves no worker process and no shared-memory file behind."""
    before = shm_files()
    with deadline(60):
        yield
    if multiprocessing.active_children():
        gc.collect()  # an iterator kept alive by a caught exception's traceback
    assert multiprocessing.active_children() == []
    assert shm_files() - before == set()


def to_list(batches):
    return [np.asarray(b.data if isinstance(b, ember.Tensor) else b).tolist() for b in batches]


class Samples(edata.Dataset):
    """Sample i: a dict with an array, an int, a float and a string (every collate path)."""

    def __init__(self, n=13, width=100):
        self.n, self.width = n, width

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        x = np.arange(self.width, dtype=np.float32) + 1000 * i
        return {"x": x, "i": i, "f": i / 2, "name": f"s{i}"}

    def __len__(self):
        return self.n


class Failing(edata.Dataset):
    def __init__(self, bad=5, how="raise"):
        self.bad, self.how = bad, how

    def __getitem__(self, i):
        if i == self.bad:
            if self.how == "raise":
                raise ZeroDivisionError(f"sample {i} is bad")
            if self.how == "keyerror":
                raise KeyError("missing")
            if self.how == "sigkill":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.how == "exit":
                os._exit(3)
            if self.how == "sleep":
                time.sleep(30)
        return np.float32(i)

    def __len__(self):
        return 12


class Stream(edata.IterableDataset):
    """range(start, stop); shares the range between workers when ``split``."""

    data = edata

    def __init__(self, start, stop, split):
        self.start, self.stop, self.split = start, stop, split

    def __iter__(self):
        info = self.data.get_worker_info()
        if not self.split or info is None:
            return iter(range(self.start, self.stop))
        return iter(range(self.start + info.id, self.stop, info.num_workers))

    def __len__(self):
        return self.stop - self.start


class TorchStream(Stream, tdata.IterableDataset):
    """The same stream for torch's DataLoader."""

    data = tdata


def tensor_dataset(m, n=50):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3, 4)).astype("float32")
    return m.utils.data.TensorDataset(m.tensor(x), m.tensor(np.arange(n)))


# -- batching, compared with torch's DataLoader (num_workers=0) ------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"batch_size": 8},
        {"batch_size": 8, "drop_last": True},
        {"batch_size": 50},
        {"batch_size": None},
        {"batch_size": 64},
    ],
)
def test_batches_match_torch(kwargs):
    e = list(edata.DataLoader(tensor_dataset(ember), **kwargs))
    t = list(tdata.DataLoader(tensor_dataset(torch), **kwargs))
    assert len(e) == len(t) == len(edata.DataLoader(tensor_dataset(ember), **kwargs))
    for eb, tb in zip(e, t):
        assert_same(eb, tb, rtol=0, atol=0)


def test_batch_sampler_and_collate_fn_match_torch():
    batches = [[0, 3], [7], [1, 2, 4]]
    e = list(edata.DataLoader(Samples(), batch_sampler=batches, collate_fn=lambda b: len(b)))
    assert e == [2, 1, 3]
    e = list(edata.DataLoader(Samples(), batch_sampler=batches))
    t = list(tdata.DataLoader(Samples(), batch_sampler=batches))
    for eb, tb in zip(e, t):
        assert eb["name"] == tb["name"]
        for key in ("x", "i", "f"):
            assert_same(eb[key], tb[key], rtol=0, atol=0)


def test_sampler_argument():
    loader = edata.DataLoader(Samples(), sampler=[5, 1, 9], batch_size=2)
    assert [b["i"].data.tolist() for b in loader] == [[5, 1], [9]]


def test_dataloader_len_iterable():
    loader = edata.DataLoader(Stream(0, 10, split=False), batch_size=3)
    assert len(loader) == 4
    assert len(edata.DataLoader(Stream(0, 10, split=False), batch_size=3, drop_last=True)) == 3


def test_shuffle_is_a_permutation_and_reproducible():
    ds = Samples(n=40, width=2)
    ember.manual_seed(1)
    first = [i for b in edata.DataLoader(ds, batch_size=7, shuffle=True) for i in b["i"].tolist()]
    assert sorted(first) == list(range(40)) and first != list(range(40))
    ember.manual_seed(1)
    again = [i for b in edata.DataLoader(ds, batch_size=7, shuffle=True) for i in b["i"].tolist()]
    assert again == first
    order = [
        [i for b in edata.DataLoader(ds, 7, shuffle=True, generator=g) for i in b["i"].tolist()]
        for g in (ember.Generator().manual_seed(4), ember.Generator().manual_seed(4))
    ]
    assert order[0] == order[1] != first


# -- argument validation, same errors as torch ------------------------------------------------

BAD_ARGUMENTS = [
    ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
    ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
    ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
    ({"num_workers": 1, "prefetch_factor": -1}, ValueError, "prefetch_factor option should be"),
    ({"persistent_workers": True}, ValueError, "persistent_workers option needs num_workers > 0"),
    ({"sampler": [0], "shuffle": True}, ValueError, "sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually"),
    ({"batch_sampler": [[0]], "drop_last": True}, ValueError, "batch_sampler option is mutually"),
    ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None option disables"),
    ({"batch_size": 0}, ValueError, "batch_size should be a positive integer value"),
    ({"multiprocessing_context": "fork"}, ValueError, "multiprocessing_context can only be used"),
    (
        {"num_workers": 1, "multiprocessing_context": "nope"},
        ValueError,
        "multiprocessing_context option should specify a valid start method",
    ),
    (
        {"num_workers": 1, "multiprocessing_context": 3},
        TypeError,
        "multiprocessing_context option should be a valid context object",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BAD_ARGUMENTS)
def test_argument_errors_match_torch(kwargs, error, match):
    with pytest.raises(error, match=match):
        edata.DataLoader(Samples(), **kwargs)
    with pytest.raises(error, match=match):
        tdata.DataLoader(Samples(), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"shuffle": True}, "expected unspecified shuffle option"),
        ({"sampler": [0]}, "expected unspecified sampler option"),
        ({"batch_sampler": [[0]]}, "expected unspecified batch_sampler option"),
    ],
)
def test_iterable_dataset_argument_errors(kwargs, match):
    for m, stream in ((edata, Stream), (tdata, TorchStream)):
        with pytest.raises(ValueError, match=match):
            m.DataLoader(stream(0, 3, split=False), **kwargs)


def test_attributes_frozen_after_init():
    loader = edata.DataLoader(Samples())
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen, as in torch


# -- worker processes ---------------------------------------------------------------------------


def test_two_workers_yield_the_batches_of_zero_workers():
    ds = Samples(n=23, width=300)  # 1.2 KB rows: the arrays travel through shared memory
    serial = list(edata.DataLoader(ds, batch_size=4))
    with deadline():
        parallel = list(edata.DataLoader(ds, batch_size=4, num_workers=2))
    assert len(parallel) == len(serial) == 6
    for p, s in zip(parallel, serial):
        assert p["name"] == s["name"]
        for key in ("x", "i", "f"):
            assert p[key].dtype == s[key].dtype
            np.testing.assert_array_equal(p[key].data, s[key].data)


def test_workers_pass_arrays_through_shared_memory():
    ds = tensor_dataset(ember, n=256)
    with deadline():
        x, y = next(iter(edata.DataLoader(ds, batch_size=128, num_workers=1)))
    # a view of a mapping of the (already unlinked) shared-memory file, not a pickled copy
    base = x.data
    while isinstance(getattr(base, "base", None), np.ndarray):
        base = base.base
    owner = base.base.obj if isinstance(base.base, memoryview) else base.base
    assert type(owner).__name__ == "mmap"
    np.testing.assert_array_equal(x.data, ds.tensors[0].data[:128])
    assert x.dtype == ember.float32 and y.dtype == ember.int64


def test_shuffled_workers_yield_the_same_set():
    ds = Samples(n=30, width=4)
    with deadline():
        out = [
            i
            for b in edata.DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)
            for i in b["i"].tolist()
        ]
    assert sorted(out) == list(range(30))


def test_shuffled_workers_are_reproducible():
    def epoch(seed):
        ember.manual_seed(seed)
        loader = edata.DataLoader(Samples(20, 2), batch_size=3, shuffle=True, num_workers=2)
        return [b["i"].tolist() for b in loader]

    with deadline():
        assert epoch(3) == epoch(3)


def test_in_order_false_yields_every_batch():
    with deadline():
        loader = edata.DataLoader(Samples(17, 2), batch_size=2, num_workers=2, in_order=False)
        out = sorted(i for b in loader for i in b["i"].tolist())
    assert out == list(range(17))


def test_early_break_shuts_workers_down():
    loader = edata.DataLoader(tensor_dataset(ember, 512), batch_size=16, num_workers=2)
    with deadline():
        it = iter(loader)
        next(it)
        pids = [p.pid for p in it._pool.processes]
        del it  # batches still in flight: their shared-memory files must be swept too
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_persistent_workers_reuse_processes():
    loader = edata.DataLoader(Samples(9, 2), batch_size=2, num_workers=2, persistent_workers=True)
    with deadline():
        epochs = [[b["i"].tolist() for b in loader] for _ in range(3)]
        pids = loader._iterator._worker_pids
        assert [p.pid for p in loader._iterator._pool.processes] == pids
        assert all(p.is_alive() for p in loader._iterator._pool.processes)
    assert epochs[0] == epochs[1] == epochs[2] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    loader._iterator._shutdown_workers()


def test_spawn_context():
    # TensorDataset lives in ember, so the spawned worker imports ember (not torch) to unpickle it
    ds = edata.TensorDataset(ember.arange(6) * 10)
    with deadline(60):
        loader = edata.DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn")
        assert to_list(b for (b,) in loader) == [[0, 10, 20, 30], [40, 50]]


# -- worker info and seeding -------------------------------------------------------------------


class WorkerReport(edata.Dataset):
    """Sample i reports which worker fetched it and what its generators say."""

    def __getitem__(self, i):
        info = edata.get_worker_info()
        import random

        return {
            "id": info.id,
            "num_workers": info.num_workers,
            "seed": info.seed,
            "same_dataset": info.dataset is self,
            "ember": float(ember.rand(1).item()),
            "numpy": float(np.random.rand()),
            "random": random.random(),
        }

    def __len__(self):
        return 4


def test_get_worker_info_and_seeds():
    assert edata.get_worker_info() is None
    ember.manual_seed(11)
    with deadline():
        batches = list(edata.DataLoader(WorkerReport(), batch_size=1, num_workers=2))
    ids = [int(b["id"]) for b in batches]
    assert ids == [0, 1, 0, 1]  # round-robin
    assert all(int(b["num_workers"]) == 2 and bool(b["same_dataset"]) for b in batches)
    seeds = {int(b["id"]): int(b["seed"]) for b in batches}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    first = {int(b["id"]): (b["ember"].item(), b["numpy"].item(), b["random"].item())
             for b in batches[:2]}  # fmt: skip
    for kind in range(3):  # each generator differs between workers
        assert first[0][kind] != first[1][kind]
    ember.manual_seed(11)
    with deadline():
        again = list(edata.DataLoader(WorkerReport(), batch_size=1, num_workers=2))
    for a, b in zip(batches, again):
        assert int(a["seed"]) == int(b["seed"])
        assert a["ember"].item() == b["ember"].item() and a["numpy"].item() == b["numpy"].item()
    ember.manual_seed(12)
    with deadline():
        other = next(iter(edata.DataLoader(WorkerReport(), batch_size=1, num_workers=2)))
    assert int(other["seed"]) != int(batches[0]["seed"])


def test_worker_init_fn_runs_in_each_worker():
    def init(worker_id):
        np.random.seed(100 + worker_id)

    class Draw(edata.Dataset):
        def __getitem__(self, i):
            return np.float64(np.random.rand())

        def __len__(self):
            return 2

    with deadline():
        out = list(edata.DataLoader(Draw(), batch_size=1, num_workers=2, worker_init_fn=init))
    expected = [np.random.RandomState(100 + w).rand() for w in range(2)]
    assert [b.item() for b in out] == expected


# -- iterable datasets ----------------------------------------------------------------------


def test_iterable_dataset_single_process():
    out = list(edata.DataLoader(Stream(0, 7, split=False), batch_size=3))
    assert to_list(out) == [[0, 1, 2], [3, 4, 5], [6]]
    out = list(edata.DataLoader(Stream(0, 7, split=False), batch_size=3, drop_last=True))
    assert to_list(out) == [[0, 1, 2], [3, 4, 5]]
    assert [int(b) for b in edata.DataLoader(Stream(0, 3, split=False), batch_size=None)] == [
        0,
        1,
        2,
    ]


def test_iterable_dataset_every_worker_gets_everything_unless_split():
    with deadline():
        whole = edata.DataLoader(Stream(0, 10, split=False), batch_size=4, num_workers=2)
        out = sorted(i for b in whole for i in b.tolist())
    assert out == sorted(list(range(10)) * 2)
    e = edata.DataLoader(Stream(0, 10, split=True), batch_size=4, num_workers=2)
    t = tdata.DataLoader(TorchStream(0, 10, split=True), batch_size=4, num_workers=2)
    with deadline():
        e_batches, t_batches = to_list(e), [b.tolist() for b in t]
    assert e_batches == t_batches  # same interleaving of the workers' shares


def test_iterable_dataset_workers_drop_last_and_persistent():
    loader = edata.DataLoader(
        Stream(0, 11, split=True), batch_size=2, num_workers=2, drop_last=True,
        persistent_workers=True,
    )  # fmt: skip
    with deadline():
        epochs = [sorted(i for b in loader for i in b.tolist()) for _ in range(2)]
    # worker 0 has 0,2,...,10 (6 items: 3 full batches), worker 1 has 1,...,9 (5: 2 full)
    assert epochs[0] == epochs[1] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
    loader._iterator._shutdown_workers()


# -- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("num_workers", [0, 2])
def test_worker_exception_reaches_the_main_process(num_workers):
    loader = edata.DataLoader(Failing(bad=5), batch_size=2, num_workers=num_workers)
    with deadline(), pytest.raises(ZeroDivisionError, match="sample 5 is bad") as info:
        list(loader)
    if num_workers:
        message = str(info.value)
        assert "Caught ZeroDivisionError in DataLoader worker process 0" in message
        assert "Traceback (most recent call last)" in message and "__getitem__" in message


def test_worker_keyerror_keeps_its_type_and_traceback():
    loader = edata.DataLoader(Failing(bad=3, how="keyerror"), batch_size=4, num_workers=1)
    with deadline(), pytest.raises(KeyError, match="Caught KeyError in DataLoader worker"):
        list(loader)


def test_worker_init_fn_exception():
    def init(worker_id):
        raise ValueError(f"init of worker {worker_id} failed")

    loader = edata.DataLoader(Samples(4, 2), num_workers=1, worker_init_fn=init)
    with deadline(), pytest.raises(ValueError, match="init of worker 0 failed"):
        list(loader)


@pytest.mark.parametrize("how", ["sigkill", "exit"])
def test_dead_worker_is_reported_not_hung(how):
    loader = edata.DataLoader(Failing(bad=4, how=how), batch_size=2, num_workers=2)
    with deadline(30), pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+"):
        list(loader)


def test_timeout():
    loader = edata.DataLoader(Failing(bad=0, how="sleep"), num_workers=1, timeout=0.5)
    start = time.monotonic()
    with deadline(), pytest.raises(RuntimeError, match=r"DataLoader timed out after 0\.5 seconds"):
        list(loader)
    assert time.monotonic() - start < 10
