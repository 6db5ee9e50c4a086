"""Wall-time benchmarking. Mirrors ``torch.utils.benchmark``: Timer, Measurement, Compare.

Light to import (the standard library and NumPy only); ``ember`` itself is imported when a
Timer is built.
"""

from ember.utils.benchmark.common import Measurement, TaskSpec, select_unit
from ember.utils.benchmark.compare import Colorize, Compare
from ember.utils.benchmark.timer import Timer, timer

__all__ = ["Colorize", "Compare", "Measurement", "TaskSpec", "Timer", "select_unit", "timer"]
