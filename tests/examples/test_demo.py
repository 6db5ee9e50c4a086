import math
import sys
from pathlib import Path

import pytest

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
pytest.importorskip("mlxtend")
import demo


def test_demo_smoke(tmp_path, capsys):
    result = demo.main(["--smoke", "--out", str(tmp_path)])
    assert 0.0 <= result["accuracy"] <= 1.0
    assert math.isfinite(result["train_loss"]) and math.isfinite(result["test_loss"])
    state = ember.load(result["model"])
    assert state["conv1.weight"].shape == (32, 1, 3, 3)
    if result["plot"] is not None:
        assert Path(result["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "held-out accuracy:" in out and "identical outputs" in out


def test_demo_stops_at_the_time_budget(tmp_path):
    result = demo.main(["--smoke", "--max-seconds", "0", "--out", str(tmp_path)])
    assert math.isfinite(result["train_loss"])  # one batch, then the budget stops training


def test_epochs_within_budget_fits_the_schedule_and_leaves_the_rng_alone():
    import time

    x, y = ember.randn(8, 1, 28, 28), ember.randint(0, 10, (8,))
    args = demo.parse_args(["--epochs", "5", "--batch-size", "4"])
    model = demo.Net()
    state = ember.get_rng_state()
    assert demo.epochs_within_budget(model, x, y, args, time.perf_counter() + 1e6) == 5
    assert ember.equal(ember.get_rng_state(), state)
    assert all(p.grad is None for p in model.parameters())
    assert demo.epochs_within_budget(model, x, y, args, time.perf_counter()) == 1
