"""A layer given a wrong input names itself, and keeps PyTorch's message after its name."""

import numpy as np
import pytest
import torch

import ember


def messages(make, x_shape):
    """The error text from Ember and from PyTorch for the same mistake."""
    out = []
    for m in (ember, torch):
        layer = make(m)
        with pytest.raises(RuntimeError) as info:
            layer(m.ones(*x_shape))
        out.append(str(info.value))
    return out


def test_linear_wrong_features_names_layer_and_shapes():
    e, t = messages(lambda m: m.nn.Linear(5, 3), (4, 6))
    assert e.startswith("Linear(in_features=5, out_features=3, bias=True): ")
    assert e.endswith(t)
    assert "(4x6 and 5x3)" in e


def test_conv2d_wrong_channels_unbatched_names_layer_and_shapes():
    e, t = messages(lambda m: m.nn.Conv2d(3, 8, 3), (4, 10, 10))
    assert e.startswith("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)): ")
    assert e.endswith(t)
    assert "expected input[1, 4, 10, 10] to have 3 channels, but got 4" in e


def test_innermost_layer_is_named_once():
    model = ember.nn.Sequential(ember.nn.Linear(4, 4), ember.nn.Sequential(ember.nn.Linear(3, 2)))
    with pytest.raises(RuntimeError) as info:
        model(ember.ones(2, 4))
    text = str(info.value)
    assert text.startswith("Linear(in_features=3, out_features=2, bias=True): mat1 and mat2")
    assert text.count("Linear(") == 1 and "Sequential" not in text


def test_failed_forward_changes_no_weights():
    layer = ember.nn.Linear(5, 3)
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(RuntimeError):
        layer(ember.ones(2, 7))
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
