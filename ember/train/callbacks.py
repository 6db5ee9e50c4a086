"""Callbacks for ``Trainer.fit``: Keras's hooks, each called with the epoch's or batch's logs.

A callback sees its trainer as ``self.trainer`` (set by ``fit`` before ``on_train_begin``),
so it can read the model and optimizer, or set ``self.trainer.stop_training = True``.
"""

from __future__ import annotations

import csv
import importlib
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from ember.optim.lr_scheduler import ReduceLROnPlateau as _PlateauScheduler
from ember.optim.lr_scheduler_base import LRScheduler

__all__ = [
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgressBar",
    "ReduceLROnPlateau",
    "TensorBoardLogger",
]

_MAX_WORDS = ("acc", "auc", "auroc", "f1", "precision", "recall", "r2")


def _require(module: str, feature: str) -> Any:
    """Import an optional dependency or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{feature} needs the optional package '{module}': pip install 'ember[train]'"
        ) from error


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if any(word in monitor for word in _MAX_WORDS) else "min"
    return mode


def _monitored(logs: dict[str, Any] | None, monitor: str, owner: str) -> float:
    if not logs or monitor not in logs:
        keys = sorted(logs or {})
        raise KeyError(f"{owner}: monitored value {monitor!r} is not in the logs (have {keys})")
    return float(logs[monitor])


class Callback:
    """Base class: override any of the hooks; the defaults do nothing. Mirrors Keras's ``Callback``.

    Hooks: ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
    ``on_train_batch_begin/end(batch, logs)``, ``on_validation_begin/end(logs)``.
    """

    trainer: Any = None

    def set_trainer(self, trainer: Any) -> None:
        """Attach the trainer whose ``fit`` calls this callback."""
        self.trainer = trainer

    @property
    def model(self) -> Any:
        """The trained module."""
        return self.trainer.model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Call at the start of ``fit``."""

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Call at the end of ``fit`` with the last epoch's logs."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Call at the start of each epoch (0-based)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Call after each epoch, validation included, with its loss, metrics and lr."""

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call before each training batch."""

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Call after each training batch with the running loss and running metrics."""

    def on_validation_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Call before the validation pass of an epoch."""

    def on_validation_end(self, logs: dict[str, Any] | None = None) -> None:
        """Call after the validation pass with its ``val_*`` logs."""


class LambdaCallback(Callback):
    """Build a callback from plain functions, one per hook. Mirrors Keras's ``LambdaCallback``."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        for name, fn in hooks.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when it beats the best by more than ``min_delta`` in the direction of
    ``mode`` ("auto": max for accuracy-like names, else min). With ``restore_best_weights``
    the model gets the best epoch's weights back when training ends. ``stopped_epoch`` is
    the epoch (0-based) after which training stopped, ``best_epoch`` the best one.
    Mirrors Keras's ``EarlyStopping``; ``restore_best`` is accepted as a short name for
    ``restore_best_weights``. Differences from Keras: a missing ``monitor`` key raises
    ``KeyError``; the best weights are restored whether or not training stopped early.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        *,
        restore_best: bool | None = None,
    ) -> None:
        if restore_best is not None:
            restore_best_weights = restore_best_weights or restore_best
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.mode = _resolve_mode(mode, monitor)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights

    def _better(self, value: float, reference: float) -> bool:
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best_weights = None
        worst = math.inf if self.mode == "min" else -math.inf
        self.best = self.baseline if self.baseline is not None else worst

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if self._better(value, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: v.clone() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class LearningRateScheduler(Callback):
    """Set the learning rate each epoch from ``schedule(epoch, lr) -> lr`` or an LR scheduler.

    A function is called at the start of each epoch and its result written into every param
    group (Keras's ``LearningRateScheduler``); an ``ember.optim.lr_scheduler`` instance is
    stepped at the end of each epoch instead.
    """

    def __init__(self, schedule: Callable[[int, float], float] | LRScheduler) -> None:
        self.schedule = schedule

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if isinstance(self.schedule, LRScheduler):
            return
        groups = self.trainer.optimizer.param_groups
        lr = float(self.schedule(epoch, groups[0]["lr"]))
        for group in groups:
            group["lr"] = lr

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if isinstance(self.schedule, LRScheduler):
            self.schedule.step()


class ReduceLROnPlateau(Callback):
    """Multiply the lr by ``factor`` when ``monitor`` stops improving for ``patience`` epochs.

    Wraps ``ember.optim.lr_scheduler.ReduceLROnPlateau`` (built on the trainer's optimizer at
    ``on_train_begin``, ``min_delta`` as an absolute threshold). Mirrors Keras's
    ``ReduceLROnPlateau``.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor should be < 1.0")
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.options = dict(
            mode=self.mode,
            factor=factor,
            patience=patience,
            threshold=min_delta,
            threshold_mode="abs",
            cooldown=cooldown,
            min_lr=min_lr,
        )
        self.scheduler: _PlateauScheduler | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.scheduler = _PlateauScheduler(self.trainer.optimizer, **self.options)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.scheduler.step(_monitored(logs, self.monitor, "ReduceLROnPlateau"))


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the logs' keys in sorted order.

    With ``append=True`` an existing file is continued (its header kept). Mirrors Keras's
    ``CSVLogger``.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        self.filename = os.fspath(filename)
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self.file: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename)
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = csv.writer(self.file, delimiter=self.separator)
        self.keys = None
        self.header_written = bool(exists)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not self.header_written:
                self.writer.writerow(["epoch", *self.keys])
        self.writer.writerow([epoch, *(logs.get(key, "") for key in self.keys)])
        self.file.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class TensorBoardLogger(Callback):
    """Write the logs as TensorBoard scalars (event files, through ``tensorboardX``).

    Each epoch's logs go to tag ``epoch/<key>`` at step ``epoch``; with
    ``update_freq="batch"`` the running batch loss also goes to ``batch/loss`` at the global
    step. Needs the ``train`` extra.
    """

    def __init__(self, log_dir: str | os.PathLike = "runs", update_freq: str = "epoch") -> None:
        if update_freq not in ("epoch", "batch"):
            raise ValueError(f"update_freq must be 'epoch' or 'batch', got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.update_freq = update_freq
        self.writer: Any = None
        self.step = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        tensorboardx = _require("tensorboardX", "TensorBoardLogger")
        self.writer = tensorboardx.SummaryWriter(self.log_dir)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        if self.update_freq == "batch" and logs and "loss" in logs:
            self.writer.add_scalar("batch/loss", float(logs["loss"]), self.step)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):  # array metrics (ConfusionMatrix) are skipped
                self.writer.add_scalar(f"epoch/{key}", float(value), epoch)
        self.writer.flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class ProgressBar(Callback):
    """Show a tqdm bar per epoch with the running loss and metrics, then the epoch's logs.

    ``disable=None`` turns the bar off when stderr is not a terminal (tqdm's rule), so logs
    and CI output stay clean. Needs the ``train`` extra.
    """

    def __init__(self, disable: bool | None = None, file: Any = None) -> None:
        self.tqdm = _require("tqdm", "ProgressBar").tqdm
        self.disable = disable
        self.file = file
        self.bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        loader = self.trainer.train_loader
        total = len(loader) if hasattr(loader, "__len__") else None
        epochs = self.trainer.epochs
        self.bar = self.tqdm(
            total=total,
            desc=f"Epoch {epoch + 1}/{epochs}",
            disable=self.disable,
            file=self.file if self.file is not None else sys.stderr,
            leave=True,
            dynamic_ncols=True,
        )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.bar.update(1)
        self.bar.set_postfix({k: f"{v:.4g}" for k, v in (logs or {}).items()}, refresh=False)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        shown = {k: f"{v:.4g}" for k, v in (logs or {}).items() if isinstance(v, float)}
        self.bar.set_postfix(shown, refresh=True)
        self.bar.close()


class ModelCheckpoint(Callback):
    """Save model, optimizer and scheduler each epoch through ``ember.io.CheckpointManager``.

    Checkpoint ``step`` is the epoch (0-based) and its metrics are the epoch's logs. Keeps the
    newest ``max_to_keep`` checkpoints, and the best by ``monitor`` too; with
    ``save_best_only`` an epoch is saved only when ``monitor`` improves. ``self.manager``
    gives ``restore_best``/``restore_latest``. Mirrors Keras's ``ModelCheckpoint``.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        monitor: str = "val_loss",
        mode: str = "auto",
        max_to_keep: int | None = 5,
        save_best_only: bool = False,
    ) -> None:
        self.directory = os.fspath(directory)
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.max_to_keep = max_to_keep
        self.save_best_only = save_best_only
        self.manager: Any = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        from ember.io import CheckpointManager  # late: ember.io is optional for the rest

        self.manager = CheckpointManager(
            self.directory, max_to_keep=self.max_to_keep, keep_best=self.monitor, mode=self.mode
        )
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = _monitored(logs, self.monitor, "ModelCheckpoint")
        improved = value < self.best if self.mode == "min" else value > self.best
        if improved:
            self.best = value
        if improved or not self.save_best_only:
            metrics = {k: float(v) for k, v in (logs or {}).items()}
            optimizer, scheduler = self.trainer.optimizer, self.trainer.scheduler
            self.manager.save(epoch, self.model, optimizer, scheduler, epoch=epoch, metrics=metrics)
