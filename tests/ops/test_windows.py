"""hann, hamming, blackman, bartlett and kaiser windows vs PyTorch."""

import pytest
import torch

import ember
from ember.ops.windows import (
    bartlett_window,
    blackman_window,
    hamming_window,
    hann_window,
    kaiser_window,
)
from tests.helpers import DTYPES, assert_same

OPS = {
    "bartlett_window": bartlett_window,
    "blackman_window": blackman_window,
    "hamming_window": hamming_window,
    "hann_window": hann_window,
    "kaiser_window": kaiser_window,
}
NAMES = sorted(OPS)


def op(m, name):
    return OPS[name] if m is ember else getattr(torch, name)


def both(name, *args, dtype="float32", atol=1e-6, **kwargs):
    e_dtype, t_dtype = DTYPES[dtype]
    e = op(ember, name)(*args, dtype=e_dtype, **kwargs)
    t = op(torch, name)(*args, dtype=t_dtype, **kwargs)
    assert_same(e, t, rtol=1e-5, atol=atol)
    return e, t


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("length", [0, 1, 2, 3, 8, 11])
@pytest.mark.parametrize("periodic", [True, False])
def test_window(name, length, periodic):
    both(name, length, periodic)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype,atol", [("float64", 1e-12), ("float16", 2e-3), ("bfloat16", 2e-2)])
def test_window_dtypes(name, dtype, atol):
    both(name, 7, dtype=dtype, atol=atol)
    both(name, 6, False, dtype=dtype, atol=atol)


@pytest.mark.parametrize("name", NAMES)
def test_window_defaults_and_requires_grad(name):
    e, t = op(ember, name)(5), op(torch, name)(5)
    assert_same(e, t)
    e = op(ember, name)(4, requires_grad=True)
    assert e.requires_grad and e.is_leaf
    ember.set_default_dtype(ember.float64)
    try:
        assert op(ember, name)(3).dtype is ember.float64
    finally:
        ember.set_default_dtype(ember.float32)


@pytest.mark.parametrize("alpha,beta", [(0.54, 0.46), (0.5, 0.5), (0.6, 0.2)])
def test_hamming_parameters(alpha, beta):
    both("hamming_window", 9, True, alpha, beta)
    both("hamming_window", 9, False, alpha, beta)


@pytest.mark.parametrize("beta", [0.0, 5.0, 12.0, 30.0])
def test_kaiser_beta(beta):
    both("kaiser_window", 10, True, beta)
    both("kaiser_window", 10, False, beta, dtype="float64", atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_window_errors(name):
    fn = OPS[name]
    with pytest.raises(RuntimeError, match=f"{name} requires non-negative window_length, got"):
        fn(-1)
    with pytest.raises(RuntimeError, match=f"{name} expects floating point dtypes"):
        fn(3, dtype=ember.int64)
    with pytest.raises(TypeError, match=rf"{name}\(\): argument 'window_length' \(position 1\)"):
        fn(2.5)
