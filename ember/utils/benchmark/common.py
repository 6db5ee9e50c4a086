"""Measurement results and formatting helpers. Mirrors ``torch.utils.benchmark.utils.common``.

Statistics follow PyTorch's exactly: quantiles by linear interpolation in float64, and the
significant-figure and unit estimates in float32 (PyTorch builds those from Python floats
with ``torch.tensor``, whose default dtype is float32), so the same raw times give the
same numbers and text.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import math
import textwrap
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "Measurement",
    "TaskSpec",
    "ordered_unique",
    "select_unit",
    "set_ember_threads",
    "trim_sigfig",
    "unit_to_english",
]

_MAX_SIGNIFICANT_FIGURES = 4
_MIN_CONFIDENCE_INTERVAL = 25e-9  # 25 ns

# A Measurement carries a warning when its spread is suspect.
_IQR_WARN_THRESHOLD = 0.1
_IQR_GROSS_WARN_THRESHOLD = 0.25


@dataclasses.dataclass(init=True, repr=False, eq=True, frozen=True)
class TaskSpec:
    """Describe what a Timer measures (everything but its globals).

    Mirrors ``torch.utils.benchmark.utils.common.TaskSpec``.
    """

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """Best effort string label for the measurement."""
        sub = self.sub_label
        if self.label is not None:
            return self.label + (f": {sub}" if sub else "")
        if "\n" not in self.stmt:
            return self.stmt + (f": {sub}" if sub else "")
        return f"stmt:{f' ({sub})' if sub else ''}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        """Return the setup line of the summary ('' for an empty setup)."""
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """Build the TaskSpec part of a Measurement's repr."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join([f"{i}\n" if "\n" in i else i for i in sections if i])


_TASKSPEC_FIELDS = tuple(f.name for f in dataclasses.fields(TaskSpec))


def _log10_f32(x: float) -> float:
    # log10 of a float32 value, rounded to float32 (correctly, unlike NumPy's float32 log10,
    # which can be off by an ulp and then pick the wrong unit at exact powers of ten).
    x32 = float(np.float32(x))
    if x32 <= 0.0 or not math.isfinite(x32):
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.log10(np.float64(x32)))
    return float(np.float32(math.log10(x32)))


def _quantile(sorted_times: np.ndarray, q: float) -> float:
    # PyTorch's quantile(q) (linear interpolation) equals numpy's default quantile.
    return float(np.quantile(sorted_times, q))


