"""Timer: timeit, made aware of Ember. Mirrors ``torch.utils.benchmark.utils.timer``.

Measurements run with the requested thread count (restored afterwards), after a warmup,
and are returned as :class:`Measurement` objects holding every replicate.
"""

from __future__ import annotations

import statistics
import textwrap
import time
import timeit
from collections.abc import Callable
from typing import Any

from ember.utils.benchmark import common

__all__ = ["Timer", "timer"]

_MAX_BLOCK = 2147483647


def timer() -> float:
    """Return the current time in seconds (``time.perf_counter``). Mirrors ``torch``'s ``timer``.

    Differences from PyTorch: no accelerator synchronisation (Ember's CPU backend is
    synchronous).
    """
    return time.perf_counter()


class Timer:
    """Measure the execution time of Python statements. Mirrors ``torch.utils.benchmark.Timer``.

    Built on ``timeit.Timer``; adds warmup, a fixed thread count (``num_threads``, applied
    through ``ember.set_num_threads`` and restored afterwards), replicates and metadata
    (``label``, ``sub_label``, ``description``, ``env``) used by :class:`Compare`.
    ``ember`` is available in ``stmt`` and ``setup`` without an import.

    Args:
        stmt: Code snippet run in a loop and timed.
        setup: Code run once before timing (defines what ``stmt`` needs).
        global_setup: C++ only in PyTorch; must be empty.
        timer: Callable returning the current time in seconds.
        globals: Variables visible to ``stmt`` and ``setup``.
        label: Summary of ``stmt`` (e.g. "ReLU(x + 1)").
        sub_label: Disambiguates measurements with the same label (Compare rows).
        description: Distinguishes measurements with the same label and sub_label
            (Compare columns).
        env: Tag for otherwise identical tasks run in different environments.
        num_threads: Thread count while ``stmt`` runs.

    Differences from PyTorch: Python statements only (no ``language="cpp"``), no Callgrind.
    """

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        global_setup: str = "",
        timer: Callable[[], float] = timer,
        globals: dict[str, Any] | None = None,
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
    ) -> None:
        if not isinstance(stmt, str):
            raise ValueError("Currently only a `str` stmt is supported.")
        if global_setup:
            raise ValueError(
                f"global_setup is C++ only, got `{global_setup}`. Most "
                "likely this code can simply be moved to `setup`."
            )
        import ember

        self._globals = dict(globals or {})
        self._globals.setdefault("ember", ember)
        stmt = textwrap.dedent(stmt)
        stmt = (stmt[1:] if stmt and stmt[0] == "\n" else stmt).rstrip()
        setup = textwrap.dedent(setup)
        setup = (setup[1:] if setup and setup[0] == "\n" else setup).rstrip()
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)
        self._task_spec = common.TaskSpec(
            stmt=stmt,
            setup=setup,
            global_setup=global_setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )

    def _timeit(self, number: int) -> float:
        return max(self._timer.timeit(number), 1e-9)

    def timeit(self, number: int = 1000000) -> common.Measurement:
        """Run ``stmt`` ``number`` times (after a warmup). Mirrors ``torch``'s ``Timer.timeit``."""
        with common.set_ember_threads(self._task_spec.num_threads):
            self._timeit(number=max(int(number // 100), 2))
            return common.Measurement(
                number_per_run=number,
                raw_times=[self._timeit(number=number)],
                task_spec=self._task_spec,
            )

    def repeat(self, repeat: int = -1, number: int = -1) -> None:
        """Not supported, as in PyTorch: use :meth:`blocked_autorange`. Mirrors ``torch``'s."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def autorange(self, callback: Callable[[int, float], Any] | None = None) -> None:
        """Not supported, as in PyTorch: use :meth:`blocked_autorange`. Mirrors ``torch``'s."""
        raise NotImplementedError("See `Timer.blocked_autorange.`")

    def _threaded_measurement_loop(
        self,
        number: int,
        time_hook: Callable[[], float],
        stop_hook: Callable[[list[float]], bool],
        min_run_time: float,
        max_run_time: float | None = None,
        callback: Callable[[int, float], Any] | None = None,
    ) -> list[float]:
        total_time = 0.0
        can_stop = False
        times: list[float] = []
        with common.set_ember_threads(self._task_spec.num_threads):
            while (total_time < min_run_time) or (not can_stop):
                time_spent = time_hook()
                times.append(time_spent)
                total_time += time_spent
                if callback:
                    callback(number, time_spent)
                can_stop = stop_hook(times)
                if max_run_time and total_time > max_run_time:
                    break
        return times

    def _estimate_block_size(self, min_run_time: float) -> int:
        with common.set_ember_threads(self._task_spec.num_threads):
            overhead = statistics.median_low([self._timeit(0) for _ in range(5)])
            number = 1
            while True:
                time_taken = self._timeit(number)
                relative_overhead = overhead / time_taken
                if relative_overhead <= 1e-4 and time_taken >= min_run_time / 1000:
                    break
                if time_taken > min_run_time:
                    break
                if number * 10 > _MAX_BLOCK:
                    break
                number *= 10
        return number

    def blocked_autorange(
        self,
        callback: Callable[[int, float], Any] | None = None,
        min_run_time: float = 0.2,
    ) -> common.Measurement:
        """Measure many blocks of ``stmt`` for at least ``min_run_time`` seconds.

        The block size grows by 10x until timer overhead is negligible (<= 0.01%) or a
        block takes longer than ``min_run_time``; blocks are then timed until their total
        passes ``min_run_time``. ``callback(number, time)`` is called after each block.
        Mirrors ``torch.utils.benchmark.Timer.blocked_autorange``.
        """
        number = self._estimate_block_size(min_run_time)
        times = self._threaded_measurement_loop(
            number,
            lambda: self._timeit(number),
            lambda times: True,
            min_run_time=min_run_time,
            callback=callback,
        )
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], Any] | None = None,
    ) -> common.Measurement:
        """Measure blocks until IQR / median < ``threshold`` or ``max_run_time`` is spent.

        At least 4 blocks and ``min_run_time`` seconds are measured before checking.
        Mirrors ``torch.utils.benchmark.Timer.adaptive_autorange``.
        """
        number = self._estimate_block_size(min_run_time=0.05)

        def stop_hook(times: list[float]) -> bool:
            if len(times) > 3:
                m = common.Measurement(number, times, self._task_spec)
                return m.meets_confidence(threshold=threshold)
            return False

        times = self._threaded_measurement_loop(
            number,
            lambda: self._timeit(number),
            stop_hook,
            min_run_time,
            max_run_time,
            callback=callback,
        )
        return common.Measurement(number_per_run=number, raw_times=times, task_spec=self._task_spec)

    def collect_callgrind(
        self,
        number: int = 100,
        *,
        repeats: int | None = None,
        collect_baseline: bool = True,
        retain_out_file: bool = False,
    ) -> Any:
        """Not supported: instruction counts need valgrind. Mirrors ``torch``'s method name.

        Raises:
            NotImplementedError: Always.
        """
        raise NotImplementedError(
            "Timer.collect_callgrind is not supported by Ember: it needs valgrind "
            "(callgrind), which Ember does not drive; use blocked_autorange for wall times."
        )
