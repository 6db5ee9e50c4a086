"""The errors ``ember.io`` raises, one class per problem, each naming the file."""

from __future__ import annotations

import pickle

__all__ = [
    "ChecksumError",
    "SerializationError",
    "StateMismatchError",
    "TruncatedFileError",
    "UnsafePickleError",
]


class SerializationError(RuntimeError):
    """A file could not be read back: malformed, not the expected format, or unreadable."""


class TruncatedFileError(SerializationError):
    """The file ends before the data its header announces (an interrupted copy or write)."""


class ChecksumError(SerializationError):
    """The SHA-256 stored in the file does not match its contents (a corrupt file)."""


class StateMismatchError(SerializationError):
    """A checkpoint does not fit the model, optimizer or scheduler it is restored into."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global outside the allow-list; nothing from it was run."""
