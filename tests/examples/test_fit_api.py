import csv
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
pytest.importorskip("mlxtend")
import fit_api


def test_fit_api_smoke(tmp_path):
    result = fit_api.main(["--smoke", "--out", str(tmp_path)])
    assert set(result) == {"accuracy", "test_loss", "epochs"}
    assert 0.0 <= result["accuracy"] <= 1.0 and math.isfinite(result["test_loss"])
    assert 1 <= result["epochs"] <= 2
    with open(tmp_path / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == result["epochs"]
    assert {"epoch", "loss", "val_loss", "accuracy", "val_accuracy", "lr"} <= rows[0].keys()
    assert all(math.isfinite(float(row["val_loss"])) for row in rows)
    assert list((tmp_path / "checkpoints").glob("checkpoint-*"))
    if fit_api.importlib.util.find_spec("matplotlib") is not None:
        assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
