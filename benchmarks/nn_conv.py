"""Conv2d forward + backward: Ember vs PyTorch side by side, in one run.

Usage: ``python benchmarks/nn_conv.py [--threads N] [--repeat R]``

Workload: ``nn.Conv2d(32, 64, 3, padding=1)`` on a (64, 32, 28, 28) float32 batch that
requires grad; one step is the forward, then ``backward`` with a fixed upstream gradient
(input, weight and bias gradients). Forward alone (under no_grad) is timed too. Both libraries
use the same number of threads (torch's intra-op pool and the BLAS pool). Each timing is the
median over repeats of a timed loop, in process CPU time (all threads) and in wall time, with
the libraries taking turns (``compare`` from overhead.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).parent))
from overhead import compare, machine

STEP = "x.grad = None\nlayer.zero_grad()\nlayer(x).backward(g)"
FORWARD = "with m.no_grad():\n    layer(x)"


def setup(m, n: int, c_in: int, c_out: int, size: int) -> dict:
    """The layer, input and upstream gradient in module m (ember or torch), same numbers."""
    rng = np.random.default_rng(0)
    m.manual_seed(0)
    layer = m.nn.Conv2d(c_in, c_out, 3, padding=1)
    x = m.tensor(rng.standard_normal((n, c_in, size, size)).astype(np.float32))
    x.requires_grad_(True)
    g = m.tensor(rng.standard_normal((n, c_out, size, size)).astype(np.float32))
    return {"m": m, "layer": layer, "x": x, "g": g}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    shape = (64, 32, 64, 28)  # batch, in, out, spatial
    envs = {"ember": setup(ember, *shape), "torch": setup(torch, *shape)}
    print(machine(args.threads))
    print(f"\nConv2d(32, 64, 3, padding=1), input (64, 32, 28, 28) float32; ms, median of "
          f"{args.repeat}\n")  # fmt: skip
    print("| workload | timer | Ember | PyTorch | Ember/PyTorch |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, stmt in (("forward (no_grad)", FORWARD), ("forward + backward", STEP)):
        for timer_name, timer in (("cpu", time.process_time), ("wall", time.perf_counter)):
            cases = {lib: (stmt, env) for lib, env in envs.items()}
            t = compare(cases, args.repeat, timer=timer)
            e, p = t["ember"] * 1e3, t["torch"] * 1e3
            print(f"| {name} | {timer_name} | {e:.1f} | {p:.1f} | {e / p:.2f}x |")


if __name__ == "__main__":
    main()
