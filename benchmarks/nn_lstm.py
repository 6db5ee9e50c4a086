"""LSTM training step: Ember vs PyTorch side by side in one run.

Usage: ``python benchmarks/nn_lstm.py [--threads N] [--quick] [--wall] [--profile]``

The workload is issue 4's: a 2-layer ``nn.LSTM(128, 256)`` on a batch of 32 sequences of 64
steps, forward, loss ``out.pow(2).mean()``, backward to the input and every parameter (plus a
GRU and a bidirectional LSTM of the same size for context). Both sides get the same weights and
inputs. Timing is ``benchmarks/overhead.py``'s ``compare``: medians over repeats of ~0.1 s
loops, the libraries taking turns, CPU time of the process by default. The ratio is
Ember/PyTorch: above 1 means Ember is slower. ``--profile`` prints cProfile's top entries for
Ember's step instead.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nn_layers import table  # the sibling scripts, not a package
from overhead import compare, machine

from ember import nn as ember_rnn  # the public namespace

Step = Callable[[], None]


def recurrent(m: Any, kind: str = "LSTM", bidirectional: bool = False) -> Step:
    """A 2-layer recurrent layer (128 -> 256), batch 32, 64 steps: forward + backward."""
    rng = np.random.default_rng(0)
    layer = getattr(ember_rnn if m is ember else torch.nn, kind)(
        128, 256, num_layers=2, bidirectional=bidirectional
    )
    state = {
        k: m.tensor(rng.uniform(-0.0625, 0.0625, tuple(v.shape)).astype(np.float32))
        for k, v in layer.state_dict().items()
    }
    layer.load_state_dict(state)
    x = m.tensor(rng.standard_normal((64, 32, 128)).astype(np.float32), requires_grad=True)

    def step() -> None:
        layer.zero_grad()
        x.grad = None
        out, _ = layer(x)
        out.pow(2).mean().backward()

    return step


WORKLOADS: list[tuple[str, Callable[[], Step], Callable[[], Step]]] = [
    (
        "LSTM(128->256) x2 layers, batch 32, seq 64, train step",
        lambda: recurrent(ember),
        lambda: recurrent(torch),
    ),
    (
        "GRU(128->256) x2 layers, batch 32, seq 64, train step",
        lambda: recurrent(ember, "GRU"),
        lambda: recurrent(torch, "GRU"),
    ),
    (
        "LSTM(128->256) x2 bidirectional, batch 32, seq 64, train step",
        lambda: recurrent(ember, bidirectional=True),
        lambda: recurrent(torch, bidirectional=True),
    ),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    parser.add_argument("--profile", action="store_true", help="profile Ember's LSTM step")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    if args.profile:
        step = recurrent(ember)
        step()
        cProfile.runctx("for _ in range(5): step()", {"step": step}, {}, "/tmp/nn_lstm.prof")
        pstats.Stats("/tmp/nn_lstm.prof").sort_stats("tottime").print_stats(25)
        return
    repeat = 5 if args.quick else 15
    timer = time.perf_counter if args.wall else time.process_time
    rows = []
    for name, make_ember, make_torch in WORKLOADS:
        cases = {
            "ember": ("step()", {"step": make_ember()}),
            "torch": ("step()", {"step": make_torch()}),
        }
        seconds = compare(cases, repeat, timer=timer)
        rows.append((name, seconds["ember"] * 1e3, seconds["torch"] * 1e3))
    clock = "wall" if args.wall else "CPU"
    print(
        machine(args.threads)
        + f"\n\nMilliseconds of {clock} time per step (lower is better); medians of {repeat} "
        "repeats.\n\n" + table(rows)
    )


if __name__ == "__main__":
    main()
