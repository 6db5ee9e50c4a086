"""Load Hugging Face model folders from local disk: config, weights and tokenizer.

A folder holds ``config.json``, ``model.safetensors`` (read by ``ember.io``, which parses it
with the ``safetensors`` package) and optionally ``tokenizer.json`` (read through the ``tokenizers``
package). Nothing is downloaded: the path is local. Install both with ``pip install ember[hf]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from ember.io.safetensors import load_safetensors
from ember.nn.module import Module
from ember.tensor import Tensor

__all__ = ["load_tokenizer", "load_weights", "read_config"]


def _path(directory: str | os.PathLike, name: str) -> str:
    path = os.path.join(os.fspath(directory), name)
    if not os.path.isfile(path):
        if not os.path.isdir(os.fspath(directory)):
            raise FileNotFoundError(f"from_pretrained: no such directory: '{directory}'")
        raise FileNotFoundError(f"from_pretrained: '{directory}' has no {name}")
    return path


def read_config(directory: str | os.PathLike) -> dict[str, Any]:
    """Read ``config.json`` from a Hugging Face model folder into a dict.

    Args:
        directory: the local model folder.

    Returns:
        The parsed JSON object.
    """
    with open(_path(directory, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def load_weights(directory: str | os.PathLike) -> dict[str, Tensor]:
    """Read ``model.safetensors`` from a model folder into a dict of name to Tensor.

    Every dtype (bfloat16 and float16 included) is read through ``ember.io``; a truncated or
    corrupt file raises its ``SerializationError`` naming the file.

    Args:
        directory: the local model folder.

    Returns:
        Every tensor in the file, by its name in the file.
    """
    return load_safetensors(_path(directory, "model.safetensors"))


def load_tokenizer(directory: str | os.PathLike) -> Any | None:
    """Read ``tokenizer.json`` through the ``tokenizers`` package, or None if there is none.

    Args:
        directory: the local model folder.

    Returns:
        A ``tokenizers.Tokenizer``, or None when the folder has no ``tokenizer.json``.
    """
    path = os.path.join(os.fspath(directory), "tokenizer.json")
    if not os.path.isfile(path):
        return None
    try:
        from tokenizers import Tokenizer
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("tokenizer.json needs tokenizers: pip install 'ember[hf]'") from e
    return Tokenizer.from_file(path)


def load_into(
    model: Module,
    weights: dict[str, Tensor],
    rename: Callable[[str], str | None],
    optional: Iterable[str] = (),
) -> None:
    """Rename Hugging Face weight names to the model's and load them, strictly.

    Args:
        model: the Ember model whose ``state_dict`` keys are the targets.
        weights: name in the file -> tensor.
        rename: maps a name in the file to the model's name, or None to ignore it (buffers
            Hugging Face stores that Ember recomputes, heads the model does not have).
        optional: model keys that may be absent from the file (tied weights).

    Raises:
        KeyError: listing the names in the file that map onto nothing in the model and the
            model's parameters the file does not provide; the model is left unchanged.
    """
    own = model.state_dict()
    mapped, unmapped = {}, []
    for name, tensor in weights.items():
        target = rename(name)
        if target is None:
            continue
        if target in own:
            mapped[target] = tensor
        else:
            unmapped.append(name)
    optional = set(optional)
    missing = [k for k in own if k not in mapped and k not in optional]
    if unmapped or missing:
        lines = [f"cannot load these weights into {type(model).__name__}:"]
        if unmapped:
            lines.append(f"  names in the file that map to no parameter: {sorted(unmapped)}")
        if missing:
            lines.append(f"  parameters the file does not provide: {missing}")
        raise KeyError("\n".join(lines))
    model.load_state_dict(mapped, strict=False)


def config_from_dict(cls: type, values: dict[str, Any]) -> Any:
    """Build a config dataclass from a ``config.json`` dict, ignoring keys it does not know."""
    known = cls.__dataclass_fields__
    return cls(**{k: v for k, v in values.items() if k in known})
