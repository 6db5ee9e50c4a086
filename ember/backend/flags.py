"""Global runtime flags that PyTorch exposes at top level, recorded by Ember.

NumPy has no switch for deterministic kernels, matmul precision, denormal flushing or
inter-op thread pools: Ember's CPU kernels are already deterministic and compute matmuls in
full precision. These functions keep PyTorch's signatures, validation and getters, so code
written for PyTorch runs unchanged; the recorded values are for callers to read.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember.backend.device import CPU, Device, as_device

__all__ = [
    "are_deterministic_algorithms_enabled",
    "get_default_device",
    "get_deterministic_debug_mode",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "init_num_threads",
    "is_deterministic_algorithms_warn_only_enabled",
    "is_vulkan_available",
    "is_warn_always_enabled",
    "set_default_device",
    "set_deterministic_debug_mode",
    "set_float32_matmul_precision",
    "set_flush_denormal",
    "set_num_interop_threads",
    "set_warn_always",
    "use_deterministic_algorithms",
]

_PRECISIONS = ("highest", "high", "medium")
_DEBUG_MODES = ("default", "warn", "error")

_state: dict[str, Any] = {
    "deterministic": False,
    "warn_only": False,
    "matmul_precision": "highest",
    "warn_always": False,
    "interop_threads": 1,
    "default_device": CPU,
}


def _check_bool(value: Any, what: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record whether only deterministic algorithms may run. Mirrors ``torch.use_deterministic_algorithms``.

    Differences from PyTorch: every Ember CPU kernel is deterministic, so the flag changes nothing.
    """  # noqa: E501
    _check_bool(mode, "use_deterministic_algorithms(): argument 'mode' (position 1)")
    _check_bool(warn_only, "use_deterministic_algorithms(): argument 'warn_only'")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> bool:
    """Return whether deterministic mode is on. Mirrors ``torch.are_deterministic_algorithms_enabled``."""  # noqa: E501
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Return whether deterministic mode only warns. Mirrors ``torch.is_deterministic_algorithms_warn_only_enabled``."""  # noqa: E501
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    """Set deterministic mode by level: 0/'default', 1/'warn', 2/'error'. Mirrors ``torch.set_deterministic_debug_mode``."""  # noqa: E501
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(
                "invalid value of debug_mode, expected one of `default`, `warn`, `error`, "
                f"but got {debug_mode}"
            )
        debug_mode = _DEBUG_MODES.index(debug_mode)
    elif not isinstance(debug_mode, int) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(
            f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}"
        )
    _state["deterministic"], _state["warn_only"] = debug_mode > 0, debug_mode == 1


def get_deterministic_debug_mode() -> int:
    """Return 0, 1 or 2 as set by the deterministic flags. Mirrors ``torch.get_deterministic_debug_mode``."""  # noqa: E501
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """Record the float32 matmul precision. Mirrors ``torch.set_float32_matmul_precision``.

    Differences from PyTorch: NumPy always multiplies float32 in full precision.
    """
    if not isinstance(precision, str):
        raise RuntimeError(
            f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}"
        )
    if precision not in _PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _state["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """Return the recorded float32 matmul precision. Mirrors ``torch.get_float32_matmul_precision``."""  # noqa: E501
    return _state["matmul_precision"]


def set_warn_always(b: bool, /) -> None:
    """Record whether warnings that fire once should fire always. Mirrors ``torch.set_warn_always``."""  # noqa: E501
    if not isinstance(b, bool):
        raise RuntimeError(f"setWarnOnlyOnce expects a bool, but got {type(b).__name__}")
    _state["warn_always"] = b


def is_warn_always_enabled() -> bool:
    """Return the flag set by ``set_warn_always``. Mirrors ``torch.is_warn_always_enabled``."""
    return _state["warn_always"]


def set_flush_denormal(mode: bool) -> bool:
    """Return False: NumPy cannot flush denormals. Mirrors ``torch.set_flush_denormal``.

    PyTorch also returns False where the CPU does not support it; it returns True on x86.
    """
    return False


def set_num_interop_threads(num: int) -> None:
    """Record the size of the inter-op thread pool. Mirrors ``torch.set_num_interop_threads``.

    Differences from PyTorch: Ember runs ops on one thread, so the number is only recorded
    (and may be set again).
    """
    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"set_num_interop_threads expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    _state["interop_threads"] = num


def get_num_interop_threads() -> int:
    """Return the recorded inter-op thread count. Mirrors ``torch.get_num_interop_threads``."""
    return _state["interop_threads"]


def init_num_threads() -> None:
    """Do nothing: NumPy's BLAS sets up its own threads. Mirrors ``torch.init_num_threads``."""


def is_vulkan_available() -> bool:
    """Return False: Ember has no Vulkan backend. Mirrors ``torch.is_vulkan_available``."""
    return False


def set_default_device(device: Device | str | int | None) -> None:
    """Set the device new tensors go to (None resets to cpu). Mirrors ``torch.set_default_device``.

    Differences from PyTorch: only 'cpu' is accepted until the CUDA backend lands.
    """
    device = CPU if device is None else as_device(device)
    if device.type != "cpu":
        raise RuntimeError(
            f"Ember's CUDA backend is not available yet (asked for device '{device}'): "
            "tensors live on the CPU for now"
        )
    _state["default_device"] = device


def get_default_device() -> Device:
    """Return the default device of new tensors. Mirrors ``torch.get_default_device``."""
    return _state["default_device"]
