"""Safetensors files through the ``safetensors`` package, interchangeable with PyTorch's.

``save_safetensors`` writes what ``safetensors.torch.load_file`` reads and vice versa. Every file
Ember writes carries a ``sha256`` metadata entry, checked on load; the hash covers (each field
prefixed with its length as 8 little-endian bytes) every other metadata key and value in sorted
key order, then for each tensor in sorted name order its name, dtype tag (``F32``), shape
(``3,4``) and raw little-endian bytes. It is thus independent of the file's layout, and catches a
flipped byte in the data and in the header alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
from collections.abc import Mapping
from typing import Any

import ml_dtypes
import numpy as np

from ember.io.atomic import atomic_write
from ember.io.errors import ChecksumError, SerializationError, TruncatedFileError
from ember.tensor import Tensor

__all__ = ["load_safetensors", "save_safetensors"]

# safetensors dtype tag <-> NumPy dtype, for the ten dtypes Ember has.
_NP_OF_TAG = {
    "F16": np.dtype(np.float16),
    "BF16": np.dtype(ml_dtypes.bfloat16),
    "F32": np.dtype(np.float32),
    "F64": np.dtype(np.float64),
    "I8": np.dtype(np.int8),
    "I16": np.dtype(np.int16),
    "I32": np.dtype(np.int32),
    "I64": np.dtype(np.int64),
    "U8": np.dtype(np.uint8),
    "BOOL": np.dtype(np.bool_),
}
_TAG_OF_NP = {dtype: tag for tag, dtype in _NP_OF_TAG.items()}
_HEADER_LIMIT = 100 * 1024 * 1024  # safetensors' own cap on the JSON header


def _safetensors() -> Any:
    try:
        import safetensors
    except ImportError:
        raise ImportError(
            "ember.io needs the 'safetensors' package (a dependency of ember) for "
            ".safetensors files: pip install 'safetensors>=0.4'"
        ) from None
    return safetensors


def to_host_array(tensor: Tensor | np.ndarray) -> np.ndarray:
    """Return a C-contiguous little-endian NumPy array holding the tensor's values."""
    array = tensor.numpy(force=True) if isinstance(tensor, Tensor) else tensor
    if array.dtype not in _TAG_OF_NP:
        raise TypeError(f"safetensors: cannot store dtype {array.dtype}")
    if sys.byteorder == "big" and array.dtype.itemsize > 1:
        array = array.astype(array.dtype.newbyteorder("<"))
    # Not np.ascontiguousarray: it turns a 0-d array into a 1-d one.
    return array if array.flags.c_contiguous else array.copy(order="C")


def payload_sha256(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """Return the SHA-256 this module stores under ``sha256`` (see the module docstring)."""
    digest = hashlib.sha256()

    def field(data: bytes | memoryview) -> None:
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)

    for key in sorted(k for k in metadata if k != "sha256"):
        field(key.encode())
        field(metadata[key].encode())
    for name in sorted(arrays):
        array = arrays[name]
        field(name.encode())
        field(_TAG_OF_NP[array.dtype].encode())
        field(",".join(map(str, array.shape)).encode())
        field(memoryview(array.reshape(-1).view(np.uint8)) if array.size else b"")
    return digest.hexdigest()


