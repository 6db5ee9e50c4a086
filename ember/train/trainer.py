"""A Keras-style training loop: ``Trainer(model, optimizer, loss).fit(data, epochs)``.

The loop is the one every PyTorch user writes by hand (forward, loss, backward, step,
zero_grad), plus gradient accumulation, clipping, lr scheduling, metrics and callbacks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import get_default_dtype
from ember.nn.utils import clip_grad_norm_
from ember.ops.creation import tensor
from ember.ops.join import cat
from ember.optim.lr_scheduler import ReduceLROnPlateau as _PlateauScheduler
from ember.optim.lr_scheduler_cyclic import CyclicLR, OneCycleLR
from ember.tensor import Tensor
from ember.train.callbacks import Callback, ProgressBar
from ember.train.metrics import Metric
from ember.utils.data import DataLoader, TensorDataset

__all__ = ["History", "Trainer"]

_PER_BATCH_SCHEDULERS = (OneCycleLR, CyclicLR)
_ARRAYS = (Tensor, np.ndarray)


class History:
    """Per-epoch logs of a ``fit`` call: ``history["loss"]`` is the list of epoch losses.

    ``history.history`` is the dict of lists (keys ``loss``, ``val_loss``, each metric name
    and its ``val_`` twin, and ``lr``), ``history.epoch`` the epoch numbers. Mirrors the
    ``History`` object Keras's ``fit`` returns.
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, Any]) -> None:
        """Record one epoch's logs."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.history)

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def keys(self) -> Any:
        """Return the logged names."""
        return self.history.keys()

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _to_tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if array.dtype.kind == "f":  # NumPy's float64 default would double the cost of a model
        array = array.astype(get_default_dtype().name)
    return tensor(array)


def _as_loader(data: Any, batch_size: int, shuffle: bool) -> Iterable:
    """Accept a DataLoader or any iterable of batches (a list too), a tuple of arrays, or ``x``."""
    if isinstance(data, tuple) and data and all(isinstance(d, _ARRAYS) for d in data):
        return DataLoader(TensorDataset(*map(_to_tensor, data)), batch_size, shuffle=shuffle)
    if isinstance(data, _ARRAYS):
        return DataLoader(TensorDataset(_to_tensor(data)), batch_size, shuffle=shuffle)
    if not hasattr(data, "__iter__"):
        raise TypeError(
            f"Trainer: expected a DataLoader, an iterable of batches, (x, y) or x, "
            f"got {type(data).__name__}"
        )
    return data


def _split(batch: Any) -> tuple[tuple[Tensor, ...], Tensor | None]:
    """Split a batch into model inputs and target: ``(x, y)``, ``(x1, ..., y)``, ``(x,)``, ``x``."""
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return (batch[0],), None
        return tuple(batch[:-1]), batch[-1]
    return (batch,), None


def _batch_size(target: Any) -> int:
    shape = getattr(target, "shape", None)
    return int(shape[0]) if shape else 1


class Trainer:
    """Fit a model with Keras's ``fit/evaluate/predict`` on Ember's nn and optim.

    Args:
        model: the ``nn.Module`` called as ``model(*inputs)``.
        optimizer: an ``ember.optim`` optimizer over the model's parameters.
        loss: ``loss(output, target) -> Tensor`` (an ``nn`` loss module or a function).
        metrics: ``Metric`` objects, reported under their ``name`` (validation: ``val_name``).
        callbacks: ``Callback`` objects, called in order.
        scheduler: an lr scheduler, stepped per epoch (``ReduceLROnPlateau`` with
            ``val_loss``, else ``loss``), or per batch for ``OneCycleLR``/``CyclicLR``.
        grad_clip: max total gradient norm (``clip_grad_norm_``) before each step.
        accumulate_steps: batches whose gradients are summed before one optimizer step; each
            batch loss is divided by it, so with a mean loss the step equals a big batch's.
        device: device the model and every batch are moved to.
    """

    def __init__(
        self,
        model: Any,
        optimizer: Any,
        loss: Callable[[Any, Any], Tensor],
        metrics: Sequence[Metric] | None = None,
        callbacks: Sequence[Callback] | None = None,
        scheduler: Any = None,
        grad_clip: float | None = None,
        accumulate_steps: int = 1,
        device: Any = None,
    ) -> None:
        if accumulate_steps < 1:
            raise ValueError(f"accumulate_steps must be >= 1, got {accumulate_steps}")
        metrics = list(metrics or [])
        for metric in metrics:
            if not isinstance(metric, Metric):
                raise TypeError(f"metrics must be Metric objects, got {type(metric).__name__}")
        self.model = model if device is None else model.to(device)
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.callbacks = list(callbacks or [])
        self.scheduler = scheduler
        self.grad_clip = grad_clip
        self.accumulate_steps = accumulate_steps
        self.device = device
        self.stop_training = False
        self.epochs = 0
        self.train_loader: Iterable | None = None
        self.history = History()

    # -- helpers -----------------------------------------------------------------------------

    def _move(self, x: Any) -> Any:
        if self.device is None or not isinstance(x, Tensor):
            return x
        return x.to(self.device)

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    def _step(self) -> None:
        if self.grad_clip is not None:
            clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        if isinstance(self.scheduler, _PER_BATCH_SCHEDULERS):
            self.scheduler.step()

    def _run_epoch(self, loader: Iterable) -> dict[str, float]:
        """Train for one pass over ``loader``; return the epoch's mean loss and metrics."""
        self.model.train()
        for metric in self.metrics:
            metric.reset()
        total, count, pending = 0.0, 0, 0
        self.optimizer.zero_grad()
        for index, batch in enumerate(loader):
            self._call("on_train_batch_begin", index, {})
            inputs, target = _split(batch)
            inputs, target = tuple(map(self._move, inputs)), self._move(target)
            output = self.model(*inputs)
            loss = self.loss(output, target)
            (loss / self.accumulate_steps if self.accumulate_steps > 1 else loss).backward()
            pending += 1
            if pending == self.accumulate_steps:
                self._step()
                pending = 0
            size = _batch_size(target)
            total += float(loss.item()) * size
            count += size
            logs = {"loss": total / count}
            output = output.detach()
            for metric in self.metrics:
                metric.update(output, target)
                if metric.running:
                    logs[metric.name] = float(metric.compute())
            self._call("on_train_batch_end", index, logs)
            if self.stop_training:
                break
        if pending:  # a partial accumulation at the end of the epoch still steps
            self._step()
        if count == 0:
            raise ValueError("Trainer.fit: the training data yielded no batch")
        logs = {"loss": total / count}
        logs.update({m.name: _scalar(m.compute()) for m in self.metrics})
        return logs

    # -- public API --------------------------------------------------------------------------

    def fit(
        self,
        train_data: Any,
        epochs: int = 1,
        validation_data: Any = None,
        verbose: int | str = "auto",
        batch_size: int = 32,
    ) -> History:
        """Train for ``epochs`` passes over ``train_data``; return the ``History``.

        ``train_data`` and ``validation_data`` are DataLoaders (or iterables of batches, lists
        included) or tuples ``(x, y)``/``(x1, x2, ..., y)`` of arrays or tensors, wrapped in a
        ``DataLoader(batch_size)`` (shuffled for training; float arrays become the default
        float dtype); a batch's last entry is the target. ``verbose``: 0 silent, 1 a
        progress bar (needs tqdm), 2 one line per epoch; ``"auto"`` is 1 on a terminal with
        tqdm installed, else 2. Mirrors Keras's ``Model.fit``.
        """
        if verbose not in (0, 1, 2, "auto"):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        loader = _as_loader(train_data, batch_size, shuffle=True)
        val_loader = (
            None if validation_data is None else _as_loader(validation_data, batch_size, False)
        )
        callbacks = self.callbacks
        verbose = _resolve_verbose(verbose, callbacks)
        if verbose == 1:
            self.callbacks = [*callbacks, ProgressBar()]
        self.train_loader, self.epochs, self.stop_training = loader, epochs, False
        self.history = History()
        for callback in self.callbacks:
            callback.set_trainer(self)
        logs: dict[str, Any] = {}
        try:
            self._call("on_train_begin", {})
            for epoch in range(epochs):
                self._call("on_epoch_begin", epoch, {})
                lr = float(self.optimizer.param_groups[0]["lr"])  # as set by the callbacks
                logs = self._run_epoch(loader)
                if val_loader is not None:
                    self._call("on_validation_begin", {})
                    val_logs = {f"val_{k}": v for k, v in self.evaluate(val_loader).items()}
                    self._call("on_validation_end", val_logs)
                    logs.update(val_logs)
                logs["lr"] = lr
                self._step_scheduler(logs)
                self._call("on_epoch_end", epoch, logs)
                self.history.append(epoch, logs)
                if verbose == 2:
                    print(_epoch_line(epoch, epochs, logs), flush=True)
                if self.stop_training:
                    break
            self._call("on_train_end", logs)
        finally:
            self.callbacks = callbacks
        return self.history

    def _step_scheduler(self, logs: dict[str, float]) -> None:
        if self.scheduler is None or isinstance(self.scheduler, _PER_BATCH_SCHEDULERS):
            return
        if isinstance(self.scheduler, _PlateauScheduler):
            self.scheduler.step(logs.get("val_loss", logs["loss"]))
        else:
            self.scheduler.step()

    def evaluate(self, data: Any, batch_size: int = 32) -> dict[str, Any]:
        """Return the mean loss and the metrics over ``data``, in eval mode under ``no_grad``.

        Mirrors Keras's ``Model.evaluate`` (returning a dict).
        """
        loader = _as_loader(data, batch_size, shuffle=False)
        metrics = [_fresh(metric) for metric in self.metrics]
        total, count = 0.0, 0
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, target = _split(batch)
                    inputs, target = tuple(map(self._move, inputs)), self._move(target)
                    output = self.model(*inputs)
                    size = _batch_size(target)
                    total += float(self.loss(output, target).item()) * size
                    count += size
                    for metric in metrics:
                        metric.update(output, target)
        finally:
            self.model.train(was_training)
        if count == 0:
            raise ValueError("Trainer.evaluate: the data yielded no batch")
        logs = {"loss": total / count}
        logs.update({m.name: _scalar(m.compute()) for m in metrics})
        return logs

    def predict(self, data: Any, batch_size: int = 32) -> Tensor:
        """Return the model's outputs over ``data``, concatenated along dim 0.

        ``data`` is ``x``, ``(x, y)``, a DataLoader or an iterable of batches; as in ``fit``,
        the last entry of a tuple of two or more is the target, and is ignored here. Runs in
        eval mode under ``no_grad``. Mirrors Keras's ``Model.predict``.
        """
        loader = _as_loader(data, batch_size, shuffle=False)
        outputs = []
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, _ = _split(batch)
                    outputs.append(self.model(*map(self._move, inputs)))
        finally:
            self.model.train(was_training)
        if not outputs:
            raise ValueError("Trainer.predict: the data yielded no batch")
        return cat(outputs, 0)


def _fresh(metric: Metric) -> Metric:
    """A copy of ``metric`` with empty state, so validation never mixes with training."""
    copy = object.__new__(type(metric))
    copy.__dict__.update(metric.__dict__)
    copy.reset()
    return copy


def _scalar(value: Any) -> Any:
    return float(value) if np.ndim(value) == 0 else value


def _resolve_verbose(verbose: int | str, callbacks: Sequence[Callback]) -> int:
    if verbose in (1, "auto") and any(isinstance(c, ProgressBar) for c in callbacks):
        return 0  # the user's own bar already shows progress
    if verbose == "auto":
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return 2
        return 1 if sys.stderr.isatty() else 2
    return int(verbose)


def _epoch_line(epoch: int, epochs: int, logs: dict[str, Any]) -> str:
    parts = [f"{k}={v:.4g}" for k, v in logs.items() if isinstance(v, float)]
    return f"Epoch {epoch + 1}/{epochs}: " + " ".join(parts)
