"""examples/time_sequence_prediction.py: a smoke run, the model's shapes and the sine data."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import time_sequence_prediction as tsp


def test_smoke_run(tmp_path):
    result = tsp.main(["--smoke", "--out", str(tmp_path)])
    assert {"train_mse", "test_mse"} <= result.keys()
    assert math.isfinite(result["train_mse"]) and math.isfinite(result["test_mse"])
    assert (tmp_path / "result.json").is_file()
    assert (tmp_path / "predict0.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sine_waves_are_shifted_sines():
    data = tsp.generate_sine_wave(5, 30, 20, seed=0)
    assert data.shape == (5, 30) and data.dtype == np.float64
    # Each row is sin((t + shift) / 20) for an integer shift in [-80, 80).
    t = np.arange(30)
    for row in data:
        assert any(np.allclose(row, np.sin((t + s) / 20)) for s in range(-80, 80))
    assert len({row[0] for row in data}) > 1  # the phases differ


def test_sequence_continues_the_wave():
    ember.manual_seed(0)
    model = tsp.Sequence(hidden=7).double()
    x = ember.randn(4, 6, dtype=ember.float64)
    out = model(x, future=3)
    assert out.shape == (4, 9) and out.dtype == ember.float64
    # The first 6 outputs do not depend on the future steps.
    np.testing.assert_allclose(model(x).detach().numpy(), out.detach().numpy()[:, :6])
