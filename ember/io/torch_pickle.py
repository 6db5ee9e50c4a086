"""Read PyTorch checkpoints (``torch.save``'s zip format) without PyTorch and without running code.

The pickle inside the zip (``<name>/data.pkl``) is read by an ``Unpickler`` whose
``find_class`` allows only what ``torch.load(weights_only=True)`` needs for tensors: the tensor
and parameter rebuild functions, the typed storage classes, ``collections.OrderedDict``,
``torch.Size`` and a few harmless builtins. Any other global raises ``UnsafePickleError`` naming
it, before anything is called. Storages (``<name>/data/<key>``) are read as NumPy buffers;
tensors are rebuilt from (storage, offset, size, stride) with bounds checked, then copied.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from typing import Any

import ml_dtypes
import numpy as np

from ember.io.errors import SerializationError, TruncatedFileError, UnsafePickleError
from ember.tensor import Tensor

__all__ = ["load_torch"]

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": ml_dtypes.bfloat16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
    "UntypedStorage": np.uint8,
}
# torch.save's legacy (pre-1.6) format starts with this pickled magic number.
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _StorageType:
    """Stands in for ``torch.FloatStorage`` & co: only its dtype matters."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


def _check_bounds(storage: np.ndarray, offset: int, size: tuple, stride: tuple) -> None:
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise pickle.UnpicklingError(f"invalid tensor size {size} / stride {stride}")
    if 0 in size:
        return
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset < 0 or last >= storage.size:
        raise pickle.UnpicklingError(
            f"tensor of size {size}, stride {stride}, offset {offset} reads past its storage "
            f"of {storage.size} elements"
        )


def _rebuild_tensor(
    storage: np.ndarray, offset: int, size: tuple, stride: tuple, requires_grad: bool = False, *_
) -> Tensor:
    if not isinstance(storage, np.ndarray):
        raise pickle.UnpicklingError("a tensor must be rebuilt from a storage")
    size, stride = tuple(size), tuple(stride)
    _check_bounds(storage, offset, size, stride)
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[offset:] if storage.size else storage,
        shape=size,
        strides=[s * item for s in stride],
        writeable=False,
    )
    tensor = Tensor(np.array(view, copy=True, order="C"))
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_parameter(data: Tensor, requires_grad: bool, *_: Any) -> Tensor:
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("a parameter must be rebuilt from a tensor")
    return data.requires_grad_(bool(requires_grad))


def _rebuild_parameter_with_state(
    data: Tensor, requires_grad: bool, backward_hooks: Any, state: Any
) -> Tensor:
    # The state holds Python attributes set on the Parameter; they are not kept.
    return _rebuild_parameter(data, requires_grad)


def _codecs_encode(text: str, encoding: str = "utf-8") -> bytes:
    # Protocol 2 pickles bytes as _codecs.encode(str, "latin1"); nothing else is allowed.
    if not isinstance(text, str) or encoding != "latin1":
        raise pickle.UnpicklingError("_codecs.encode is allowed only for latin1 bytes")
    return text.encode("latin1")


_ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "Size"): tuple,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): _codecs_encode,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
}


class _Unpickler(pickle.Unpickler):
    """Unpickler that resolves only allow-listed globals and zip-backed storages."""

    def __init__(self, file: Any, archive: zipfile.ZipFile | None, prefix: str, path: str) -> None:
        super().__init__(file)
        self.archive, self.prefix, self.path = archive, prefix, path
        self.storages: dict[str, np.ndarray] = {}
        self.little = True

    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":  # protocol 2 spells builtins the Python 2 way
            module = "builtins"
        if (module, name) in _ALLOWED:
            return _ALLOWED[module, name]
        if module in ("torch", "torch.storage") and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "torch" and name.endswith("Storage"):
            raise SerializationError(
                f"{self.path}: tensors stored as torch.{name} have a dtype Ember does not support"
            )
        raise UnsafePickleError(
            f"{self.path}: refused to load the global '{module}.{name}': only tensors, storages, "
            "OrderedDict and plain values are allowed (what torch.load(weights_only=True) accepts)"
        )

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"{self.path}: unsupported persistent id {pid!r:.80}")
        _, storage_type, key, _location, _numel = pid
        if not isinstance(storage_type, _StorageType) or self.archive is None:
            raise pickle.UnpicklingError(f"{self.path}: invalid storage reference {key!r:.40}")
        if key not in self.storages:
            try:
                raw = self.archive.read(f"{self.prefix}data/{key}")
            except KeyError:
                raise SerializationError(f"{self.path}: missing storage data/{key}") from None
            dtype = storage_type.dtype if self.little else storage_type.dtype.newbyteorder(">")
            usable = len(raw) - len(raw) % dtype.itemsize
            array = np.frombuffer(raw[:usable], dtype=dtype)
            self.storages[key] = array.astype(storage_type.dtype) if not self.little else array
        storage = self.storages[key]
        # The same bytes seen through another dtype (a typed view of an untyped storage).
        if storage.dtype != storage_type.dtype:
            storage = storage.view(np.uint8)
            usable = storage.size - storage.size % storage_type.dtype.itemsize
            storage = storage[:usable].view(storage_type.dtype)
        return storage