@dataclasses.dataclass(init=True, repr=False)
class Measurement:
    """The result of a Timer measurement. Mirrors ``torch.utils.benchmark.Measurement``.

    Holds one or more timings of a statement (``raw_times``, each covering
    ``number_per_run`` runs); the statistics use the per-run ``times``.
    """

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict[Any, Any] | None = None  # Reserved for user payloads.

    def __post_init__(self) -> None:
        self._sorted_times: tuple[float, ...] = ()
        self._warnings: tuple[str, ...] = ()
        self._median = -1.0
        self._mean = -1.0
        self._p25 = -1.0
        self._p75 = -1.0

    def __getattr__(self, name: str) -> Any:
        # Forward TaskSpec fields (stmt, label, num_threads, ...) for convenience.
        if name in _TASKSPEC_FIELDS:
            return getattr(self.task_spec, name)
        return super().__getattribute__(name)

    @property
    def times(self) -> list[float]:
        """Per-run times: each raw time divided by ``number_per_run``."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self) -> float:
        """Median per-run time in seconds."""
        self._lazy_init()
        return self._median

    @property
    def mean(self) -> float:
        """Mean per-run time in seconds."""
        self._lazy_init()
        return self._mean

    @property
    def iqr(self) -> float:
        """Interquartile range (75th minus 25th percentile) of the per-run times."""
        self._lazy_init()
        return self._p75 - self._p25

    @property
    def significant_figures(self) -> int:
        """Estimate the number of significant figures of the median (1 to 4).

        Uses the interquartile points only and a static z value of 1.645, as PyTorch does.
        """
        self._lazy_init()
        n_total = len(self._sorted_times)
        lower_bound = int(n_total // 4)
        upper_bound = int(np.ceil(np.float32(3 * n_total / 4)))
        points = np.asarray(self._sorted_times[lower_bound:upper_bound], dtype=np.float32)
        std = float(points.std())
        sqrt_n = float(np.sqrt(np.float32(len(points))))
        confidence_interval = max(1.645 * std / sqrt_n, _MIN_CONFIDENCE_INTERVAL)
        relative_ci = _log10_f32(self._median / confidence_interval)
        num_significant_figures = int(np.floor(np.float32(relative_ci)))
        return min(max(num_significant_figures, 1), _MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        """Whether the spread (IQR / median) is large enough to warn about."""
        self._lazy_init()
        return bool(self._warnings)

    def _lazy_init(self) -> None:
        if self.raw_times and not self._sorted_times:
            self._sorted_times = tuple(sorted(self.times))
            arr = np.asarray(self._sorted_times, dtype=np.float64)
            self._median = _quantile(arr, 0.5)
            self._mean = float(arr.mean())
            self._p25 = _quantile(arr, 0.25)
            self._p75 = _quantile(arr, 0.75)

            def add_warning(msg: str) -> None:
                rel_iqr = self.iqr / self.median * 100
                self._warnings += (
                    f"  WARNING: Interquartile range is {rel_iqr:.1f}% "
                    f"of the median measurement.\n           {msg}",
                )

            if not self.meets_confidence(_IQR_GROSS_WARN_THRESHOLD):
                add_warning("This suggests significant environmental influence.")
            elif not self.meets_confidence(_IQR_WARN_THRESHOLD):
                add_warning("This could indicate system fluctuation.")

    def meets_confidence(self, threshold: float = _IQR_WARN_THRESHOLD) -> bool:
        """Return whether IQR / median is below ``threshold``."""
        return self.iqr / self.median < threshold

    @property
    def title(self) -> str:
        """The task's title (label or stmt, with the sub_label)."""
        return self.task_spec.title

    @property
    def env(self) -> str | None:
        """The task's env tag.

        Differences from PyTorch: PyTorch's property is meant to return "Unspecified env"
        for None but, through a typo, falls back to the raw ``task_spec.env``; Ember returns
        that same raw value so that tables render identically.
        """
        return self.task_spec.env

    @property
    def as_row_name(self) -> str:
        """The row name used by Compare: sub_label, else stmt."""
        return self.sub_label or self.stmt or "[Unknown]"

    def __repr__(self) -> str:
        self._lazy_init()
        skip_line, newline = "MEASUREMENT_REPR_SKIP_LINE", "\n"
        n = len(self._sorted_times)
        time_unit, time_scale = select_unit(self._median)
        iqr_filter = "" if n >= 4 else skip_line
        threads = self.num_threads
        repr_str = f"""
{object.__repr__(self)}
{self.task_spec.summarize()}
  {"Median: " if n > 1 else ""}{self._median / time_scale:.2f} {time_unit}
  {iqr_filter}IQR:    {self.iqr / time_scale:.2f} {time_unit} ({self._p25 / time_scale:.2f} to {self._p75 / time_scale:.2f})
  {n} measurement{"s" if n > 1 else ""}, {self.number_per_run} runs {"per measurement," if n > 1 else ","} {threads} thread{"s" if threads > 1 else ""}
{newline.join(self._warnings)}""".strip()  # noqa: E501
        return "\n".join(line for line in repr_str.splitlines() if skip_line not in line)

    @staticmethod
    def merge(measurements: Iterable[Measurement]) -> list[Measurement]:
        """Merge replicates of the same TaskSpec into one Measurement each.

        Times are extrapolated to ``number_per_run=1``; metadata is dropped.
        Mirrors ``torch.utils.benchmark.Measurement.merge``.
        """
        grouped: collections.defaultdict[TaskSpec, list[Measurement]] = collections.defaultdict(
            list
        )
        for m in measurements:
            grouped[m.task_spec].append(m)

        def merge_group(task_spec: TaskSpec, group: list[Measurement]) -> Measurement:
            times: list[float] = []
            for m in group:
                times.extend(m.times)
            return Measurement(number_per_run=1, raw_times=times, task_spec=task_spec)

        return [merge_group(t, g) for t, g in grouped.items()]


def select_unit(t: float) -> tuple[str, float]:
    """Choose a time unit so that ``t`` has O(1) magnitude.

    Mirrors ``torch.utils.benchmark.select_unit``.
    """
    exponent = _log10_f32(t) // 3
    key = int(exponent) if math.isfinite(exponent) else None
    time_unit = {-3: "ns", -2: "us", -1: "ms"}.get(key, "s")  # type: ignore[arg-type]
    time_scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[time_unit]
    return time_unit, time_scale


def unit_to_english(u: str) -> str:
    """Spell out a time unit ('us' -> 'microsecond').

    Mirrors ``torch.utils.benchmark.utils.common.unit_to_english``.
    """
    return {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}[u]


def trim_sigfig(x: float, n: int) -> float:
    """Trim ``x`` to ``n`` significant figures (3.14159, 2 -> 3.1).

    Mirrors ``torch.utils.benchmark.utils.common.trim_sigfig``.
    """
    if n != int(n):
        raise AssertionError("Number of significant figures must be an integer")
    magnitude = math.ceil(_log10_f32(abs(x)))
    scale = 10 ** (magnitude - n)
    return float(np.round(np.float32(x / scale)) * np.float32(scale))


def ordered_unique(elements: Iterable[Any]) -> list[Any]:
    """Return the distinct elements in first-seen order.

    Mirrors ``torch.utils.benchmark.utils.common.ordered_unique``.
    """
    return list(dict.fromkeys(elements))


@contextlib.contextmanager
def set_ember_threads(n: int) -> Iterator[None]:
    """Run a block with ``n`` threads, restoring the prior count.

    Mirrors ``torch.utils.benchmark.utils.common.set_torch_threads``.
    """
    from ember.backend import get_num_threads, set_num_threads

    prior_num_threads = get_num_threads()
    try:
        set_num_threads(n)
        yield
    finally:
        set_num_threads(prior_num_threads)
