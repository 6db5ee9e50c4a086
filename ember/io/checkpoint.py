"""Training checkpoints: model, optimizer, scheduler, counters, RNG states and user metadata.

A checkpoint is an ``ember.save`` file (safetensors + JSON structure, SHA-256, atomic write).
``Checkpoint.restore`` validates the whole checkpoint against the model, optimizer and
scheduler before it changes any of them, then restores them and the RNG states (Ember's
default generator, NumPy's global one and Python's ``random``), so training resumes
bit-for-bit as if it had never stopped.
"""

from __future__ import annotations

import json
import os
import random
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ember.backend.random import default_generator
from ember.io.errors import SerializationError, StateMismatchError
from ember.io.serialization import load, save
from ember.tensor import Tensor

__all__ = ["Checkpoint", "CheckpointManager"]

_KIND = "ember.Checkpoint/1"


def _rng_states() -> dict[str, Any]:
    np_state = np.random.get_state(legacy=False)
    np_state["state"]["key"] = np_state["state"]["key"].tolist()  # uint32: keep as ints
    return {
        "ember": Tensor(default_generator.get_state()),
        "numpy": np_state,
        "python": random.getstate(),
    }


def _set_rng_states(states: dict[str, Any]) -> None:
    default_generator.set_state(states["ember"])
    np_state = dict(states["numpy"])
    np_state["state"] = dict(np_state["state"], key=np.array(np_state["state"]["key"], np.uint32))
    np.random.set_state(np_state)
    random.setstate(states["python"])