def _open_archive(path: str) -> tuple[zipfile.ZipFile, str]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise TruncatedFileError(f"{path}: truncated or corrupt zip archive ({err})") from None
    pickles = [n for n in archive.namelist() if n.endswith("data.pkl") and n.count("/") == 1]
    if not pickles:
        raise SerializationError(f"{path}: not a PyTorch checkpoint (no <name>/data.pkl inside)")
    return archive, pickles[0][: -len("data.pkl")]


def load_torch(path: str | os.PathLike, map_location: Any = None) -> Any:
    """Load a file written by ``torch.save`` without PyTorch. Mirrors ``torch.load(weights_only=True)``.

    Reads the zip format (``.pt``, ``.pth``, ``pytorch_model.bin``) into Ember tensors, keeping
    dicts, OrderedDicts, lists, tuples and plain values. Any other global in the pickle raises
    ``UnsafePickleError`` (a ``pickle.UnpicklingError``) naming it; no code from the file runs.

    Differences from PyTorch: the legacy pre-1.6 format is refused; parameters load as tensors
    with ``requires_grad`` set; ``map_location`` is a device or None.
    """  # noqa: E501
    path = os.fspath(path)
    with open(path, "rb") as file:
        is_zip = file.read(4) == b"PK\x03\x04"
    if not is_zip:
        with open(path, "rb") as file:
            obj = _load_pickle(_Unpickler(file, None, "", path), path)
        if obj == _LEGACY_MAGIC and type(obj) is int:
            raise SerializationError(
                f"{path}: PyTorch's legacy (pre-1.6) format is not supported; re-save it with "
                "torch.save(obj, path) from PyTorch >= 1.6 (the zip format)"
            )
        return obj
    archive, prefix = _open_archive(path)
    with archive:
        try:
            data = archive.read(f"{prefix}data.pkl")
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise SerializationError(f"{path}: corrupt zip entry data.pkl ({err})") from None
        unpickler = _Unpickler(io.BytesIO(data), archive, prefix, path)
        unpickler.little = _byteorder(archive, prefix)
        obj = _load_pickle(unpickler, path)
    return obj if map_location is None else _to_device(obj, map_location)


def _byteorder(archive: zipfile.ZipFile, prefix: str) -> bool:
    try:
        return archive.read(f"{prefix}byteorder").strip() != b"big"
    except KeyError:
        return True


def _load_pickle(unpickler: _Unpickler, path: str) -> Any:
    try:
        return unpickler.load()
    except (UnsafePickleError, SerializationError):
        raise
    except EOFError as err:
        raise TruncatedFileError(f"{path}: truncated checkpoint ({err})") from None
    except zipfile.BadZipFile as err:  # e.g. a CRC-32 mismatch: a flipped byte in a storage
        raise SerializationError(f"{path}: corrupt checkpoint ({err})") from None
    except pickle.UnpicklingError as err:
        if "truncated" in str(err):
            raise TruncatedFileError(f"{path}: truncated checkpoint ({err})") from None
        raise pickle.UnpicklingError(f"{path}: {err}") from None
    except Exception as err:  # malformed opcodes, wrong argument types, ...
        raise SerializationError(f"{path}: corrupt pickle ({type(err).__name__}: {err})") from None


def _to_device(obj: Any, device: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, device)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj
