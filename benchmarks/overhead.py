"""Per-op overhead and matmul throughput: Ember vs PyTorch (and raw NumPy) in one run.

Usage: ``python benchmarks/overhead.py [--threads N] [--quick] [--write]``

Workloads:
  (a) a 16-element float32 add, inputs without requires_grad
  (b) the same add with requires_grad inputs (the graph is recorded)
  (c) forward + backward of a chain of 20 small ops (mul, add, tanh, exp; 16 elements),
      then ``sum().backward()``
  (d) float32 matmul throughput (GFLOP/s) at n = 256, 1024, 2048

Each timing is the median over several repeats of a timeit loop (about 0.1 s each), after a
warm-up; the libraries take turns, so load from elsewhere hits them alike. The overhead rows
count the process's CPU time (the work is single-threaded), the matmul rows wall time. Torch
and BLAS use the same number of threads. ``--write`` puts the table into benchmarks/RESULTS.md,
between the result markers, and keeps the rest of that file (the notes) as it is.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
import timeit
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_info

import ember

RESULTS = Path(__file__).with_name("RESULTS.md")
START, END = "<!-- results:start -->", "<!-- results:end -->"


def compare(
    cases: dict[str, tuple[str, dict]], repeat: int, block: int = 1, timer: Any = time.perf_counter
) -> dict:
    """Median seconds per execution of each case's statement, over repeat timed loops.

    The cases take turns in blocks of `block` loops (a, b, c, a, b, c, ...), so a burst of load
    from elsewhere on the machine hits every library alike. Before its block a case sleeps a
    little and runs once untimed: BLAS and OpenMP workers of the library that ran before keep
    spinning for a while after their last call, and would steal the cores.
    """
    timers, numbers, times = {}, {}, {}
    for name, (stmt, env) in cases.items():
        timers[name] = timeit.Timer(stmt, globals=env, timer=timer)
        number, seconds = timers[name].autorange()  # also the warm-up: runs >= 0.2 s
        numbers[name] = max(1, round(number * 0.1 / seconds))  # about 0.1 s per loop
        times[name] = []
    for _ in range(-(-repeat // block)):
        for name, timer in timers.items():
            time.sleep(0.2 if block > 1 else 0.0)
            timer.timeit(1)
            for _ in range(block):
                times[name].append(timer.timeit(numbers[name]) / numbers[name])
    return {name: statistics.median(t) for name, t in times.items()}


def setup_small(m, rng: np.random.Generator) -> dict:
    """Tensors for workloads (a)-(c) in module m (ember or torch), from the same arrays."""
    arrays = [rng.uniform(-1, 1, 16).astype(np.float32) for _ in range(4)]
    x, y, w, b = (m.tensor(a) for a in arrays)
    xg, yg = (m.tensor(a, requires_grad=True) for a in arrays[:2])
    return {"m": m, "x": x, "y": y, "w": w, "b": b, "xg": xg, "yg": yg, "chain": chain}


def chain(m, x, w, b):
    """20 small ops: (mul, add, tanh, exp) x 5; values stay in a tame range."""
    h = x
    for _ in range(5):
        h = m.exp(m.tanh(h * w + b))
    return h


CHAIN_STEP = "xg.grad = None\nchain(m, xg, w, b).sum().backward()"


def overhead_rows(repeat: int) -> list[tuple]:
    env_e = setup_small(ember, np.random.default_rng(0))
    env_t = setup_small(torch, np.random.default_rng(0))
    env_n = {"x": env_e["x"].data, "y": env_e["y"].data}
    rows = []
    for name, stmt, numpy_too in [
        ("(a) add, 16 float32, no grad", "x + y", True),
        ("(b) add, 16 float32, requires_grad", "xg + yg", False),
        ("(c) 20-op chain fwd+bwd, 16 float32", CHAIN_STEP, False),
    ]:
        cases = {"ember": (stmt, env_e), "torch": (stmt, env_t)}
        if numpy_too:
            cases["numpy"] = (stmt, env_n)
        # CPU time of this process: single-threaded work, and immune to other jobs' load.
        seconds = compare(cases, repeat, timer=time.process_time)
        t = {k: v * 1e6 for k, v in seconds.items()}  # microseconds
        rows.append((name, t["ember"], t["torch"], t.get("numpy")))
    return rows


def matmul_rows(sizes: list[int], repeat: int) -> list[tuple]:
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        cases = {
            "ember": ("f(x, y)", {"x": ember.tensor(a), "y": ember.tensor(b), "f": ember.matmul}),
            "torch": ("f(x, y)", {"x": torch.tensor(a), "y": torch.tensor(b), "f": torch.matmul}),
            "numpy": ("f(x, y)", {"x": a, "y": b, "f": np.matmul}),
        }
        seconds = compare(cases, repeat, block=max(1, repeat // 3))
        gflops = {k: 2.0 * n**3 / v / 1e9 for k, v in seconds.items()}
        name = f"(d) matmul {n}x{n} float32"
        rows.append((name, gflops["ember"], gflops["torch"], gflops["numpy"]))
    return rows


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(overhead: list[tuple], matmul: list[tuple]) -> str:
    lines = [
        "| workload | Ember | PyTorch | NumPy | Ember/PyTorch | Ember/NumPy |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, e, t, n in overhead:  # microseconds: lower is better, ratio > 1 = slower
        ratio_n = None if n is None else e / n
        row = [
            f"{name} (us)",
            fmt(e),
            fmt(t),
            fmt(n),
            f"{e / t:.2f}x",
            fmt(ratio_n) + "x" * bool(n),
        ]
        lines.append("| " + " | ".join(row) + " |")
    for name, e, t, n in matmul:  # GFLOP/s: higher is better, ratio < 1 = slower
        row = [f"{name} (GFLOP/s)", fmt(e, 1), fmt(t, 1), fmt(n, 1), f"{e / t:.2f}", f"{e / n:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads: int) -> str:
    blas = ", ".join(
        f"{p['internal_api']} {p.get('version') or ''}".strip()
        for p in threadpool_info()
        if p["user_api"] == "blas"
    )
    return (
        f"- date: {datetime.date.today().isoformat()}\n"
        f"- machine: {cpu_model()}, {os.cpu_count()} cores; {threads} threads for torch and BLAS\n"
        f"- python {platform.python_version()}, numpy {np.__version__} ({blas}), "
        f"torch {torch.__version__}, ember {ember.__version__}"
    )


def write_results(text: str) -> None:
    block = f"{START}\n{text}\n{END}"
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START in old and END in old:
        new = old[: old.index(START)] + block + old[old.index(END) + len(END) :]
    else:
        new = f"# Benchmark results\n\nWritten by `benchmarks/overhead.py --write`.\n\n{block}\n"
    RESULTS.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 2048 matmul")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    repeat = 5 if args.quick else 15
    sizes = [256, 1024] if args.quick else [256, 1024, 2048]
    text = (
        machine(args.threads)
        + "\n\nOverhead rows: microseconds per call (lower is better; Ember/PyTorch > 1 means "
        "Ember is slower). Matmul rows: GFLOP/s (higher is better; a ratio < 1 means Ember is "
        "slower). Medians of "
        f"{repeat} repeats.\n\n" + table(overhead_rows(repeat), matmul_rows(sizes, repeat))
    )
    print(text)
    if args.write:
        write_results(text)
        print(f"\nwritten to {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
