"""Callbacks: hook order, early stopping, lr callbacks, CSV and TensorBoard logs, progress bar."""

from __future__ import annotations

import csv
import io
import struct

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.train import (
    Accuracy,
    Callback,
    ConfusionMatrix,
    CSVLogger,
    EarlyStopping,
    F1Score,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TensorBoardLogger,
    Trainer,
)


def make_trainer(callbacks, metrics=(), lr=0.05, seed=0):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))
    optimizer = ember.optim.SGD(model.parameters(), lr=lr)
    return Trainer(model, optimizer, nn.CrossEntropyLoss(), list(metrics), callbacks)


def data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (np.eye(3)[y, :2] * 2 + 0.3 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, y


class Script(Callback):
    """Overwrite a logged value with scripted numbers, so monitors see a known sequence."""

    def __init__(self, key, values):
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class Snapshots(Callback):
    def __init__(self):
        self.states = []

    def on_epoch_end(self, epoch, logs=None):
        self.states.append({k: v.numpy().copy() for k, v in self.model.state_dict().items()})


def test_hook_order_with_lambda_callback():
    calls = []
    hooks = {
        name: (lambda *args, name=name: calls.append(name))
        for name in (
            "on_train_begin",
            "on_train_end",
            "on_epoch_begin",
            "on_epoch_end",
            "on_train_batch_begin",
            "on_train_batch_end",
            "on_validation_begin",
            "on_validation_end",
        )
    }
    trainer = make_trainer([LambdaCallback(**hooks)])
    trainer.fit(data(16), epochs=2, validation_data=data(8), batch_size=8, verbose=0)
    epoch = [
        "on_epoch_begin",
        *["on_train_batch_begin", "on_train_batch_end"] * 2,
        "on_validation_begin",
        "on_validation_end",
        "on_epoch_end",
    ]
    assert calls == ["on_train_begin", *epoch, *epoch, "on_train_end"]


def test_callbacks_receive_logs_and_trainer():
    seen = {}

    def epoch_end(epoch, logs):
        seen[epoch] = dict(logs)

    batch_logs = []
    callback = LambdaCallback(
        on_epoch_end=epoch_end, on_train_batch_end=lambda b, logs: batch_logs.append(dict(logs))
    )
    trainer = make_trainer([callback], metrics=[Accuracy()])
    history = trainer.fit(data(16), epochs=2, validation_data=data(8), batch_size=8, verbose=0)
    assert set(seen[1]) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert seen[1]["val_loss"] == history["val_loss"][1]
    assert set(batch_logs[0]) == {"loss", "accuracy"}
    assert batch_logs[1]["loss"] == pytest.approx(history["loss"][0])  # running mean at epoch end


def test_lambda_callback_rejects_unknown_hook():
    with pytest.raises(TypeError, match="unknown hook 'on_batch_end'"):
        LambdaCallback(on_batch_end=print)


VAL = [1.0, 0.5, 0.6, 0.55, 0.7, 0.1, 0.1]


@pytest.mark.parametrize(
    "patience, min_delta, stopped, best",
    [(2, 0.0, 3, 1), (3, 0.0, 4, 1), (5, 0.0, None, 5), (2, 0.1, 3, 1), (1, 0.0, 2, 1)],
)
def test_early_stopping_stops_at_the_right_epoch(patience, min_delta, stopped, best):
    stop = EarlyStopping(patience=patience, min_delta=min_delta, restore_best_weights=True)
    snapshots = Snapshots()
    trainer = make_trainer([Script("val_loss", VAL), snapshots, stop])
    history = trainer.fit(data(), epochs=len(VAL), verbose=0)
    last = len(VAL) - 1 if stopped is None else stopped
    assert history.epoch == list(range(last + 1))
    assert stop.stopped_epoch == stopped and stop.best_epoch == best
    assert stop.best == VAL[best]
    # best weights restored
    for key, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshots.states[best][key])


