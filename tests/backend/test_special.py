"""erf, erfc, erfinv on arrays against SciPy (a test-only dependency), to ~1e-13 in float64."""

import numpy as np
import pytest
import scipy.special

from ember.backend import special

# Every branch of Cody's erf/erfc (|x| <= 0.46875, <= 4, > 4, beyond underflow), both signs.
X = np.concatenate(
    [
        np.linspace(-30.0, 30.0, 6001),
        [0.0, -0.0, 1e-300, -1e-300, 0.46875, -0.46875, 4.0, -4.0, 26.5, 27.0],
        [np.inf, -np.inf, np.nan],
    ]
)
# erfinv: its body, both tails, and y within an ulp of +-1.
Y = np.concatenate(
    [
        np.linspace(-1.0, 1.0, 4001),
        1 - np.logspace(-16, -1, 200),
        -1 + np.logspace(-16, -1, 200),
        [0.0, 1e-300, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, np.nan],
    ]
)


def _assert_close(got, want, rtol):
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    # relative error where the value is a normal number; absolute near the underflow limit
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_erfc_float64(name):
    _assert_close(getattr(special, name)(X), getattr(scipy.special, name)(X), rtol=1e-13)


def test_erfinv_float64():
    _assert_close(special.erfinv(Y), scipy.special.erfinv(Y), rtol=1e-13)


def test_erfinv_inverts_erf():
    t = np.linspace(-4.0, 4.0, 801)
    np.testing.assert_allclose(special.erfinv(special.erf(t)), t, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_keeps_float_dtype(name, dtype):
    x = np.linspace(-0.99, 0.99, 51).astype(dtype)
    got = getattr(special, name)(x)
    assert got.dtype == dtype
    want = getattr(scipy.special, name)(x.astype(np.float64)).astype(dtype)
    np.testing.assert_allclose(got, want, rtol=np.finfo(dtype).eps)


def test_empty_and_zero_dim():
    assert special.erf(np.zeros((0, 3))).shape == (0, 3)
    assert special.erfinv(np.array(0.5)).shape == ()
    np.testing.assert_allclose(special.erfc(np.array(1.0)), scipy.special.erfc(1.0), rtol=1e-15)
