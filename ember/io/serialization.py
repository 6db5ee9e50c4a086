"""``ember.save`` / ``ember.load``: tensors and nested containers in one safetensors file.

No pickle: tensors are stored as safetensors entries named by their path in the object
(``model.0.weight``), and the structure as JSON under the metadata key ``ember``. The JSON
encodes what JSON lacks with one-key marker objects: ``{"__tensor__": name}``,
``{"__ndarray__": name}``, ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}`` (keys
that are not all strings, or that start with ``__``), ``{"__odict__": [...]}``,
``{"__counter__": [...]}`` and
``{"__float__": "nan" | "inf" | "-inf"}``. The same tensor object reached twice is stored once
and comes back as one object.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter, OrderedDict
from typing import Any

import numpy as np

from ember.io.atomic import atomic_write
from ember.io.errors import SerializationError
from ember.io.safetensors import encode_safetensors, read_safetensors, to_host_array
from ember.tensor import Tensor

__all__ = ["load", "save"]

_FORMAT = "ember.save/1"
_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_DICT_KINDS = {OrderedDict: "__odict__", Counter: "__counter__"}
_DICT_MARKERS = {"__dict__": dict, "__odict__": OrderedDict, "__counter__": Counter}


class _Encoder:
    """Turn an object into JSON-ready values, collecting its tensors as host arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.names: dict[int, str] = {}  # id(tensor) -> entry name, so aliases are stored once
        self.keep: list[Any] = []  # keeps memoised objects alive, so ids stay unique

    def entry(self, obj: Any, path: str) -> str:
        name = self.names.get(id(obj))
        if name is None:
            name = path or "tensor"
            if name in self.arrays:
                name = f"{name}#{len(self.arrays)}"
            self.arrays[name] = to_host_array(obj)
            self.names[id(obj)] = name
            self.keep.append(obj)
        return name

    def encode(self, obj: Any, path: str = "") -> Any:
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(float(obj))}
        if isinstance(obj, Tensor):
            out: dict[str, Any] = {"__tensor__": self.entry(obj, path)}
            if obj.requires_grad:
                out["requires_grad"] = True
            return out
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self.entry(obj, path)}
        if isinstance(obj, list):
            return [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, _join(path, i)) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = [(k, self.encode(v, _join(path, k))) for k, v in obj.items()]
            kind = _DICT_KINDS.get(type(obj))
            if kind is not None:  # OrderedDict, Counter: keep the type
                return {kind: [[self.encode(k), v] for k, v in items]}
            if all(isinstance(k, str) and not k.startswith("__") for k in obj):
                return dict(items)
            return {"__dict__": [[self.encode(k), v] for k, v in items]}
        raise TypeError(
            f"ember.save: cannot store an object of type {type(obj).__name__} at "
            f"{path or 'the top level'!r}; only tensors, NumPy arrays, dicts, lists, tuples, "
            "str, int, float, bool and None are stored (no pickle)"
        )


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _decode(value: Any, tensors: dict[str, Any], path: str) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors, path) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value or "__ndarray__" in value:
        name = value.get("__tensor__", value.get("__ndarray__"))
        if name not in tensors:
            raise SerializationError(f"{path}: the structure names a missing tensor {name!r}")
        tensor = tensors[name]
        if "__ndarray__" in value:
            return tensor.numpy(force=True).copy()
        if value.get("requires_grad"):
            tensor.requires_grad_(True)
        return tensor
    if "__tuple__" in value:
        return tuple(_decode(v, tensors, path) for v in value["__tuple__"])
    if "__float__" in value:
        return _SPECIAL_FLOATS[value["__float__"]]
    for marker, kind in _DICT_MARKERS.items():
        if marker in value:
            pairs = value[marker]  # keys were encoded like values: tuples come back as tuples
            out = {_decode(k, tensors, path): _decode(v, tensors, path) for k, v in pairs}
            return out if kind is dict else kind(out)
    return {k: _decode(v, tensors, path) for k, v in value.items()}


def save(obj: Any, f: str | os.PathLike) -> None:
    """Save tensors and nested dicts/lists/tuples of them and plain values. Mirrors ``torch.save``.

    The file is a safetensors file (readable by any safetensors loader) with the structure as
    JSON in its metadata and a SHA-256 checked by ``load``; it is written atomically.

    Differences from PyTorch: no pickle, so only tensors, NumPy arrays, dicts, lists, tuples,
    str, int, float, bool and None can be stored; ``f`` must be a path.
    """
    encoder = _Encoder()
    structure = json.dumps(
        {"format": _FORMAT, "object": encoder.encode(obj)}, allow_nan=False, ensure_ascii=True
    )
    data = encode_safetensors(encoder.arrays, {"ember": structure})
    atomic_write(f, lambda file: file.write(data))


def load(f: str | os.PathLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Load what ``save`` wrote, any safetensors file, or a PyTorch checkpoint. Mirrors ``torch.load``.

    A safetensors file without Ember's metadata loads as a dict of name to tensor. A PyTorch
    zip checkpoint (``.pt``, ``.pth``, ``pytorch_model.bin``) is read by the restricted
    unpickler of ``ember.io.load_torch``, without PyTorch. Truncated or corrupt files raise
    ``TruncatedFileError``/``ChecksumError``/``SerializationError`` naming the file.

    Differences from PyTorch: ``map_location`` is a device (str or ``ember.device``) or None;
    ``weights_only=False`` is refused (Ember never runs code from a file).
    """  # noqa: E501
    if not weights_only:
        raise ValueError("ember.load: weights_only=False is not supported; no pickle is run")
    path = os.fspath(f)
    with open(path, "rb") as file:
        magic = file.read(9)
    # safetensors: an 8-byte header size, then the JSON header's "{"; else a zip or a pickle.
    if magic[8:9] != b"{" and (magic[:4] == b"PK\x03\x04" or magic[:1] == b"\x80"):
        from ember.io.torch_pickle import load_torch

        return load_torch(path, map_location=map_location)
    arrays, metadata = read_safetensors(path)
    tensors = {}
    for name, array in arrays.items():
        tensor = Tensor(array)
        tensors[name] = tensor.to(map_location) if map_location is not None else tensor
    if "ember" not in metadata:
        return tensors
    try:
        structure = json.loads(metadata["ember"])
        if structure.get("format") != _FORMAT:
            raise ValueError(f"unknown format {structure.get('format')!r}")
        return _decode(structure["object"], tensors, path)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise SerializationError(f"{path}: corrupt Ember structure metadata ({err})") from None
