"""Normalisation layers, forward + backward: Ember vs PyTorch side by side in one run.

Usage: ``python benchmarks/nn_norm.py [--threads N] [--quick] [--wall]``

Workloads (float32, training mode, random upstream gradient, input gradient included):
  BatchNorm2d(64) on (64, 64, 28, 28)
  LayerNorm(512) on (64, 128, 512)
  GroupNorm(8, 64) on (32, 64, 28, 28)
plus the forward alone of the first two.

Timing follows ``benchmarks/overhead.py`` (its ``compare``): the median over repeats of a
timeit loop of about 0.1 s, the libraries taking turns, after a warm-up. The clock is the
process's CPU time (all threads' work; ``--wall`` for wall time); torch and NumPy's BLAS use
the same number of threads (1 by default). The ratio is Ember/PyTorch: above 1 means Ember
is slower.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import compare, machine  # the sibling script, not a package

WORKLOADS = [
    ("BatchNorm2d(64), (64, 64, 28, 28)", lambda m: m.nn.BatchNorm2d(64), (64, 64, 28, 28)),
    ("LayerNorm(512), (64, 128, 512)", lambda m: m.nn.LayerNorm(512), (64, 128, 512)),
    ("GroupNorm(8, 64), (32, 64, 28, 28)", lambda m: m.nn.GroupNorm(8, 64), (32, 64, 28, 28)),
]


def build(m: Any, make: Callable, shape: tuple, backward: bool) -> Callable[[], None]:
    """One training step (forward, and backward when asked) of make(m) on fixed inputs."""
    rng = np.random.default_rng(0)
    layer = make(m)
    x = m.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=backward)
    grad = m.tensor(rng.standard_normal(shape).astype(np.float32))

    def step() -> None:
        if backward:
            layer.zero_grad()
            x.grad = None
            layer(x).backward(grad)
        else:
            layer(x)

    return step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    repeat = 3 if args.quick else 9
    timer = time.perf_counter if args.wall else time.process_time
    print(machine(args.threads) + "\n")
    print("| workload | Ember (ms) | PyTorch (ms) | Ember/PyTorch |")
    print("| --- | ---: | ---: | ---: |")
    rows = [(name, make, shape, True) for name, make, shape in WORKLOADS]
    rows += [(name, make, shape, False) for name, make, shape in WORKLOADS[:2]]
    for name, make, shape, backward in rows:
        cases = {
            "ember": ("step()", {"step": build(ember, make, shape, backward)}),
            "torch": ("step()", {"step": build(torch, make, shape, backward)}),
        }
        seconds = compare(cases, repeat, timer=timer)
        e, t = seconds["ember"] * 1e3, seconds["torch"] * 1e3
        label = f"{name} {'fwd+bwd' if backward else 'fwd'}"
        print(f"| {label} | {e:.2f} | {t:.2f} | {e / t:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
