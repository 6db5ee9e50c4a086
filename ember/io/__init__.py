"""Saving and loading: ``ember.save``/``ember.load``, safetensors, PyTorch checkpoints, training checkpoints.

No pickle is ever run on load: Ember's files are safetensors with a JSON structure, and
PyTorch's zip checkpoints go through an allow-listing unpickler.
"""  # noqa: E501

from ember.io.atomic import atomic_write, sha256_file
from ember.io.checkpoint import Checkpoint, CheckpointManager
from ember.io.errors import (
    ChecksumError,
    SerializationError,
    StateMismatchError,
    TruncatedFileError,
    UnsafePickleError,
)
from ember.io.safetensors import load_safetensors, save_safetensors
from ember.io.serialization import load, save
from ember.io.torch_pickle import load_torch

__all__ = [
    "Checkpoint",
    "CheckpointManager",
    "ChecksumError",
    "SerializationError",
    "StateMismatchError",
    "TruncatedFileError",
    "UnsafePickleError",
    "atomic_write",
    "load",
    "load_safetensors",
    "load_torch",
    "save",
    "save_safetensors",
    "sha256_file",
]
