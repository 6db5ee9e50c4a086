"""Trainer.fit/evaluate/predict: convergence, History, accumulation, clipping, scheduling."""

from __future__ import annotations

import numpy as np
import pytest

import ember
from ember import nn
from ember.train import Accuracy, Callback, History, MeanSquaredError, Trainer
from ember.utils.data import DataLoader, TensorDataset


def mlp(inputs, outputs, hidden=16, seed=0):
    ember.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, outputs))


def regression_data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3 * np.sin(3 * x[:, :1])).astype(
        np.float32
    )
    return x, y


def blobs(n=150, seed=0):
    rng = np.random.default_rng(seed)
    centers = np.array([[2, 0], [-2, 0], [0, 2.5]], np.float32)
    y = rng.integers(0, 3, n)
    x = (centers[y] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, y.astype(np.int64)


def test_fit_regression_reaches_loss_bound():
    x, y = regression_data()
    model = mlp(3, 1)
    trainer = Trainer(
        model, ember.optim.Adam(model.parameters(), lr=0.02), nn.MSELoss(), [MeanSquaredError()]
    )
    history = trainer.fit((x, y), epochs=40, validation_data=(x[:32], y[:32]), verbose=0)
    assert isinstance(history, History)
    assert history["loss"][-1] < 0.02 < history["loss"][0]
    assert set(history.keys()) == {"loss", "mse", "val_loss", "val_mse", "lr"}
    assert history.epoch == list(range(40))
    assert all(len(v) == 40 for v in history.history.values())
    # mse over the epoch is the size-weighted mean of the batch losses (both are means)
    np.testing.assert_allclose(history["mse"], history["loss"], rtol=1e-5)
    # validation is computed after the epoch's updates, so evaluate() reproduces the last one
    logs = trainer.evaluate((x[:32], y[:32]))
    assert logs["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    assert logs["mse"] == pytest.approx(history["val_mse"][-1], rel=1e-6)


def test_fit_classification_with_dataloader():
    x, y = blobs()
    model = mlp(2, 3)
    loader = DataLoader(
        TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=16, shuffle=True
    )
    trainer = Trainer(
        model, ember.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), [Accuracy()]
    )
    history = trainer.fit(loader, epochs=15, verbose=0)
    assert history["loss"][-1] < 0.15
    assert history["accuracy"][-1] > 0.95
    logs = trainer.evaluate(loader)
    assert logs["accuracy"] > 0.95
    assert set(logs) == {"loss", "accuracy"}


def test_evaluate_matches_manual_computation_and_predict_shapes():
    x, y = blobs(70)
    model = mlp(2, 3)
    trainer = Trainer(
        model, ember.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), [Accuracy()]
    )
    with ember.no_grad():
        logits = model(ember.tensor(x))
        loss = nn.functional.cross_entropy(logits, ember.tensor(y)).item()
    logs = trainer.evaluate((x, y), batch_size=16)
    assert logs["loss"] == pytest.approx(loss, rel=1e-5)
    assert logs["accuracy"] == pytest.approx(float((logits.numpy().argmax(1) == y).mean()))
    for data in (x, ember.tensor(x), (x, y), DataLoader(TensorDataset(ember.tensor(x)), 8)):
        out = trainer.predict(data, batch_size=16)
        assert out.shape == (70, 3) and out.dtype == ember.float32 and not out.requires_grad
        np.testing.assert_allclose(out.numpy(), logits.numpy(), rtol=1e-5, atol=1e-6)


def test_modes_and_no_grad_in_evaluation():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 3)

        def forward(self, x):
            seen.append((self.training, ember.is_grad_enabled()))
            return self.linear(x)

    x, y = blobs(8)
    model = Probe()
    trainer = Trainer(model, ember.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss())
    trainer.fit((x, y), epochs=1, validation_data=(x, y), batch_size=8, verbose=0)
    assert seen == [(True, True), (False, False)]
    assert model.training
    seen.clear()
    model.eval()
    trainer.predict(x)
    assert seen == [(False, False)] and not model.training


def test_accumulation_equals_larger_batch():
    x, y = regression_data(16)
    model, reference = mlp(3, 1), mlp(3, 1)
    loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=4)
    trainer = Trainer(
        model, ember.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), accumulate_steps=2
    )
    trainer.fit(loader, epochs=1, verbose=0)
    # manual loop: two optimizer steps, each on a batch of 8
    optimizer = ember.optim.SGD(reference.parameters(), lr=0.1)
    for start in (0, 8):
        optimizer.zero_grad()
        batch = slice(start, start + 8)
        nn.functional.mse_loss(reference(ember.tensor(x[batch])), ember.tensor(y[batch])).backward()
        optimizer.step()
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(
            p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name
        )


