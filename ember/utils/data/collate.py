"""Collation: turn a list of samples into a batch. Mirrors ``torch.utils.data._utils.collate``.

``default_collate`` stacks tensors along a new first dim, turns NumPy arrays and Python numbers
into tensors, leaves strings and bytes as lists, and recurses into dicts, namedtuples and
sequences (a tuple of columns comes back as a list, as in PyTorch). ``collate`` takes a
``collate_fn_map`` from element type to function, so a custom collate can extend the default.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ember.backend.dtypes import float64
from ember.ops.creation import as_tensor, tensor
from ember.ops.dims import stack
from ember.tensor import Tensor
from ember.utils.data.dataset import _StackedSamples

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_STR_OR_OBJECT = re.compile(r"[SaUO]")  # NumPy dtype codes that cannot become a tensor

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

CollateMap = dict[type | tuple[type, ...], Callable]


def _map_mapping(elem: collections.abc.Mapping, values: dict) -> Any:
    """Rebuild ``elem``'s mapping type around ``values`` (a plain dict if it cannot be)."""
    try:
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(values)
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def _map_sequence(elem: collections.abc.Sequence, values: list) -> Any:
    """Rebuild ``elem``'s sequence type around ``values`` (a list if it cannot be)."""
    try:
        if isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(elem)(values)
    except TypeError:
        return values


def collate(batch: Any, *, collate_fn_map: CollateMap | None = None) -> Any:
    """Collate a batch, dispatching on the first element's type. Mirrors ``collate``.

    ``collate_fn_map`` maps an element type (or tuple of types) to ``fn(batch, *,
    collate_fn_map)``: an exact type match wins, then the first ``isinstance`` match in order.
    """
    if type(batch) is _StackedSamples:  # TensorDataset's batch, already gathered
        return list(batch.columns)
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        values = {
            key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem
        }
        return _map_mapping(elem, values)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(
            *(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch))
        )
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _map_sequence(elem, columns)
    raise TypeError(_ERR.format(elem_type))


def collate_tensor_fn(batch: list[Tensor], *, collate_fn_map: CollateMap | None = None) -> Tensor:
    """Stack tensors along a new first dim."""
    return stack(batch, 0)


def collate_numpy_array_fn(batch: list, *, collate_fn_map: CollateMap | None = None) -> Any:
    """Turn NumPy arrays into tensors (no copy) and stack them."""
    elem = batch[0]
    if _STR_OR_OBJECT.search(elem.dtype.str) is not None:
        raise TypeError(_ERR.format(elem.dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: list, *, collate_fn_map: CollateMap | None = None) -> Tensor:
    """Turn NumPy scalars into a 1-D tensor of their dtype."""
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch: list, *, collate_fn_map: CollateMap | None = None) -> Tensor:
    """Turn Python floats into a float64 tensor (PyTorch's choice, not the default dtype)."""
    return tensor(batch, dtype=float64)


def collate_int_fn(batch: list, *, collate_fn_map: CollateMap | None = None) -> Tensor:
    """Turn Python ints into an int64 tensor (bools into a bool tensor)."""
    return tensor(batch)


def collate_str_fn(batch: list, *, collate_fn_map: CollateMap | None = None) -> list:
    """Leave strings and bytes as the list they came in."""
    return batch


default_collate_fn_map: CollateMap = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Any) -> Any:
    """Collate a list of samples into a batch. Mirrors ``torch.utils.data.default_collate``.

    Tensors stack along a new dim 0; NumPy arrays and scalars become tensors; Python floats
    float64 and ints int64 tensors; strings and bytes stay a list; mappings, namedtuples and
    sequences are collated field by field (tuples come back as lists). Tensors of different
    shapes raise ``stack``'s RuntimeError.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays in a sample into tensors, leaving the rest. Mirrors ``default_convert``.

    Used by the DataLoader when automatic batching is off (``batch_size=None``).
    """
    if isinstance(data, Tensor):
        return data
    elem_type = type(data)
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        if isinstance(data, np.ndarray) and _STR_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _map_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _map_sequence(data, [default_convert(d) for d in data])
    return data
