"""examples/char_gpt.py: a smoke run, the saved model reloads and samples."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import char_gpt


def test_smoke_run_saves_a_model_that_reloads(tmp_path):
    result = char_gpt.main(["--smoke", "--out", str(tmp_path)])
    assert {"val_loss", "train_loss", "sample", "model_dir"} <= result.keys()
    assert math.isfinite(result["val_loss"]) and result["val_loss"] < math.log(74) + 0.5
    assert len(result["sample"]) == 40
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "vocab.json").is_file()
    model, vocab = char_gpt.load_model(tmp_path)
    assert len(vocab) == 74 and model.config.n_layer == 2
    # The reloaded model computes what the trained one saved: same weights, same loss.
    saved = ember.load(tmp_path / "model.safetensors")
    for name, value in model.state_dict().items():
        assert (value.data == saved[name].data).all(), name
    # The demo's entry point samples from the saved model instead of training again.
    stamp = (tmp_path / "model.safetensors").stat().st_mtime_ns
    text = char_gpt.sample_from_pretrained_or_quick(tmp_path, n_lines=1)
    assert isinstance(text, str) and len(text.splitlines()) <= 1
    assert (tmp_path / "model.safetensors").stat().st_mtime_ns == stamp  # not retrained


def test_sample_from_pretrained_trains_when_no_model(tmp_path, monkeypatch):
    calls = []
    real_main = char_gpt.main

    def smoke_main(argv):  # the ~25 s training run, shrunk to a smoke run
        calls.append(argv)
        out = argv[argv.index("--out") + 1]
        return real_main(["--smoke", "--out", out])

    monkeypatch.setattr(char_gpt, "main", smoke_main)
    text = char_gpt.sample_from_pretrained_or_quick(tmp_path / "fresh", n_lines=1)
    assert len(calls) == 1 and "--max-seconds" in calls[0]
    assert (tmp_path / "fresh" / "model.safetensors").is_file()
    assert isinstance(text, str) and len(text.splitlines()) <= 1