def test_partial_accumulation_steps_at_epoch_end():
    x, y = regression_data(12)
    model, reference = mlp(3, 1), mlp(3, 1)
    loader = DataLoader(TensorDataset(ember.tensor(x), ember.tensor(y)), batch_size=4)
    Trainer(
        model, ember.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), accumulate_steps=2
    ).fit(loader, verbose=0)
    optimizer = ember.optim.SGD(reference.parameters(), lr=0.1)
    for batches in ([0, 1], [2]):  # the leftover batch steps alone (its loss halved)
        optimizer.zero_grad()
        for b in batches:
            rows = slice(4 * b, 4 * b + 4)
            loss = nn.functional.mse_loss(reference(ember.tensor(x[rows])), ember.tensor(y[rows]))
            (loss / 2).backward()
        optimizer.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_grad_clip_matches_clip_grad_norm():
    x, y = regression_data(8)
    model, reference = mlp(3, 1), mlp(3, 1)
    Trainer(model, ember.optim.SGD(model.parameters(), lr=0.5), nn.MSELoss(), grad_clip=0.1).fit(
        (x, y), batch_size=8, verbose=0
    )
    optimizer = ember.optim.SGD(reference.parameters(), lr=0.5)
    nn.functional.mse_loss(reference(ember.tensor(x)), ember.tensor(y)).backward()
    norm = nn.utils.clip_grad_norm_(reference.parameters(), 0.1)
    assert norm.item() > 0.1  # clipping is active
    optimizer.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_scheduler_per_epoch_and_lr_in_history():
    x, y = regression_data(32)
    model = mlp(3, 1)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = Trainer(model, optimizer, nn.MSELoss(), scheduler=scheduler).fit(
        (x, y), epochs=3, verbose=0
    )
    np.testing.assert_allclose(history["lr"], [0.1, 0.05, 0.025])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_scheduler_per_batch_for_one_cycle():
    x, y = regression_data(32)
    model = mlp(3, 1)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = ember.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=8)
    Trainer(model, optimizer, nn.MSELoss(), scheduler=scheduler).fit(
        (x, y), epochs=2, batch_size=8, verbose=0
    )
    assert scheduler.last_epoch == 8


def test_plateau_scheduler_uses_val_loss():
    seen = []

    class Recording(ember.optim.lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics, epoch=None):
            seen.append(metrics)
            super().step(metrics)

    x, y = regression_data(32)
    model = mlp(3, 1)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    trainer = Trainer(model, optimizer, nn.MSELoss(), scheduler=Recording(optimizer))
    history = trainer.fit((x, y), epochs=3, validation_data=(x[:8], y[:8]), verbose=0)
    assert seen == history["val_loss"]
    seen.clear()
    history = trainer.fit((x, y), epochs=2, verbose=0)
    assert seen == history["loss"]


def test_stop_training_from_a_batch_callback():
    class StopAfterTwo(Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.trainer.stop_training = True

    x, y = regression_data(64)
    model = mlp(3, 1)
    batches = []

    class Count(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            batches.append(batch)

    history = Trainer(
        model,
        ember.optim.SGD(model.parameters(), lr=0.1),
        nn.MSELoss(),
        callbacks=[Count(), StopAfterTwo()],
    ).fit((x, y), epochs=5, batch_size=8, verbose=0)
    assert batches == [0, 1] and history.epoch == [0]


def test_list_of_batches_is_used_as_is():
    x, y = regression_data(24)
    batches = [(ember.tensor(x[i : i + 8]), ember.tensor(y[i : i + 8])) for i in (0, 8, 16)]
    model = mlp(3, 1)
    trainer = Trainer(model, ember.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss())
    history = trainer.fit(batches, epochs=2, validation_data=batches, verbose=0)
    assert len(history["loss"]) == 2
    assert trainer.predict(batches).shape == (24, 1)


def test_multi_input_model_and_device():
    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(2, 1), nn.Linear(3, 1)

        def forward(self, u, v):
            return self.a(u) + self.b(v)

    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((20, 2)), rng.standard_normal((20, 3))
    y = rng.standard_normal((20, 1))
    model = Pair()
    trainer = Trainer(
        model, ember.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), device="cpu"
    )
    history = trainer.fit((u, v, y), epochs=2, verbose=0)
    assert len(history["loss"]) == 2
    assert model.a.weight.dtype == ember.float32


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = regression_data(16)
    model = mlp(3, 1)
    Trainer(model, ember.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss()).fit(
        (x, y), epochs=2, verbose=2
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert "loss=" in lines[0] and "lr=0.1" in lines[0]


def test_errors():
    model = mlp(3, 1)
    optimizer = ember.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="accumulate_steps must be >= 1"):
        Trainer(model, optimizer, nn.MSELoss(), accumulate_steps=0)
    with pytest.raises(TypeError, match="metrics must be Metric objects"):
        Trainer(model, optimizer, nn.MSELoss(), metrics=["accuracy"])
    trainer = Trainer(model, optimizer, nn.MSELoss())
    with pytest.raises(TypeError, match=r"expected a DataLoader.*got int"):
        trainer.fit(3, verbose=0)
    with pytest.raises(ValueError, match="verbose must be"):
        trainer.fit(regression_data(4), verbose=3)
    with pytest.raises(ValueError, match="yielded no batch"):
        trainer.fit([], verbose=0)
    with pytest.raises(ValueError, match="yielded no batch"):
        trainer.evaluate([])
    with pytest.raises(ValueError, match="yielded no batch"):
        trainer.predict([])