def test_early_stopping_restore_best_is_the_short_name():
    stop = EarlyStopping(patience=1, restore_best=True)
    assert stop.restore_best_weights is True
    snapshots = Snapshots()
    trainer = make_trainer([Script("val_loss", VAL), snapshots, stop])
    trainer.fit(data(), epochs=len(VAL), verbose=0)
    assert stop.best_epoch == 1 and stop.stopped_epoch == 2
    for key, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshots.states[1][key])
    assert EarlyStopping(restore_best=False).restore_best_weights is False


def test_early_stopping_without_restore_keeps_last_weights():
    snapshots = Snapshots()
    trainer = make_trainer([Script("val_loss", VAL), snapshots, EarlyStopping(patience=1)])
    trainer.fit(data(), epochs=len(VAL), verbose=0)
    assert len(snapshots.states) == 3
    for key, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshots.states[-1][key])


def test_early_stopping_max_mode_and_baseline():
    acc = [0.5, 0.6, 0.6, 0.7, 0.65, 0.6]
    stop = EarlyStopping(monitor="val_accuracy", patience=2)
    assert stop.mode == "max"
    make_trainer([Script("val_accuracy", acc), stop]).fit(data(), epochs=6, verbose=0)
    assert (stop.best_epoch, stop.stopped_epoch) == (3, 5)
    # a baseline that is never beaten stops after `patience` epochs
    stop = EarlyStopping(monitor="val_accuracy", patience=2, baseline=0.9)
    make_trainer([Script("val_accuracy", acc), stop]).fit(data(), epochs=6, verbose=0)
    assert stop.stopped_epoch == 1 and stop.best_epoch is None


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="lowest")
    with pytest.raises(KeyError, match="monitored value 'val_loss' is not in the logs"):
        make_trainer([EarlyStopping()]).fit(data(), verbose=0)


def test_learning_rate_scheduler_function_and_scheduler():
    trainer = make_trainer([LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    history = trainer.fit(data(), epochs=3, verbose=0)
    np.testing.assert_allclose(history["lr"], [0.1, 0.05, 0.1 / 3])
    trainer = make_trainer([], lr=0.2)
    step = ember.optim.lr_scheduler.StepLR(trainer.optimizer, step_size=2, gamma=0.1)
    trainer.callbacks = [LearningRateScheduler(step)]
    history = trainer.fit(data(), epochs=4, verbose=0)
    np.testing.assert_allclose(history["lr"], [0.2, 0.2, 0.02, 0.02])


def test_reduce_lr_on_plateau_matches_torch():
    values = [1.0, 0.9, 0.95, 0.9, 0.8, 0.85, 0.86, 0.87, 0.2, 0.3]
    kwargs = dict(factor=0.5, patience=1, cooldown=1, min_lr=0.01)
    trainer = make_trainer(
        [Script("val_loss", values), ReduceLROnPlateau(min_delta=0.05, **kwargs)]
    )
    history = trainer.fit(data(), epochs=len(values), verbose=0)
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.05)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, threshold=0.05, threshold_mode="abs", **kwargs
    )
    expected = []
    for value in values:
        expected.append(optimizer.param_groups[0]["lr"])
        scheduler.step(value)
    np.testing.assert_allclose(history["lr"], expected)
    assert len(set(expected)) > 2  # the schedule really reduced twice or more
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["lr"])


def test_reduce_lr_on_plateau_errors():
    with pytest.raises(ValueError, match=r"factor should be < 1\.0"):
        ReduceLROnPlateau(factor=1.5)


def test_csv_logger_reads_back(tmp_path):
    path = tmp_path / "log.csv"
    trainer = make_trainer([CSVLogger(path)], metrics=[Accuracy()])
    history = trainer.fit(data(), epochs=3, validation_data=data(8, 1), verbose=0)
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in history:
        np.testing.assert_allclose([float(r[key]) for r in rows], history[key], rtol=1e-12)
    # append continues the file without a second header
    trainer.callbacks = [CSVLogger(path, append=True)]
    trainer.fit(data(), epochs=2, validation_data=data(8, 1), verbose=0)
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 0, 1]


