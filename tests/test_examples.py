"""The examples run end to end (a few steps; the full runs are `make demo`)."""

import importlib.util
from pathlib import Path

import numpy as np

import ember

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regression_demo_fits():
    demo = load("regression_demo")
    _, y = demo.make_data(256, seed=0)
    start = ((y - y.mean()) ** 2).mean().item()  # the loss of the best constant
    loss, w = demo.main(steps=300, verbose=False)
    assert loss < 0.05 < start  # noise variance is 0.01
    assert w.dtype is ember.float32
    np.testing.assert_allclose(w.numpy(), demo.TRUE_COEFFICIENTS, atol=0.2)
