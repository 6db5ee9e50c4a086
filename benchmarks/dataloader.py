"""DataLoader throughput: Ember vs PyTorch side by side in one run.

Usage: ``python benchmarks/dataloader.py [--rows N] [--repeats R] [--batch-size B]``

The workload is the issue's: a TensorDataset of 60,000 x 784 float32 features and int64 labels
(MNIST-sized), batch 128, one full epoch per measurement, with 0 and 2 workers, shuffled. Each
configuration runs ``--repeats`` epochs after a warm-up epoch; the median epoch wall time gives
samples/s (wall time, since the workers' CPU time is not the main process's). The loop touches
each batch (its sum) so that nothing is fetched lazily. The ratio is Ember/PyTorch in time:
above 1 means Ember is slower.

How each side fetches: PyTorch's TensorDataset has no ``__getitems__``, so it indexes each
sample and stacks 128 rows per batch; Ember's TensorDataset gathers a batch in one fancy index
per tensor. With workers, PyTorch's batches come back in shared-memory tensors; Ember's in one
``/dev/shm`` file per batch, mapped (zero-copy) in the main process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ember
import ember.utils.data as edata

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import machine  # the sibling script, not a package


def epoch_seconds(loader: Any, touch: Any) -> float:
    start = time.perf_counter()
    for x, y in loader:
        touch(x, y)
    return time.perf_counter() - start


def measure(make_loader: Any, touch: Any, repeats: int) -> float:
    """Median seconds per epoch; persistent workers so start-up is paid once, in the warm-up."""
    loader = make_loader()
    epoch_seconds(loader, touch)  # warm-up (and worker start-up)
    return statistics.median(epoch_seconds(loader, touch) for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the loader's work is memory traffic, not BLAS
    rng = np.random.default_rng(0)
    features = rng.standard_normal((args.rows, 784), dtype=np.float32)
    labels = rng.integers(0, 10, args.rows)
    e_ds = edata.TensorDataset(ember.tensor(features), ember.tensor(labels))
    t_ds = torch.utils.data.TensorDataset(torch.tensor(features), torch.tensor(labels))

    def e_touch(x: Any, y: Any) -> None:
        float(x.data[:, 0].sum()), int(y.data[0])

    def t_touch(x: Any, y: Any) -> None:
        float(x[:, 0].sum()), int(y[0])

    print(machine(1))
    print(f"\nTensorDataset {args.rows} x 784 float32 + int64 labels, batch {args.batch_size}, "
          f"shuffled; median of {args.repeats} epochs\n")  # fmt: skip
    print("| workers | Ember samples/s | PyTorch samples/s | Ember/PyTorch time |")
    print("| --- | ---: | ---: | ---: |")
    for workers in (0, 2):
        extra = {"num_workers": workers, "persistent_workers": workers > 0}

        def make(m: Any, ds: Any, extra: dict = extra) -> Any:
            return m.utils.data.DataLoader(ds, batch_size=args.batch_size, shuffle=True, **extra)

        e = measure(lambda: make(ember, e_ds), e_touch, args.repeats)
        t = measure(lambda: make(torch, t_ds), t_touch, args.repeats)
        print(f"| {workers} | {args.rows / e:,.0f} | {args.rows / t:,.0f} | {e / t:.2f} |")


if __name__ == "__main__":
    main()