def encode_safetensors(arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> bytes:
    """Serialise host arrays (from ``to_host_array``) and string metadata to file bytes."""
    safetensors = _safetensors()
    metadata = dict(metadata)
    metadata["sha256"] = payload_sha256(arrays, metadata)
    if hasattr(safetensors, "TensorSpec"):  # safetensors >= 0.7 takes pointers
        specs = {
            name: safetensors.TensorSpec(
                dtype=array.dtype.name,
                shape=array.shape,
                data_ptr=array.ctypes.data,
                data_len=array.nbytes,
            )
            for name, array in arrays.items()
        }
    else:  # older releases take bytes
        specs = {
            name: {"dtype": array.dtype.name, "shape": array.shape, "data": array.tobytes()}
            for name, array in arrays.items()
        }
    return bytes(safetensors.serialize(specs, metadata=metadata))


def _check_header(raw: bytes, path: str) -> dict[str, Any]:
    """Parse the header; raise TruncatedFileError/SerializationError before trusting it."""
    if len(raw) < 8:
        raise TruncatedFileError(f"{path}: truncated file ({len(raw)} bytes, no header)")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > _HEADER_LIMIT:
        raise SerializationError(f"{path}: not a safetensors file (header size {size})")
    if len(raw) < 8 + size:
        raise TruncatedFileError(
            f"{path}: truncated file: the header needs {size} bytes, {len(raw) - 8} present"
        )
    try:
        header = json.loads(raw[8 : 8 + size])
    except (UnicodeDecodeError, ValueError) as err:
        raise SerializationError(f"{path}: corrupt safetensors header ({err})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{path}: corrupt safetensors header (not a JSON object)")
    try:
        ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
        metadata = header.get("__metadata__") or {}
        if not isinstance(metadata, dict):
            raise TypeError("__metadata__ is not an object")
    except (KeyError, IndexError, TypeError, ValueError) as err:
        raise SerializationError(f"{path}: corrupt safetensors header ({err!r})") from None
    needed = 8 + size + max(ends, default=0)
    if len(raw) < needed:
        raise TruncatedFileError(
            f"{path}: truncated file: {len(raw)} bytes, the header announces {needed}"
        )
    return header


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a file into host arrays and its metadata, verifying the ``sha256`` when present."""
    path = os.fspath(path)
    with open(path, "rb") as file:
        raw = file.read()
    header = _check_header(raw, path)
    metadata = header.get("__metadata__") or {}
    try:
        entries = _safetensors().deserialize(raw)
    except Exception as err:  # the Rust parser raises SafetensorError for any malformed file
        raise SerializationError(f"{path}: corrupt safetensors file ({err})") from None
    arrays = {}
    for name, entry in entries:
        dtype = _NP_OF_TAG.get(entry["dtype"])
        if dtype is None:
            raise SerializationError(
                f"{path}: tensor {name!r} has dtype {entry['dtype']}, which Ember does not support"
            )
        arrays[name] = np.frombuffer(entry["data"], dtype=dtype).reshape(entry["shape"])
        if sys.byteorder == "big" and dtype.itemsize > 1:
            arrays[name] = arrays[name].byteswap().view(dtype)
    expected = metadata.get("sha256")
    if expected is not None:
        actual = payload_sha256(arrays, metadata)
        if actual != expected:
            raise ChecksumError(
                f"{path}: corrupt file: SHA-256 mismatch (stored {expected[:12]}..., "
                f"contents hash to {actual[:12]}...)"
            )
    return arrays, metadata


def save_safetensors(
    tensors: Mapping[str, Tensor],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a dict of tensors to a safetensors file, atomically. Mirrors ``safetensors.torch.save_file``.

    Non-contiguous tensors are written as contiguous copies, and tensors sharing memory as
    separate copies (safetensors stores no aliasing). A ``sha256`` metadata entry is added.

    Differences from PyTorch: ``metadata`` may not use the key ``sha256``.
    """  # noqa: E501
    metadata = dict(metadata or {})
    if "sha256" in metadata:
        raise ValueError("save_safetensors: the metadata key 'sha256' is reserved for the checksum")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("save_safetensors: metadata keys and values must be str")
    arrays = {}
    for name, tensor in tensors.items():
        if not isinstance(name, str) or not isinstance(tensor, Tensor):
            raise TypeError(
                f"save_safetensors: expected a dict of str to Tensor, got {name!r}: "
                f"{type(tensor).__name__}"
            )
        arrays[name] = to_host_array(tensor)
    data = encode_safetensors(arrays, metadata)
    atomic_write(path, lambda file: file.write(data))


def load_safetensors(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a safetensors file into a dict of name to tensor. Mirrors ``safetensors.torch.load_file``.

    Reads files from any writer; a ``sha256`` written by Ember is checked, and a truncated or
    corrupt file raises ``TruncatedFileError``/``ChecksumError``/``SerializationError``.
    """  # noqa: E501
    arrays, _ = read_safetensors(path)
    return {name: Tensor(array) for name, array in arrays.items()}
