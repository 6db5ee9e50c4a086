"""Special functions on backend arrays: erf, erfc, erfinv.

NumPy has no error function and SciPy is not a dependency, so these are written out:
W. J. Cody's rational Chebyshev approximations for erf/erfc ("Rational Chebyshev approximations
for the error function", Math. Comp. 1969; netlib specfun CALERF), accurate to about 1e-16 in
float64, and M. Giles' approximation of erfinv ("Approximating the erfinv function", GPU
Computing Gems, 2010) polished by Newton steps on erf/erfc. All compute in float64 and return
the input's floating dtype.
"""

from __future__ import annotations

import math

from ember.backend import Array, array_module

__all__ = ["erf", "erfc", "erfinv"]

# erf(x) = x * A(x^2) / B(x^2) for |x| <= 0.46875.
_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)  # fmt: skip
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)  # fmt: skip
# erfc(x) = exp(-x^2) * C(x) / D(x) for 0.46875 < x <= 4.
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)  # fmt: skip
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
# erfc(x) = exp(-x^2) / x * (1/sqrt(pi) - P(1/x^2) / Q(1/x^2) / x^2) for x > 4.
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)  # fmt: skip
_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip
_SQRPI = 5.6418958354775628695e-1  # 1 / sqrt(pi)
_THRESH = 0.46875
_XBIG = 26.543  # erfc underflows to 0 beyond this

# Giles' single-precision erfinv: polynomials in w = -log(1 - y^2).
_G_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
              -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)  # fmt: skip
_G_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
           -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)  # fmt: skip
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_small(x: Array) -> Array:
    """erf(x) for |x| <= 0.46875."""
    z = x * x
    num, den = _A[4] * z, z
    for i in range(3):
        num, den = (num + _A[i]) * z, (den + _B[i]) * z
    return x * (num + _A[3]) / (den + _B[3])


def _exp_neg_square(xp: object, y: Array) -> Array:
    """exp(-y^2) without the rounding error of squaring y (Cody's split of y into two parts)."""
    head = xp.trunc(y * 16.0) / 16.0
    return xp.exp(-head * head) * xp.exp(-(y - head) * (y + head))


def _erfc_large(xp: object, y: Array) -> Array:
    """erfc(y) for y > 0.46875."""
    out = xp.zeros_like(y)
    mid = y <= 4.0
    ym = y[mid]
    num, den = _C[8] * ym, ym
    for i in range(7):
        num, den = (num + _C[i]) * ym, (den + _D[i]) * ym
    out[mid] = (num + _C[7]) / (den + _D[7]) * _exp_neg_square(xp, ym)
    far = ~mid & (y < _XBIG)
    yf = y[far]
    z = 1.0 / (yf * yf)
    num, den = _P[5] * z, z
    for i in range(4):
        num, den = (num + _P[i]) * z, (den + _Q[i]) * z
    tail = z * (num + _P[4]) / (den + _Q[4])
    out[far] = (_SQRPI - tail) / yf * _exp_neg_square(xp, yf)
    out[xp.isnan(y)] = xp.nan
    return out


def _split(x: Array) -> tuple[object, Array, Array, Array]:
    xp = array_module(x)
    x64 = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x64)
    return xp, x64, y, y <= _THRESH


def erf(x: Array) -> Array:
    """Return the error function of a floating array, computed in float64 (Cody)."""
    xp, x64, y, small = _split(x)
    out = xp.empty_like(x64)
    out[small] = _erf_small(x64[small])
    big = ~small
    out[big] = xp.copysign(1.0 - _erfc_large(xp, y[big]), x64[big])
    return out.astype(x.dtype, copy=False)


def erfc(x: Array) -> Array:
    """Return 1 - erf(x) of a floating array without cancellation, in float64 (Cody)."""
    xp, x64, y, small = _split(x)
    out = xp.empty_like(x64)
    out[small] = 1.0 - _erf_small(x64[small])
    big = ~small
    tail = _erfc_large(xp, y[big])
    out[big] = xp.where(x64[big] < 0, 2.0 - tail, tail)
    return out.astype(x.dtype, copy=False)


def _horner(coefficients: tuple, w: Array) -> Array:
    p = coefficients[0]
    for c in coefficients[1:]:
        p = c + p * w
    return p


def _newton_body(t: Array, y: Array, steps: int) -> Array:
    """Polish t ~ erfinv(y), 0 <= y <= 0.5, by Newton on erf(t) = y."""
    xp = array_module(t)
    for _ in range(steps):
        t = t - (erf(t) - y) / (_TWO_OVER_SQRT_PI * xp.exp(-t * t))
    return t


def _newton_tail(t: Array, y: Array, steps: int) -> Array:
    """Polish t ~ erfinv(y), 0.5 < y < 1, by Newton on log(erfc(t)) = log(1 - y).

    1 - y is exact here, and log(erfc) is nearly linear in t^2, so this converges even from a
    rough start where y is within 1e-7 of 1 (beyond Giles' single-precision range).
    """
    xp = array_module(t)
    log_target = xp.log(1.0 - y)
    for _ in range(steps):
        tail = _erfc_large(xp, t)
        t = t + (xp.log(tail) - log_target) * tail / (_TWO_OVER_SQRT_PI * xp.exp(-t * t))
    return t


def erfinv(x: Array) -> Array:
    """Return the inverse error function of a floating array, in float64.

    Giles' approximation (about 1e-7 for |y| < 1 - 6e-8) polished by Newton steps (see
    ``_newton_body``/``_newton_tail``). erfinv(+-1) is +-inf; |y| > 1 and NaN give NaN.
    """
    xp = array_module(x)
    y = xp.asarray(x, dtype=xp.float64)
    a = xp.abs(y)
    inside = a < 1.0  # excludes NaN
    ai = a[inside]
    w = -xp.log((1.0 - ai) * (1.0 + ai))  # 1 - ai is exact: no cancellation near 1
    central = w < 5.0
    t = (
        xp.where(
            central,
            _horner(_G_CENTRAL, w - 2.5),
            _horner(_G_TAIL, xp.sqrt(xp.maximum(w, 5.0)) - 3.0),
        )
        * ai
    )
    body = ai <= 0.5
    t[body] = _newton_body(t[body], ai[body], 2)
    tail = ~body
    far = w[tail] > 16.0  # 1 - y < 1e-7: Giles' guess is rough, polish longer
    t_tail = _newton_tail(t[tail], ai[tail], 2)
    t_tail[far] = _newton_tail(t_tail[far], ai[tail][far], 4)
    t[tail] = t_tail
    out = xp.full_like(y, xp.nan)
    out[inside] = t
    out[a == 1.0] = xp.inf
    out = xp.copysign(out, y)
    return out.astype(x.dtype, copy=False)
