"""The CPU backend: NumPy arrays, and BLAS thread control through threadpoolctl."""

from __future__ import annotations

import os

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

xp = np

_limiter: threadpool_limits | None = None


def set_num_threads(num: int) -> None:
    """Set the number of BLAS threads used on the CPU. Mirrors ``torch.set_num_threads``."""
    global _limiter
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {num!r}")
    _limiter = threadpool_limits(limits=num, user_api="blas")


def get_num_threads() -> int:
    """Return the number of BLAS threads in use on the CPU. Mirrors ``torch.get_num_threads``."""
    counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return max(counts) if counts else (os.cpu_count() or 1)
