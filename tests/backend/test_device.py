"""Devices and BLAS threads, against PyTorch's behaviour."""

import pytest
import torch

import ember


def test_device_parsing_and_repr_match_torch():
    for spec in ["cpu", "cuda", "cuda:1"]:
        e, t = ember.device(spec), torch.device(spec)
        assert repr(e) == repr(t)
        assert str(e) == str(t)
        assert e.type == t.type and e.index == t.index
    assert ember.device("cuda", 2) == "cuda:2"
    assert ember.device("cpu") == ember.device("cpu")
    assert ember.device("cpu") is ember.device("cpu")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cpu:0:1"])
def test_bad_device_strings_raise(spec):
    with pytest.raises(RuntimeError):
        torch.device(spec)
    with pytest.raises(RuntimeError):
        ember.device(spec)


def test_tensors_live_on_cpu_and_cuda_is_a_clear_error():
    x = ember.ones(2)
    assert x.device == ember.device("cpu")
    assert x.to("cpu") is x
    with pytest.raises(RuntimeError, match="CUDA backend is not available"):
        ember.zeros(2, device="cuda")


def test_set_num_threads_round_trip():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(before)
    with pytest.raises(ValueError):
        ember.set_num_threads(0)


def test_seed_and_generator_reproducible():
    ember.manual_seed(123)
    assert ember.initial_seed() == 123
    g = ember.Generator().manual_seed(5)
    state = g.get_state()
    a = g.engine.random(4)
    g.set_state(state)
    b = g.engine.random(4)
    assert (a == b).all()
    s = ember.seed()
    assert ember.initial_seed() == s


def test_to_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="CUDA backend is not available"):
        ember.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="CUDA backend is not available"):
        ember.ones(2).cuda()
