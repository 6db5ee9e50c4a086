import os
import random

import numpy as np
import pytest

import ember
from ember.io import (
    Checkpoint,
    CheckpointManager,
    ChecksumError,
    StateMismatchError,
    TruncatedFileError,
)


def make(seed=0, hidden=8):
    ember.manual_seed(seed)
    nn = ember.nn
    return nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, 2))


def make_all(opt_name, seed=0, hidden=8):
    model = make(seed, hidden)
    if opt_name == "adam":
        opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    else:
        opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    return model, opt, sched


def train_step(model, opt, sched):
    # The data comes from all three RNGs, so each must be restored for bit-exact resumption.
    x = ember.randn(6, 4) + float(np.random.rand()) + random.random()
    loss = model(x).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()


def params_of(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("rng", [True, False])
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_resume_is_bit_exact(tmp_path, opt_name, rng):
    n, k = 10, 4
    np.random.seed(1)
    random.seed(1)
    model, opt, sched = make_all(opt_name)
    for _ in range(n):
        train_step(model, opt, sched)
    expected = params_of(model)

    np.random.seed(1)
    random.seed(1)
    model, opt, sched = make_all(opt_name)
    for _ in range(k):
        train_step(model, opt, sched)
    path = tmp_path / "ck.safetensors"
    Checkpoint.save(path, model, opt, sched, epoch=0, step=k, metadata={"note": "hi"})
    # Disturb every RNG and build fresh objects from another seed.
    ember.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    model, opt, sched = make_all(opt_name, seed=5)
    ck = Checkpoint.load(path)
    assert ck.step == k and ck.epoch == 0 and ck.metadata == {"note": "hi"}
    ck.restore(model, opt, sched, rng=rng)
    for _ in range(n - k):
        train_step(model, opt, sched)
    got = params_of(model)
    assert got.keys() == expected.keys()
    same = all(np.array_equal(got[key], expected[key]) for key in expected)
    assert same == rng  # without the RNG states the run diverges: the test has teeth
    assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0]


def _saved(tmp_path, opt_name="adam"):
    model, opt, sched = make_all(opt_name)
    train_step(model, opt, sched)
    path = tmp_path / "ck.safetensors"
    Checkpoint.save(path, model, opt, sched, step=1)
    return path


def _unchanged(model, opt, before, opt_before):
    for key, value in params_of(model).items():
        np.testing.assert_array_equal(value, before[key])
    assert opt.state_dict()["param_groups"] == opt_before["param_groups"]


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = _saved(tmp_path)
    good = path.read_bytes()
    model, opt, sched = make_all("adam", seed=3)
    import ember.io.safetensors as st

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(st.atomic_write.__globals__["os"], "fsync", boom)
    with pytest.raises(OSError, match="simulated"):
        Checkpoint.save(path, model, opt, sched, step=2)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ck.safetensors"]
    assert Checkpoint.load(path).step == 1


def test_failed_serialisation_keeps_previous_file(tmp_path, monkeypatch):
    path = _saved(tmp_path)
    good = path.read_bytes()
    import ember.io.serialization as ser

    def boom(file):
        file.write(b"partial garbage")
        raise RuntimeError("serialisation failed midway")

    real = ser.atomic_write
    monkeypatch.setattr(ser, "atomic_write", lambda p, write: real(p, boom))
    model, opt, sched = make_all("adam", seed=3)
    with pytest.raises(RuntimeError, match="midway"):
        Checkpoint.save(path, model, opt, sched, step=2)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def test_failing_tensor_serialisation_keeps_previous_file(tmp_path, monkeypatch):
    path = _saved(tmp_path)
    good = path.read_bytes()
    import ember.io.serialization as ser

    calls = []

    def flaky(tensor):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("tensor serialisation failed (simulated)")
        return real(tensor)

    real = ser.to_host_array
    monkeypatch.setattr(ser, "to_host_array", flaky)
    model, opt, sched = make_all("adam", seed=3)
    with pytest.raises(MemoryError, match="simulated"):
        Checkpoint.save(path, model, opt, sched, step=2)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["ck.safetensors"]


def test_truncated(tmp_path):
    path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 10])
    model, opt, sched = make_all("adam", seed=3)
    before, opt_before = params_of(model), opt.state_dict()
    with pytest.raises(TruncatedFileError, match=r"ck\.safetensors: truncated"):
        Checkpoint.load(path).restore(model, opt, sched)
    _unchanged(model, opt, before, opt_before)
    path.write_bytes(data[:5])
    with pytest.raises(TruncatedFileError, match="truncated"):
        Checkpoint.load(path)


