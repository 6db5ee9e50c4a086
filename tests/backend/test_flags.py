"""Runtime flags (deterministic mode, matmul precision, warn-always, ...) vs PyTorch."""

import pytest
import torch

import ember
from ember.backend import flags


@pytest.fixture(autouse=True)
def restore():
    """Leave both libraries' global flags as they were."""
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.get_float32_matmul_precision(),
        torch.is_warn_always_enabled(),
    )
    saved_state = dict(flags._state)
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.set_float32_matmul_precision(saved[2])
    torch.set_warn_always(saved[3])
    flags._state.update(saved_state)


def both(name, *args, **kwargs):
    return getattr(flags, name)(*args, **kwargs), getattr(torch, name)(*args, **kwargs)


def deterministic_state(m):
    return (
        m.are_deterministic_algorithms_enabled(),
        m.is_deterministic_algorithms_warn_only_enabled(),
        m.get_deterministic_debug_mode(),
    )


@pytest.mark.parametrize("mode", [True, False])
@pytest.mark.parametrize("warn_only", [True, False])
def test_use_deterministic_algorithms(mode, warn_only):
    both("use_deterministic_algorithms", mode, warn_only=warn_only)
    assert deterministic_state(flags) == deterministic_state(torch)


@pytest.mark.parametrize("debug_mode", ["default", "warn", "error", 0, 1, 2])
def test_set_deterministic_debug_mode(debug_mode):
    both("set_deterministic_debug_mode", debug_mode)
    assert deterministic_state(flags) == deterministic_state(torch)


@pytest.mark.parametrize(
    "debug_mode, err, match",
    [
        ("x", RuntimeError, "expected one of `default`, `warn`, `error`, but got x"),
        (3, RuntimeError, "expected 0, 1, or 2, but got 3"),
        (1.0, TypeError, "debug_mode must be str or int"),
    ],
)
def test_debug_mode_errors(debug_mode, err, match):
    for m in (flags, torch):
        with pytest.raises(err, match=match):
            m.set_deterministic_debug_mode(debug_mode)
    assert deterministic_state(flags) == deterministic_state(torch)


def test_use_deterministic_algorithms_refuses_non_bool():
    for m in (flags, torch):
        with pytest.raises(TypeError, match="must be bool"):
            m.use_deterministic_algorithms("yes")


@pytest.mark.parametrize("precision", ["highest", "high", "medium"])
def test_float32_matmul_precision(precision):
    both("set_float32_matmul_precision", precision)
    assert flags.get_float32_matmul_precision() == torch.get_float32_matmul_precision()


def test_float32_matmul_precision_unknown_warns_and_keeps():
    both("set_float32_matmul_precision", "medium")
    for m in (flags, torch):
        with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
            m.set_float32_matmul_precision("low")
    assert flags.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    for m in (flags, torch):
        with pytest.raises(RuntimeError, match="set_float32_matmul_precision expects a str"):
            m.set_float32_matmul_precision(1)


@pytest.mark.parametrize("value", [True, False])
def test_warn_always(value):
    both("set_warn_always", value)
    assert flags.is_warn_always_enabled() == torch.is_warn_always_enabled() == value
    for m in (flags, torch):
        with pytest.raises(RuntimeError, match="setWarnOnlyOnce expects a bool"):
            m.set_warn_always("x")


def test_flush_denormal_is_unsupported():
    assert flags.set_flush_denormal(True) is False
    assert flags.set_flush_denormal(False) is False


def test_num_interop_threads():
    assert flags.get_num_interop_threads() >= 1
    flags.set_num_interop_threads(3)
    assert flags.get_num_interop_threads() == 3
    for value, match in [(0, "expects a positive integer"), (-2, "expects a positive integer")]:
        for m in (flags, torch):
            with pytest.raises(RuntimeError, match=match):
                m.set_num_interop_threads(value)
    for m in (flags, torch):
        with pytest.raises(RuntimeError, match="set_num_interop_threads expects an int"):
            m.set_num_interop_threads("a")


def test_default_device():
    assert flags.get_default_device() == ember.device("cpu")
    flags.set_default_device("cpu")
    assert str(flags.get_default_device()) == str(torch.get_default_device()) == "cpu"
    flags.set_default_device(None)
    assert flags.get_default_device() == ember.device("cpu")


@pytest.mark.parametrize("device", ["cuda", "cuda:1", 0])
def test_default_device_cuda_raises_backend_error(device):
    with pytest.raises(RuntimeError, match="CUDA backend is not available yet"):
        flags.set_default_device(device)
    assert flags.get_default_device() == ember.device("cpu")


def test_bad_device_string():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type"):
        flags.set_default_device("tpu")


def test_top_level_names():
    for name in flags.__all__:
        assert getattr(ember, name) is getattr(flags, name)


def test_thread_and_backend_queries():
    assert flags.init_num_threads() is torch.init_num_threads() is None
    assert flags.is_vulkan_available() is torch.is_vulkan_available() is False
