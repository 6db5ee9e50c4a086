"""ember.utils.tensorboard.SummaryWriter: records read back from the event files.

The oracle is tensorboardX given the matching torch tensors (the records PyTorch's writer
makes): an Ember tensor must give byte-identical summary values.
"""

from __future__ import annotations

import struct
import sys

import numpy as np
import pytest
import torch

import ember
from ember.utils.tensorboard import SummaryWriter

tensorboardX = pytest.importorskip("tensorboardX")


def read_records(directory):
    """Every summary value under directory: {(run, tag): [(step, value proto)]}."""
    from tensorboardX.proto import event_pb2

    records = {}
    files = sorted(directory.rglob("events.out.tfevents.*"))
    assert files
    for path in files:
        run = str(path.parent.relative_to(directory))
        raw = path.read_bytes()
        offset = 0
        while offset < len(raw):
            (length,) = struct.unpack("<Q", raw[offset : offset + 8])
            payload = raw[offset + 12 : offset + 12 + length]
            offset += 12 + length + 4
            event = event_pb2.Event.FromString(payload)
            for value in event.summary.value:
                records.setdefault((run, value.tag), []).append((event.step, value))
    return records


def write_both(tmp_path, fn):
    """Run fn(writer, m) with Ember's writer (m = ember) and tensorboardX's (m = torch)."""
    with SummaryWriter(tmp_path / "ember") as writer:
        fn(writer, ember)
    with tensorboardX.SummaryWriter(str(tmp_path / "torch")) as writer:
        fn(writer, torch)
    got, expected = read_records(tmp_path / "ember"), read_records(tmp_path / "torch")
    assert got.keys() == expected.keys()
    for key in got:
        assert [(s, v.SerializeToString()) for s, v in got[key]] == [
            (s, v.SerializeToString()) for s, v in expected[key]
        ], key
    return got


def tensor(m, array, **kwargs):
    return m.tensor(array, **kwargs) if m is ember else torch.tensor(array, **kwargs)


def test_add_scalar_accepts_tensors(tmp_path):
    def fn(writer, m):
        writer.add_scalar("loss", 0.5, 0)
        writer.add_scalar("loss", tensor(m, 0.25), 1)
        writer.add_scalar("loss", tensor(m, [0.125]), 2)
        writer.add_scalar("acc", tensor(m, 3, dtype=m.int64), 0)
        w = tensor(m, [1.5, 2.0], requires_grad=True)
        writer.add_scalar("grad", (w * w).sum(), 0)

    got = write_both(tmp_path, fn)
    assert [(s, v.simple_value) for s, v in got[(".", "loss")]] == [(0, 0.5), (1, 0.25), (2, 0.125)]
    assert got[(".", "grad")][0][1].simple_value == pytest.approx(6.25)


def test_add_scalars_writes_one_run_per_tag_like_torch(tmp_path):
    # PyTorch's layout (tensorboardX differs): run <main_tag>_<tag>, "/" -> "_", tag main_tag.
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars(
                "a/run", {"train": ember.tensor(step * 1.0), "val": step * 2.0}, global_step=step
            )
            writer.add_scalar("direct", 1.0, step)
        writer.flush()
        records = read_records(tmp_path)
    assert set(records) == {("a_run_train", "a/run"), ("a_run_val", "a/run"), (".", "direct")}
    assert [s for s, _ in records[("a_run_train", "a/run")]] == [0, 1, 2]
    assert [v.simple_value for _, v in records[("a_run_val", "a/run")]] == [0.0, 2.0, 4.0]
    assert [v.simple_value for _, v in records[("a_run_train", "a/run")]] == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("bins", ["tensorflow", "auto", 5])
def test_add_histogram(tmp_path, bins):
    values = np.random.default_rng(0).standard_normal((4, 50)).astype(np.float32)

    def fn(writer, m):
        writer.add_histogram("w", tensor(m, values), 3, bins=bins)
        writer.add_histogram("w_t", tensor(m, values).T[1:], 4, bins=bins)  # non-contiguous
        writer.add_histogram("ints", tensor(m, np.arange(20) % 7), 0, bins=bins)

    got = write_both(tmp_path, fn)
    histo = got[(".", "w")][0][1].histo
    assert histo.num == values.size and histo.min == pytest.approx(values.min())


