"""cross_entropy forward + backward: Ember vs PyTorch, side by side in one run.

Usage: ``python benchmarks/nn_loss.py [--threads N] [--quick]``

Workloads (float32 logits with requires_grad, int64 class targets, reduction='mean'):
  batch 128 x 1000 classes, batch 512 x 10 classes, and 512 x 10 with label_smoothing=0.1;
  each step is ``x.grad = None; F.cross_entropy(x, t).backward()``. Also log_softmax alone
  (forward + backward with a random upstream gradient) at 128 x 1000.

Timings are medians of the process's CPU time per step, measured with the libraries taking
turns (``compare`` from ``overhead.py``); Ember/PyTorch > 1 means Ember is slower.
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

F = {ember: ember.nn.functional, torch: torch.nn.functional}

CE_STEP = "x.grad = None\nF.cross_entropy(x, t, label_smoothing=s).backward()"
LOG_SOFTMAX_STEP = "x.grad = None\nF.log_softmax(x, 1).backward(g)"


def setup(m, batch: int, classes: int, smoothing: float) -> dict:
    """The same logits, targets and upstream gradient in module m (ember or torch)."""
    rng = np.random.default_rng(batch * classes)
    logits = rng.standard_normal((batch, classes)).astype(np.float32)
    targets = rng.integers(0, classes, batch)
    upstream = rng.standard_normal((batch, classes)).astype(np.float32)
    return {
        "F": F[m],
        "x": m.tensor(logits, requires_grad=True),
        "t": m.tensor(targets),
        "g": m.tensor(upstream),
        "s": smoothing,
    }


def rows(repeat: int) -> list[tuple[str, float, float]]:
    out = []
    workloads = [
        ("cross_entropy fwd+bwd, 128 x 1000", CE_STEP, 128, 1000, 0.0),
        ("cross_entropy fwd+bwd, 512 x 10", CE_STEP, 512, 10, 0.0),
        ("cross_entropy fwd+bwd, 512 x 10, label_smoothing", CE_STEP, 512, 10, 0.1),
        ("log_softmax fwd+bwd, 128 x 1000", LOG_SOFTMAX_STEP, 128, 1000, 0.0),
    ]
    for name, stmt, batch, classes, smoothing in workloads:
        cases = {m.__name__: (stmt, setup(m, batch, classes, smoothing)) for m in (ember, torch)}
        seconds = compare(cases, repeat, timer=time.process_time)
        out.append((name, seconds["ember"] * 1e6, seconds["torch"] * 1e6))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    repeat = 5 if args.quick else 15
    lines = [
        machine(args.threads),
        "",
        f"Microseconds of CPU time per step, medians of {repeat} repeats.",
        "",
        "| workload | Ember (us) | PyTorch (us) | Ember/PyTorch |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, e, t in rows(repeat):
        lines.append(f"| {name} | {e:.1f} | {t:.1f} | {e / t:.2f}x |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