def read_events(directory):
    """Parse TFRecord event files (length, crc, payload, crc) into {tag: [(step, value)]}."""
    from tensorboardX.proto import event_pb2

    scalars = {}
    files = sorted(directory.glob("events.out.tfevents.*"))
    assert files
    for path in files:
        raw = path.read_bytes()
        offset = 0
        while offset < len(raw):
            (length,) = struct.unpack("<Q", raw[offset : offset + 8])
            payload = raw[offset + 12 : offset + 12 + length]
            offset += 12 + length + 4
            event = event_pb2.Event.FromString(payload)
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_tensorboard_logger_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    logger = TensorBoardLogger(tmp_path / "runs", update_freq="batch")
    trainer = make_trainer([logger], metrics=[Accuracy()])
    history = trainer.fit(data(), epochs=3, validation_data=data(8, 1), batch_size=8, verbose=0)
    scalars = read_events(tmp_path / "runs")
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        steps, values = zip(*scalars[f"epoch/{key}"])
        assert steps == (0, 1, 2)
        np.testing.assert_allclose(values, history[key], rtol=1e-6)  # stored as float32
    assert [s for s, _ in scalars["batch/loss"]] == list(range(1, 10))


def test_array_metrics_in_logs_csv_and_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    metrics = [ConfusionMatrix(3), F1Score(3, average=None), F1Score(3, name="f1_macro")]
    logger = TensorBoardLogger(tmp_path / "runs")
    batch_logs = []
    spy = LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(set(logs)))
    trainer = make_trainer([logger, spy, CSVLogger(tmp_path / "log.csv")], metrics=metrics)
    history = trainer.fit(data(), epochs=2, verbose=0)
    assert history["confusion_matrix"][0].shape == (3, 3)
    assert history["f1"][0].shape == (3,)
    assert batch_logs[0] == {"loss", "f1_macro"}
    assert set(read_events(tmp_path / "runs")) == {"epoch/loss", "epoch/f1_macro", "epoch/lr"}


def test_tensorboard_logger_errors():
    with pytest.raises(ValueError, match="update_freq must be 'epoch' or 'batch'"):
        TensorBoardLogger(update_freq="step")


def test_progress_bar_shows_loss_and_metrics():
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    trainer = make_trainer([ProgressBar(disable=False, file=stream)], metrics=[Accuracy()])
    trainer.fit(data(), epochs=2, validation_data=data(8, 1), batch_size=8, verbose=1)
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "3/3" in text and "loss=" in text and "accuracy=" in text and "val_loss=" in text


def test_progress_bar_off_when_not_a_terminal():
    pytest.importorskip("tqdm")
    stream = io.StringIO()  # not a tty: tqdm's disable=None turns the bar off
    make_trainer([ProgressBar(file=stream)]).fit(data(), epochs=1, verbose=0)
    assert stream.getvalue() == ""


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r"ProgressBar needs .*'tqdm'.*ember\[train\]"):
        ProgressBar()


def test_model_checkpoint_rotates_and_keeps_best(tmp_path):
    ember_io = pytest.importorskip("ember.io")
    values = [1.0, 0.4, 0.6, 0.7, 0.8, 0.9]
    checkpoint = ModelCheckpoint(tmp_path / "ckpt", max_to_keep=2)
    snapshots = Snapshots()
    trainer = make_trainer([Script("val_loss", values), snapshots, checkpoint])
    trainer.fit(data(), epochs=len(values), verbose=0)
    manager = checkpoint.manager
    assert manager.steps == [1, 4, 5]  # the newest two plus the best
    best = ember_io.Checkpoint.load(manager.best)
    assert best.epoch == 1 and best.metrics["val_loss"] == 0.4
    restored = make_trainer([], seed=1)
    manager.restore_best(restored.model)
    for key, value in restored.model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), snapshots.states[1][key])


def test_model_checkpoint_save_best_only(tmp_path):
    pytest.importorskip("ember.io")
    values = [1.0, 0.4, 0.6, 0.3, 0.8]
    checkpoint = ModelCheckpoint(tmp_path / "ckpt", save_best_only=True, max_to_keep=None)
    make_trainer([Script("val_loss", values), checkpoint]).fit(data(), epochs=5, verbose=0)
    assert checkpoint.manager.steps == [0, 1, 3]
