"""nn.attention.SDPBackend and sdpa_kernel against torch.nn.attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.attention as tattn

import ember
import ember.nn.attention as eattn
import ember.ops.attention as ops_attention
from ember.nn.attention import SDPBackend, sdpa_kernel
from tests.helpers import assert_same

NAMES = [
    "ERROR",
    "MATH",
    "FLASH_ATTENTION",
    "EFFICIENT_ATTENTION",
    "CUDNN_ATTENTION",
    "OVERRIDEABLE",
]


def _state(module):
    """(enabled names in enum order, priority order) from either library."""
    if module is eattn:
        enabled = [b.name for b in eattn._cur_sdpa_kernel_backends()]
        return enabled, list(eattn._priority)
    enabled = [b.name for b in tattn._cur_sdpa_kernel_backends()]
    return enabled, list(torch._C._get_sdp_priority_order())


def _same_state():
    assert _state(eattn) == _state(tattn)


def test_sdp_backend_members_match_torch():
    assert list(SDPBackend.__members__) == NAMES == list(tattn.SDPBackend.__members__)
    for name in NAMES:
        e, t = getattr(SDPBackend, name), getattr(tattn.SDPBackend, name)
        assert int(e) == int(t)
        assert e.name == t.name and e.value == t.value
        assert str(e) == str(t) and repr(e) == repr(t)
        assert (e == int(e)) is (t == int(t)) is False  # not ints
    assert not hasattr(ember.nn, "SDPBackend") and not hasattr(torch.nn, "SDPBackend")


@pytest.mark.parametrize(
    "backends",
    [
        ["MATH"],
        "FLASH_ATTENTION",
        ["FLASH_ATTENTION", "MATH"],
        ["EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "EFFICIENT_ATTENTION"],
        [],
        ["ERROR", "MATH"],
        "OVERRIDEABLE",
    ],
)
@pytest.mark.parametrize("set_priority", [False, True])
def test_sdpa_kernel_state_matches_torch(backends, set_priority):
    def convert(module):
        if isinstance(backends, str):
            return getattr(module.SDPBackend, backends)
        return [getattr(module.SDPBackend, name) for name in backends]

    before = _state(eattn)
    _same_state()
    if set_priority and "ERROR" in backends:
        pytest.skip("torch's flags go wrong with ERROR (-1) in the priority order")
    with (
        sdpa_kernel(convert(eattn), set_priority) as got_e,
        tattn.sdpa_kernel(convert(tattn), set_priority) as got_t,
    ):
        assert got_e == got_t == {}
        _same_state()
        with sdpa_kernel(SDPBackend.MATH), tattn.sdpa_kernel(tattn.SDPBackend.MATH):
            _same_state()
        _same_state()
    _same_state()
    assert _state(eattn) == before


def test_sdpa_kernel_restores_on_error():
    before = _state(eattn)
    with pytest.raises(KeyError), sdpa_kernel([SDPBackend.CUDNN_ATTENTION], set_priority=True):
        raise KeyError("inside")
    assert _state(eattn) == before
    assert ops_attention._MATH_SDP_ENABLED and ops_attention._FLASH_SDP_ENABLED


def test_sdpa_kernel_sets_the_flags_sdpa_reads():
    with sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
        assert not ops_attention._MATH_SDP_ENABLED and not ops_attention._FLASH_SDP_ENABLED
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        assert not ops_attention._MATH_SDP_ENABLED and ops_attention._FLASH_SDP_ENABLED
    with sdpa_kernel([SDPBackend.MATH]):
        assert ops_attention._MATH_SDP_ENABLED and not ops_attention._FLASH_SDP_ENABLED
    assert ops_attention._MATH_SDP_ENABLED and ops_attention._FLASH_SDP_ENABLED


@pytest.mark.parametrize("backend", ["MATH", "FLASH_ATTENTION"])
def test_sdpa_runs_under_cpu_backends(backend):
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 4, 8, generator=gen) for _ in range(3))
    with tattn.sdpa_kernel(getattr(tattn.SDPBackend, backend)):
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    with sdpa_kernel(getattr(SDPBackend, backend)):
        got = ember.nn.functional.scaled_dot_product_attention(
            *(ember.tensor(x.numpy()) for x in (q, k, v)), is_causal=True
        )
    assert_same(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", ["EFFICIENT_ATTENTION", "CUDNN_ATTENTION", "OVERRIDEABLE"])
def test_sdpa_without_cpu_backend_raises_like_torch(backend):
    q = torch.randn(1, 2, 3, 4)
    with (
        pytest.raises(RuntimeError, match="No viable backend") as expected,
        tattn.sdpa_kernel(getattr(tattn.SDPBackend, backend)),
    ):
        torch.nn.functional.scaled_dot_product_attention(q, q, q)
    e = ember.tensor(q.numpy())
    with (
        pytest.raises(RuntimeError) as got,
        sdpa_kernel(getattr(SDPBackend, backend)),
    ):
        ember.nn.functional.scaled_dot_product_attention(e, e, e)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("bad", [(SDPBackend.MATH,), "MATH", 0, None])
def test_sdpa_kernel_errors(bad):
    with pytest.raises(AssertionError) as expected, tattn.sdpa_kernel(bad):
        pass
    with pytest.raises(AssertionError) as got, sdpa_kernel(bad):
        pass
    assert str(got.value) == str(expected.value)
    assert "must be an instance of SDPBackend or a list of SDPBackend" in str(got.value)