def test_corrupt_flipped_byte(tmp_path):
    path = _saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # inside the tensor payload
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match=r"ck\.safetensors: corrupt file: SHA-256 mismatch"):
        Checkpoint.load(path)


def test_wrong_shape_leaves_objects_unchanged(tmp_path):
    path = _saved(tmp_path)
    model, opt, sched = make_all("adam", seed=3, hidden=16)
    train_step(model, opt, sched)
    before, opt_before = params_of(model), opt.state_dict()
    with pytest.raises(StateMismatchError, match=r"ck\.safetensors: size mismatch for 0\.weight"):
        Checkpoint.load(path).restore(model, opt, sched)
    _unchanged(model, opt, before, opt_before)


def test_missing_key_leaves_objects_unchanged(tmp_path):
    path = _saved(tmp_path)
    model = ember.nn.Sequential(
        ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Dropout(0.3), ember.nn.Linear(8, 2),
        ember.nn.Linear(2, 2),
    )  # fmt: skip
    opt = ember.optim.Adam(model.parameters())
    before, opt_before = params_of(model), opt.state_dict()
    with pytest.raises(StateMismatchError, match=r"missing key\(s\) \['4\.weight', '4\.bias'\]"):
        Checkpoint.load(path).restore(model, opt)
    _unchanged(model, opt, before, opt_before)
    # strict=False loads the keys that exist and leaves the others.
    Checkpoint.load(path).restore(model, strict=False)
    saved = Checkpoint.load(path).model
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), saved["0.weight"].numpy())
    np.testing.assert_array_equal(model[4].weight.detach().numpy(), before["4.weight"])


def test_optimizer_mismatch_leaves_model_unchanged(tmp_path):
    path = _saved(tmp_path)
    model, _, _ = make_all("adam", seed=3)
    opt = ember.optim.Adam(list(model.parameters())[:2])
    before, opt_before = params_of(model), opt.state_dict()
    with pytest.raises(StateMismatchError, match="optimizer parameter groups do not match"):
        Checkpoint.load(path).restore(model, opt)
    _unchanged(model, opt, before, opt_before)
    sgd = ember.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(StateMismatchError, match="optimizer is a Adam, not a SGD"):
        Checkpoint.load(path).restore(model, sgd)
    _unchanged(model, sgd, before, sgd.state_dict())


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "x.safetensors"
    ember.io.save({"a": ember.ones(2)}, path)
    with pytest.raises(ember.io.SerializationError, match=r"not an ember\.io\.Checkpoint"):
        Checkpoint.load(path)


def test_manager_rotation_latest_best(tmp_path):
    model, opt, sched = make_all("sgd")
    manager = CheckpointManager(tmp_path / "ckpts", max_to_keep=2, keep_best="loss", mode="min")
    assert manager.latest is None and manager.best is None and manager.checkpoints == []
    losses = {1: 0.9, 2: 0.2, 3: 0.5, 4: 0.7, 5: 0.6}
    for step, loss in losses.items():
        train_step(model, opt, sched)
        manager.save(step, model, opt, sched, metrics={"loss": loss})
    assert manager.steps == [2, 4, 5]
    assert manager.latest.endswith("checkpoint-5.safetensors")
    assert manager.best.endswith("checkpoint-2.safetensors")
    expected = params_of(model)
    # A new manager over the same folder sees the same files.
    again = CheckpointManager(tmp_path / "ckpts", max_to_keep=2, keep_best="loss")
    assert again.checkpoints == manager.checkpoints
    fresh, fresh_opt, fresh_sched = make_all("sgd", seed=9)
    ck = again.restore_latest(fresh, fresh_opt, fresh_sched)
    assert ck.step == 5 and ck.metrics == {"loss": 0.6}
    for key, value in params_of(fresh).items():
        np.testing.assert_array_equal(value, expected[key])
    assert again.restore_best(fresh, fresh_opt, fresh_sched).step == 2


def test_manager_max_mode_and_no_best(tmp_path):
    model, opt, _ = make_all("sgd")
    manager = CheckpointManager(tmp_path, max_to_keep=1, keep_best="acc", mode="max")
    for step, acc in [(10, 0.5), (20, 0.9), (30, 0.1)]:
        manager.save(step, model, opt, metrics={"acc": acc})
    assert manager.steps == [20, 30]
    plain = CheckpointManager(tmp_path / "plain", max_to_keep=1)
    for step in (1, 2, 3):
        plain.save(step, model)
    assert plain.steps == [3] and plain.best is None
    assert CheckpointManager(tmp_path / "empty").restore_latest(model) is None


def test_manager_errors(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        CheckpointManager(tmp_path, mode="lowest")
    with pytest.raises(ValueError, match="max_to_keep must be >= 1"):
        CheckpointManager(tmp_path, max_to_keep=0)