@dataclass
class Checkpoint:
    """A loaded checkpoint; ``Checkpoint.save`` writes one, ``Checkpoint.load`` reads one back.

    Attributes hold the saved states as plain dicts of tensors (``model``, ``optimizer``,
    ``scheduler``), the counters (``epoch``, ``step``), ``metrics``, user ``metadata`` and the
    ``rng`` states; ``restore`` puts them into live objects.
    """

    path: str
    model: dict[str, Tensor]
    optimizer: dict[str, Any] | None = None
    scheduler: dict[str, Any] | None = None
    epoch: int | None = None
    step: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    rng: dict[str, Any] | None = None
    classes: dict[str, str | None] = field(default_factory=dict)

    @staticmethod
    def save(
        path: str | os.PathLike,
        model: Any,
        optimizer: Any = None,
        scheduler: Any = None,
        *,
        epoch: int | None = None,
        step: int | None = None,
        metrics: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Write the model's, optimizer's and scheduler's states, counters and RNG states.

        The write is atomic: if anything fails midway the previous file at ``path`` stays.
        ``metadata`` and ``metrics`` hold plain values (str, numbers, bool, None, lists, dicts).
        """
        save(
            {
                "kind": _KIND,
                "model": model.state_dict(),
                "optimizer": None if optimizer is None else optimizer.state_dict(),
                "scheduler": None if scheduler is None else scheduler.state_dict(),
                "classes": {
                    "model": type(model).__name__,
                    "optimizer": None if optimizer is None else type(optimizer).__name__,
                    "scheduler": None if scheduler is None else type(scheduler).__name__,
                },
                "epoch": epoch,
                "step": step,
                "metrics": dict(metrics or {}),
                "metadata": dict(metadata or {}),
                "rng": _rng_states(),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Checkpoint:
        """Read and verify (SHA-256, structure) a checkpoint file; nothing is restored yet."""
        path = os.fspath(path)
        obj = load(path)
        if not isinstance(obj, dict) or obj.get("kind") != _KIND:
            raise SerializationError(f"{path}: not an ember.io.Checkpoint file")
        try:
            fields = {k: obj[k] for k in ("model", "optimizer", "scheduler", "epoch", "step")}
            extra = {k: obj[k] for k in ("metrics", "metadata", "rng", "classes")}
        except KeyError as err:
            raise SerializationError(f"{path}: checkpoint has no {err.args[0]!r} entry") from None
        return cls(path=path, **fields, **extra)

    def restore(
        self,
        model: Any,
        optimizer: Any = None,
        scheduler: Any = None,
        *,
        rng: bool = True,
        strict: bool = True,
    ) -> Checkpoint:
        """Load the states into ``model`` (and ``optimizer``, ``scheduler``) and the RNGs.

        Everything is validated first: missing or unexpected keys (unless ``strict=False``),
        shapes, optimizer groups and state shapes, and the optimizer/scheduler types. A
        mismatch raises ``StateMismatchError`` naming the file, with every object unchanged.
        """
        self._check_model(model, strict)
        self._check_optimizer(optimizer)
        self._check_scheduler(scheduler)
        try:
            model.load_state_dict(self.model, strict=strict)
        except RuntimeError as err:  # dtype kinds; the module validates before copying
            raise StateMismatchError(f"{self.path}: model state does not match: {err}") from None
        if optimizer is not None:
            optimizer.load_state_dict(self.optimizer)
        if scheduler is not None:
            scheduler.load_state_dict(self.scheduler)
        if rng and self.rng is not None:
            _set_rng_states(self.rng)
        return self

    def _check_model(self, model: Any, strict: bool) -> None:
        own = model.state_dict()
        missing = [k for k in own if k not in self.model]
        unexpected = [k for k in self.model if k not in own]
        if strict and (missing or unexpected):
            raise StateMismatchError(
                f"{self.path}: model state does not match {type(model).__name__}: "
                f"missing key(s) {missing}, unexpected key(s) {unexpected}"
            )
        wrong = [
            f"{k}: checkpoint {tuple(self.model[k].shape)}, model {tuple(v.shape)}"
            for k, v in own.items()
            if k in self.model and tuple(self.model[k].shape) != tuple(v.shape)
        ]
        if wrong:
            raise StateMismatchError(f"{self.path}: size mismatch for " + "; ".join(wrong))

    def _check_optimizer(self, optimizer: Any) -> None:
        if optimizer is None:
            return
        saved = self.optimizer
        if saved is None:
            raise StateMismatchError(f"{self.path}: checkpoint holds no optimizer state")
        self._check_class("optimizer", optimizer)
        groups, saved_groups = optimizer.param_groups, saved["param_groups"]
        sizes = [len(g["params"]) for g in groups]
        saved_sizes = [len(g["params"]) for g in saved_groups]
        if sizes != saved_sizes:
            raise StateMismatchError(
                f"{self.path}: optimizer parameter groups do not match: checkpoint has group "
                f"sizes {saved_sizes}, the optimizer {sizes}"
            )
        index = {
            i: p for g, s in zip(groups, saved_groups) for i, p in zip(s["params"], g["params"])
        }
        for key, state in saved["state"].items():
            param = index.get(key)
            if param is None:
                raise StateMismatchError(f"{self.path}: optimizer state for unknown param {key}")
            for name, value in state.items():
                if name != "step" and isinstance(value, Tensor) and value.shape != param.shape:
                    raise StateMismatchError(
                        f"{self.path}: optimizer state {name!r} of param {key} has shape "
                        f"{tuple(value.shape)}, the parameter {tuple(param.shape)}"
                    )

    def _check_scheduler(self, scheduler: Any) -> None:
        if scheduler is None:
            return
        if self.scheduler is None:
            raise StateMismatchError(f"{self.path}: checkpoint holds no scheduler state")
        self._check_class("scheduler", scheduler)

    def _check_class(self, role: str, obj: Any) -> None:
        saved = self.classes.get(role)
        if saved is not None and saved != type(obj).__name__:
            raise StateMismatchError(
                f"{self.path}: the checkpoint's {role} is a {saved}, not a {type(obj).__name__}"
            )


_NAME = re.compile(r"^checkpoint-(\d+)\.safetensors$")


class CheckpointManager:
    """Save numbered checkpoints in a folder, keeping the newest ``max_to_keep`` and the best.

    Args:
        directory: the folder (created if missing); checkpoints are ``checkpoint-<step>.safetensors``.
        max_to_keep: how many of the newest to keep (None keeps all).
        keep_best: a metric name; the checkpoint with the best value is also kept.
        mode: ``"min"`` or ``"max"``: which value of ``keep_best`` is best.
    """  # noqa: E501

    def __init__(
        self,
        directory: str | os.PathLike,
        max_to_keep: int | None = 5,
        keep_best: str | None = None,
        mode: str = "min",
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"CheckpointManager: mode must be 'min' or 'max', got {mode!r}")
        if max_to_keep is not None and max_to_keep < 1:
            raise ValueError(f"CheckpointManager: max_to_keep must be >= 1, got {max_to_keep}")
        self.directory = os.fspath(directory)
        self.max_to_keep, self.keep_best, self.mode = max_to_keep, keep_best, mode
        os.makedirs(self.directory, exist_ok=True)

    def path_for(self, step: int) -> str:
        """Return the file name for ``step``."""
        return os.path.join(self.directory, f"checkpoint-{step}.safetensors")

    @property
    def steps(self) -> list[int]:
        """The steps of the checkpoints on disk, oldest first."""
        names = (_NAME.match(n) for n in os.listdir(self.directory))
        return sorted(int(m.group(1)) for m in names if m)

    @property
    def checkpoints(self) -> list[str]:
        """The paths of the checkpoints on disk, oldest first."""
        return [self.path_for(s) for s in self.steps]

    @property
    def latest(self) -> str | None:
        """The newest checkpoint's path, or None."""
        steps = self.steps
        return self.path_for(steps[-1]) if steps else None

    @property
    def best(self) -> str | None:
        """The path of the checkpoint with the best ``keep_best`` metric, or None."""
        if self.keep_best is None:
            return None
        scored = []
        for step in self.steps:
            value = _read_metrics(self.path_for(step)).get(self.keep_best)
            if isinstance(value, (int, float)) and value == value:  # skips NaN
                scored.append((value if self.mode == "min" else -value, -step, step))
        return self.path_for(min(scored)[2]) if scored else None

    def save(
        self,
        step: int,
        model: Any,
        optimizer: Any = None,
        scheduler: Any = None,
        *,
        epoch: int | None = None,
        metrics: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Write the checkpoint for ``step`` (see ``Checkpoint.save``), rotate, return its path."""
        path = self.path_for(step)
        Checkpoint.save(
            path, model, optimizer, scheduler, epoch=epoch, step=step, metrics=metrics,
            metadata=metadata,
        )  # fmt: skip
        self._rotate()
        return path

    def _rotate(self) -> None:
        if self.max_to_keep is None:
            return
        keep = set(self.checkpoints[-self.max_to_keep :])
        best = self.best
        if best is not None:
            keep.add(best)
        for path in self.checkpoints:
            if path not in keep:
                os.remove(path)

    def restore_latest(
        self, model: Any, optimizer: Any = None, scheduler: Any = None
    ) -> Checkpoint | None:
        """Restore the newest checkpoint into the objects; return it, or None if there is none."""
        path = self.latest
        return None if path is None else Checkpoint.load(path).restore(model, optimizer, scheduler)

    def restore_best(
        self, model: Any, optimizer: Any = None, scheduler: Any = None
    ) -> Checkpoint | None:
        """Restore the best checkpoint into the objects; return it, or None if there is none."""
        path = self.best
        return None if path is None else Checkpoint.load(path).restore(model, optimizer, scheduler)


def _read_metrics(path: str) -> dict[str, Any]:
    """Read a checkpoint's metrics from its header alone (the tensors are not read)."""
    with open(path, "rb") as file:
        size = int.from_bytes(file.read(8), "little")
        try:
            header = json.loads(file.read(size))
            structure = json.loads(header["__metadata__"]["ember"])
            metrics = structure["object"].get("metrics", {})
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise SerializationError(f"{path}: corrupt checkpoint header ({err})") from None
    return metrics if isinstance(metrics, dict) else {}
