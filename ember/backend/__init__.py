"""The array backends: the only code that knows NumPy from CuPy.

Ops get the array module from their inputs with ``array_module(x)``; nothing outside this
package names a backend. CuPy will be imported lazily in ``cuda.py``, on first use of 'cuda'.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.backend.cpu import get_num_threads, set_num_threads
from ember.backend.device import CPU, Device, as_device
from ember.backend.dtypes import DType, as_dtype, from_numpy_dtype
from ember.backend.random import Generator, default_generator, generator_for

Array = Any
DeviceLike = "str | Device"

# Array types a Function may return; the CUDA backend adds cupy.ndarray when it loads.
ARRAY_TYPES: tuple[type, ...] = (np.ndarray,)


def array_module(*arrays: Array) -> Any:
    """Return the array module (numpy, or cupy) that computes on these arrays."""
    return np


def device_of(array: Array) -> Device:
    """Return the device an array lives on."""
    return CPU


def ensure_array(value: Any, dtype: Any = None) -> Array:
    """Return value as a backend array (scalars from reductions become 0-d arrays)."""
    return np.asarray(value, dtype=dtype)


def view_geometry(view: Array, base: Array) -> tuple[tuple, tuple, int] | None:
    """Where view sits inside a C-contiguous base: (shape, strides, offset) in elements.

    None when base is not C-contiguous or view does not lie inside it.
    """
    if not base.flags.c_contiguous:
        return None
    itemsize = base.itemsize
    start = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if start % itemsize or start < 0 or start >= max(base.nbytes, 1):
        return None
    if any(s % itemsize for s in view.strides):
        return None
    return view.shape, tuple(s // itemsize for s in view.strides), start // itemsize


def strided_view(flat: Array, shape: tuple, strides: tuple, offset: int) -> Array:
    """A writable view into a 1-D array, with strides in elements (the inverse of view_geometry)."""
    itemsize = flat.itemsize
    return np.lib.stride_tricks.as_strided(
        flat[offset:], shape=shape, strides=tuple(s * itemsize for s in strides)
    )


def module_for(device: Device) -> Any:
    """Return the array module of a device; 'cuda' is reserved for the CuPy backend."""
    if device.type == "cpu":
        return np
    raise RuntimeError(
        f"Ember's CUDA backend is not available yet (asked for device '{device}'): "
        "tensors live on the CPU for now"
    )


__all__ = [
    "ARRAY_TYPES",
    "CPU",
    "Array",
    "DType",
    "Device",
    "DeviceLike",
    "Generator",
    "array_module",
    "as_device",
    "as_dtype",
    "default_generator",
    "device_of",
    "ensure_array",
    "from_numpy_dtype",
    "generator_for",
    "get_num_threads",
    "module_for",
    "set_num_threads",
    "strided_view",
    "view_geometry",
]
