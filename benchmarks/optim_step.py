"""Optimizer step time over a 10M-parameter MLP: Ember vs PyTorch side by side in one run.

Usage: ``python benchmarks/optim_step.py [--threads N] [--quick] [--wall] [--only TEXT]``

The MLP is Linear 784->2500->2500->784 (10.2M float32 parameters). Both libraries get the same
weights and the same fixed gradients (set once); the timed statement is one ``opt.step()``.
Timing follows ``benchmarks/overhead.py`` (its ``compare``): medians over repeats of a timeit
loop, the libraries taking turns, after a warm-up. The clock is the process's CPU time (all
threads' work; ``--wall`` for wall time); torch and BLAS use the same number of threads.
PyTorch runs its default CPU path (single-tensor, ``foreach=False`` on CPU). The ratio is
Ember/PyTorch: above 1 means Ember is slower.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ember
import ember.optim

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import compare, machine  # the sibling script, not a package

SIZES = (784, 2500, 2500, 784)


def build(m: Any, name: str, **kwargs: Any) -> Callable[[], None]:
    """The MLP's parameters with fixed gradients, and a step() of optimizer `name` over them."""
    rng = np.random.default_rng(0)
    layers = [m.nn.Linear(i, o) for i, o in itertools.pairwise(SIZES)]
    params = [p for layer in layers for p in layer.parameters()]
    for p in params:
        shape = tuple(p.shape)
        with m.no_grad():
            p.copy_(m.tensor(rng.uniform(-0.05, 0.05, shape).astype(np.float32)))
        p.grad = m.tensor(rng.standard_normal(shape).astype(np.float32) * 1e-3)
    opt = getattr(m.optim, name)(params, **kwargs)
    opt.step()  # state created outside the timed loop
    return opt.step


WORKLOADS: list[tuple[str, str, dict]] = [
    ("Adam, lr=1e-3", "Adam", {"lr": 1e-3}),
    ("SGD, momentum=0.9", "SGD", {"lr": 1e-2, "momentum": 0.9}),
    ("AdamW, weight_decay=0.01", "AdamW", {"lr": 1e-3}),
    (
        "SGD, momentum=0.9, nesterov, weight_decay=1e-4",
        "SGD",
        {"lr": 1e-2, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-4},
    ),
]


def steady_allocator() -> None:
    """Keep glibc from returning large blocks to the OS between steps (Linux only).

    PyTorch's Adam allocates 25 MB temporaries per step; with glibc's defaults the first
    workload in a process mmaps and page-faults them every step (2-3x slower) until the
    dynamic threshold adapts. A long training run is past that point, so fix it up front, for
    both libraries alike.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    libc.mallopt(-3, 1 << 28)  # M_MMAP_THRESHOLD


def run(workloads: list, repeat: int, timer: Any) -> list[tuple[str, float, float]]:
    rows = []
    for label, name, kwargs in workloads:
        cases = {
            "ember": ("step()", {"step": build(ember, name, **kwargs)}),
            "torch": ("step()", {"step": build(torch, name, **kwargs)}),
        }
        seconds = compare(cases, repeat, timer=timer)
        rows.append((label, seconds["ember"] * 1e3, seconds["torch"] * 1e3))
    return rows


def table(rows: list[tuple[str, float, float]]) -> str:
    count = sum(i * o + o for i, o in itertools.pairwise(SIZES))
    lines = [
        f"| optimizer step, MLP {'->'.join(map(str, SIZES))} ({count / 1e6:.1f}M params) "
        "| Ember (ms) | PyTorch (ms) | Ember/PyTorch |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, e, t in rows:
        lines.append(f"| {name} | {e:.2f} | {t:.2f} | {e / t:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    parser.add_argument("--only", default="", help="run the workloads whose name contains this")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    repeat = 5 if args.quick else 15
    timer = time.perf_counter if args.wall else time.process_time
    workloads = [w for w in WORKLOADS if args.only in w[0]]
    steady_allocator()
    clock = "wall" if args.wall else "CPU"
    print(
        machine(args.threads)
        + f"\n\nMilliseconds of {clock} time per step (lower is better); medians of {repeat} "
        "repeats.\n\n" + table(run(workloads, repeat, timer))
    )


if __name__ == "__main__":
    main()
