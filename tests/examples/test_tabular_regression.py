"""examples/tabular_regression.py: the train/predict round trip, statistics from train only."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import tabular_regression as tab

ROOT = Path(__file__).resolve().parents[2]


def _column(path: Path, name: str) -> np.ndarray:
    with open(path, newline="") as f:
        return np.array([float(row[name]) for row in csv.DictReader(f)])


def test_smoke_train_then_predict_round_trip(tmp_path):
    result = tab.main(["--smoke", "--out", str(tmp_path)])
    assert {"test_rmse", "test_r2", "model_dir"} <= result.keys()
    assert math.isfinite(result["test_rmse"]) and result["test_rmse"] > 0
    for name in ("data.csv", "train.csv", "test.csv", "model.safetensors", "stats.json"):
        assert (tmp_path / name).is_file(), name
    # The saved statistics are the training split's, not the whole table's.
    stats = json.loads((tmp_path / "stats.json").read_text())
    i = stats["columns"].index("temp")
    np.testing.assert_allclose(
        stats["mean"][i], _column(tmp_path / "train.csv", "temp").mean(), rtol=1e-5
    )
    assert abs(stats["mean"][i] - _column(tmp_path / "data.csv", "temp").mean()) > 1e-7
    # predict on the test split reproduces the scores train reported.
    pred = tab.main(["predict", "--model", str(tmp_path), "--csv", str(tmp_path / "test.csv")])
    assert pred["n"] == len(_column(tmp_path / "test.csv", "cnt"))
    assert pred["rmse"] == pytest.approx(result["test_rmse"], rel=1e-5)
    assert pred["r2"] == pytest.approx(result["test_r2"], rel=1e-5, abs=1e-6)
    written = _column(Path(pred["predictions"]), "prediction")
    assert written.shape == (pred["n"],) and np.isfinite(written).all()


def test_predict_cli_on_unlabelled_rows(tmp_path):
    tab.main(["--smoke", "--out", str(tmp_path)])
    with open(tmp_path / "test.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:5]
    features = [c for c in rows[0] if c != "cnt"][::-1]  # column order does not matter
    with open(tmp_path / "new.csv", "w", newline="") as f:
        w = csv.DictWriter(f, features, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    cmd = [sys.executable, str(ROOT / "examples" / "tabular_regression.py"), "predict"]
    cmd += ["--model", str(tmp_path), "--csv", str(tmp_path / "new.csv")]
    cmd += ["--output", str(tmp_path / "p.csv")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "5 predictions written" in done.stdout and "RMSE" not in done.stdout
    assert _column(tmp_path / "p.csv", "prediction").shape == (5,)


def test_predict_names_a_missing_column(tmp_path):
    tab.main(["--smoke", "--out", str(tmp_path)])
    (tmp_path / "bad.csv").write_text("hr,temp\n1,0.5\n")
    with pytest.raises(SystemExit, match="missing feature column"):
        tab.main(["predict", "--model", str(tmp_path), "--csv", str(tmp_path / "bad.csv")])


def test_diabetes_table(tmp_path):
    pytest.importorskip("sklearn")
    result = tab.main(["--smoke", "--diabetes", "--out", str(tmp_path)])
    assert math.isfinite(result["test_rmse"])
    assert json.loads((tmp_path / "model.json").read_text())["target"] == "target"