def test_add_histogram_half_precision(tmp_path):
    values = np.linspace(-2, 2, 33, dtype=np.float32)
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("bf16", ember.tensor(values).to(ember.bfloat16), 0)
        writer.add_histogram("f16", ember.tensor(values).half(), 0)
    records = read_records(tmp_path)
    for tag in ("bf16", "f16"):
        histo = records[(".", tag)][0][1].histo
        assert histo.num == 33 and histo.min == -2 and histo.max == 2


def test_add_image_and_images(tmp_path):
    gen = np.random.default_rng(1)
    chw = gen.random((3, 8, 6)).astype(np.float32)
    hwc = (gen.random((5, 4, 3)) * 255).astype(np.uint8)
    gray = gen.random((7, 5)).astype(np.float32)
    batch = gen.random((4, 3, 6, 5)).astype(np.float32)

    def fn(writer, m):
        writer.add_image("chw", tensor(m, chw), 0)
        writer.add_image("hwc", tensor(m, hwc), 1, dataformats="HWC")
        writer.add_image("gray", tensor(m, gray), 2, dataformats="HW")
        writer.add_images("batch", tensor(m, batch), 3)
        writer.add_images("nhwc", tensor(m, batch).permute(0, 2, 3, 1), 4, dataformats="NHWC")

    got = write_both(tmp_path, fn)
    image = got[(".", "chw")][0][1].image
    assert (image.height, image.width, image.colorspace) == (8, 6, 3)
    assert image.encoded_image_string.startswith(b"\x89PNG")


def test_add_text(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_text("notes", "hello **ember**", 7)
    ((step, value),) = read_records(tmp_path)[(".", "notes/text_summary")]
    assert step == 7 and b"hello **ember**" in value.tensor.string_val[0]


def test_add_hparams(tmp_path):
    def fn(writer, m):
        hparams = {"lr": 0.1, "bs": 16, "opt": "sgd", "wd": tensor(m, 0.5)}
        metrics = {"hparam/acc": tensor(m, 0.75), "hparam/loss": 0.5}
        if m is ember:
            writer.add_hparams(hparams, metrics, run_name="trial", global_step=2)
        else:  # tensorboardX names the run name= and wants Python numbers
            hparams["wd"], metrics["hparam/acc"] = 0.5, 0.75
            writer.add_hparams(hparams, metrics, name="trial", global_step=2)

    got = write_both(tmp_path, fn)
    assert got[("trial", "hparam/acc")] and got[("trial", "hparam/acc")][0][0] == 2
    assert got[("trial", "hparam/acc")][0][1].simple_value == 0.75


def test_other_methods_go_to_tensorboardx_with_tensors_converted(tmp_path):
    gen = np.random.default_rng(2)
    labels = gen.integers(0, 2, 30)
    predictions = gen.random(30).astype(np.float32)

    def fn(writer, m):
        writer.add_pr_curve("pr", tensor(m, labels), tensor(m, predictions), 1)
        writer.add_pr_curve("pr_kw", labels=tensor(m, labels), predictions=predictions)

    write_both(tmp_path, fn)
    with SummaryWriter(tmp_path / "x") as writer, pytest.raises(AttributeError):
        writer.no_such_method  # noqa: B018


def test_log_dir_defaults_and_context_manager(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_exp") as writer:
        writer.add_scalar("x", 1.0)
        log_dir = writer.get_logdir()
    assert log_dir.startswith("runs") and log_dir.endswith("_exp")
    assert read_records(tmp_path / log_dir)[(".", "x")][0][1].simple_value == 1.0
    writer = SummaryWriter(tmp_path / "explicit", filename_suffix=".v1")
    writer.add_scalar("y", ember.tensor(2.0), 5)
    writer.flush()
    assert read_records(tmp_path / "explicit")[(".", "y")][0][0] == 5
    assert all(p.name.endswith(".v1") for p in (tmp_path / "explicit").iterdir())
    writer.close()


def test_errors(tmp_path, monkeypatch):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(NotImplementedError, match="add_graph is not supported"):
            writer.add_graph(ember.nn.Linear(2, 3), ember.randn(1, 2))
        with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary"):
            writer.add_hparams([("lr", 0.1)], {"acc": 1.0})
        with pytest.raises(NotImplementedError, match="hparam_domain_discrete"):
            writer.add_hparams({"opt": "sgd"}, {"acc": 1.0}, {"opt": ["sgd", "adam"]})
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"tensorboardX.*pip install 'ember\[train\]'"):
        SummaryWriter(tmp_path / "missing")


def test_import_ember_does_not_import_tensorboardx():
    import subprocess

    code = "import ember, sys; assert 'tensorboardX' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
