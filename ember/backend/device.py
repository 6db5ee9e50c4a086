"""Devices: where a tensor's array lives and which array module computes on it."""

from __future__ import annotations

from typing import Any

_DEVICE_TYPES = ("cpu", "cuda")


class Device:
    """A device such as ``cpu`` or ``cuda:1``. Mirrors ``torch.device``."""

    __slots__ = ("index", "type")

    def __new__(cls, type: Any, index: int | None = None) -> Device:
        if isinstance(type, Device):
            return type
        if not isinstance(type, str):
            raise TypeError(f"Expected a string or a device, got {type!r}")
        name, _, idx = type.partition(":")
        if name not in _DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}"
            )
        if idx:
            if index is not None:
                raise RuntimeError(f"device string {type!r} already has an index")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if name == "cpu":
            index = None  # PyTorch keeps cpu indexless
        key = (name, index)
        cached = _CACHE.get(key)
        if cached is None:
            cached = object.__new__(cls)
            object.__setattr__(cached, "type", name)
            object.__setattr__(cached, "index", index)
            _CACHE[key] = cached
        return cached

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Device is immutable")

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except RuntimeError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        if self.type != other.type:
            return False
        # 'cuda' means the current CUDA device; compare it equal to an explicit index of 0.
        return (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __reduce__(self) -> tuple:
        return (Device, (str(self),))


_CACHE: dict[tuple, Device] = {}

CPU = Device("cpu")


def as_device(device: Any) -> Device:
    """Turn ``None``, a string, an int (a CUDA index) or a Device into a Device."""
    if device is None:
        return CPU
    if isinstance(device, Device):
        return device
    if isinstance(device, int):
        return Device("cuda", device)
    return Device(device)
