"""examples/regression.py: the smoke run, and the full run converges to the target polynomial."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import regression


def test_smoke_run(tmp_path):
    result = regression.main(["--smoke", "--out", str(tmp_path)])
    assert {"loss", "steps", "max_coef_error"} <= result.keys()
    assert math.isfinite(result["loss"]) and 1 <= result["steps"] <= 200
    assert json.loads((tmp_path / "result.json").read_text()) == result


def test_full_run_fits_the_polynomial(tmp_path, capsys):
    result = regression.main(["--out", str(tmp_path)])  # about a thousand tiny steps
    assert result["loss"] < 1e-3 and result["steps"] < 100_000
    assert result["max_coef_error"] < 0.2  # coefficients are N(0, 25): a real fit
    printed = capsys.readouterr().out
    assert "Learned function" in printed and "Actual function" in printed


def test_features_are_powers():
    import ember

    x = ember.tensor([2.0, -1.0])
    features = regression.make_features(x)
    assert features.shape == (2, 4)
    assert features.tolist() == [[2.0, 4.0, 8.0, 16.0], [-1.0, 1.0, -1.0, 1.0]]
