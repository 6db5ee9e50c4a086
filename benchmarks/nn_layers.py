"""Layer workloads (forward + backward): Ember vs PyTorch side by side in one run.

Usage: ``python benchmarks/nn_layers.py [--threads N] [--quick] [--wall] [--only TEXT]``

Each workload is a row of ``WORKLOADS``: ``(name, make_ember, make_torch)``, where a ``make_*``
builds the layer and its inputs once and returns a zero-argument ``step`` that runs one forward
and backward. Both sides get the same inputs and weights (from one NumPy generator). To add a
workload, write one ``build(m)`` that works for ``m = ember`` and ``m = torch`` and append
``("name", lambda: build(ember), lambda: build(torch))`` (see ``linear`` below).

Timing follows ``benchmarks/overhead.py`` (its ``compare``): the median over repeats of a
timeit loop of about 0.1 s, the libraries taking turns, after a warm-up. The clock is the
process's CPU time (all threads' work; ``--wall`` for wall time); torch and BLAS use the same
number of threads. The ratio is Ember/PyTorch: above 1 means Ember is slower.
"""

from __future__ import annotations

import argparse
import os
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

Step = Callable[[], None]


def _tensors(m: Any, *arrays: np.ndarray, requires_grad: bool = False) -> list:
    return [m.tensor(a, requires_grad=requires_grad) for a in arrays]


def _load(layer: Any, m: Any, rng: np.random.Generator) -> None:
    """Give the layer the same random weights in both libraries."""
    state = {
        k: m.tensor(rng.uniform(-0.1, 0.1, tuple(v.shape)).astype(np.float32))
        for k, v in layer.state_dict().items()
    }
    layer.load_state_dict(state)


def _fwd_bwd(layer: Any, inputs: list, grad: Any) -> Step:
    def step() -> None:
        layer.zero_grad()
        for x in inputs:
            x.grad = None
        layer(*inputs).backward(grad)

    return step


# -- workloads ------------------------------------------------------------------------------
def linear(m: Any, batch: int = 128, n_in: int = 784, n_out: int = 512) -> Step:
    """nn.Linear(784, 512) on a batch of 128: forward, backward to weights, bias and input."""
    rng = np.random.default_rng(0)
    layer = m.nn.Linear(n_in, n_out)
    _load(layer, m, rng)
    x = m.tensor(rng.standard_normal((batch, n_in)).astype(np.float32), requires_grad=True)
    grad = m.tensor(rng.standard_normal((batch, n_out)).astype(np.float32))
    return _fwd_bwd(layer, [x], grad)


def conv2d(m: Any) -> Step:
    """nn.Conv2d(32, 64, 3, padding=1) on (64, 32, 28, 28)."""
    rng = np.random.default_rng(0)
    layer = m.nn.Conv2d(32, 64, 3, padding=1)
    _load(layer, m, rng)
    x = m.tensor(rng.standard_normal((64, 32, 28, 28)).astype(np.float32), requires_grad=True)
    grad = m.tensor(rng.standard_normal((64, 64, 28, 28)).astype(np.float32))
    return _fwd_bwd(layer, [x], grad)


def batchnorm2d(m: Any) -> Step:
    """nn.BatchNorm2d(64) in training mode on (64, 64, 28, 28)."""
    rng = np.random.default_rng(0)
    layer = m.nn.BatchNorm2d(64)
    x = m.tensor(rng.standard_normal((64, 64, 28, 28)).astype(np.float32), requires_grad=True)
    grad = m.tensor(rng.standard_normal((64, 64, 28, 28)).astype(np.float32))
    return _fwd_bwd(layer, [x], grad)


def layernorm(m: Any) -> Step:
    """nn.LayerNorm(512) on (64, 128, 512)."""
    rng = np.random.default_rng(0)
    layer = m.nn.LayerNorm(512)
    x = m.tensor(rng.standard_normal((64, 128, 512)).astype(np.float32), requires_grad=True)
    grad = m.tensor(rng.standard_normal((64, 128, 512)).astype(np.float32))
    return _fwd_bwd(layer, [x], grad)


def cross_entropy(m: Any, batch: int = 128, classes: int = 1000) -> Step:
    """F.cross_entropy on (128, 1000) logits with class-index targets."""
    rng = np.random.default_rng(0)
    logits = m.tensor(rng.standard_normal((batch, classes)).astype(np.float32), requires_grad=True)
    target = m.tensor(rng.integers(0, classes, batch))

    def step() -> None:
        logits.grad = None
        m.nn.functional.cross_entropy(logits, target).backward()

    return step


WORKLOADS: list[tuple[str, Callable[[], Step], Callable[[], Step]]] = [
    ("Linear 784->512, batch 128, fwd+bwd", lambda: linear(ember), lambda: linear(torch)),
    ("Conv2d 32->64 3x3, (64, 32, 28, 28), fwd+bwd", lambda: conv2d(ember), lambda: conv2d(torch)),
    (
        "BatchNorm2d(64), (64, 64, 28, 28), fwd+bwd",
        lambda: batchnorm2d(ember),
        lambda: batchnorm2d(torch),
    ),
    ("LayerNorm(512), (64, 128, 512), fwd+bwd", lambda: layernorm(ember), lambda: layernorm(torch)),
    (
        "cross_entropy (128, 1000), fwd+bwd",
        lambda: cross_entropy(ember),
        lambda: cross_entropy(torch),
    ),
]


# -- running --------------------------------------------------------------------------------
def check_same(make_ember: Callable[[], Step], make_torch: Callable[[], Step]) -> None:
    """Build both sides once; a workload whose step fails should fail before timing starts."""
    make_ember()()
    make_torch()()


def run(workloads: list, repeat: int, timer: Any) -> list[tuple[str, float, float]]:
    rows = []
    for name, make_ember, make_torch in workloads:
        check_same(make_ember, make_torch)
        cases = {
            "ember": ("step()", {"step": make_ember()}),
            "torch": ("step()", {"step": make_torch()}),
        }
        seconds = compare(cases, repeat, timer=timer)
        rows.append((name, seconds["ember"] * 1e3, seconds["torch"] * 1e3))
    return rows


def table(rows: list[tuple[str, float, float]]) -> str:
    lines = [
        "| workload | Ember (ms) | PyTorch (ms) | Ember/PyTorch |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, e, t in rows:
        lines.append(f"| {name} | {e:.3f} | {t:.3f} | {e / t:.2f}x |")
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
    clock = "wall" if args.wall else "CPU"
    print(
        machine(args.threads)
        + f"\n\nMilliseconds of {clock} time per step (lower is better); medians of {repeat} "
        "repeats.\n\n" + table(run(workloads, repeat, timer))
    )


if __name__ == "__main__":
    main()
