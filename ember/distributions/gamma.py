"""The gamma family: Gamma, Chi2, Beta, Dirichlet, Poisson and StudentT.

Differences from PyTorch: gradients of ``rsample`` with respect to a concentration (Gamma,
Chi2, Beta, Dirichlet, StudentT's df) need implicit reparameterisation, which Ember does not
implement: ``rsample`` raises ``NotImplementedError`` when that parameter requires grad (the
pathwise gradients through Gamma's rate and StudentT's loc and scale do flow).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, ClassVar

import ember.nn.functional as F
from ember import ops
from ember.autograd.grad_mode import is_grad_enabled, no_grad
from ember.backend import array_module
from ember.backend.dtypes import finfo
from ember.backend.random import generator_for
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import broadcast_all
from ember.ops.gamma import digamma, igamma, lgamma
from ember.tensor import Size, Tensor

__all__ = ["Beta", "Chi2", "Dirichlet", "Gamma", "Poisson", "StudentT"]

LGAMMA_HALF = math.lgamma(0.5)


def _xlogy(x: Tensor, y: Tensor) -> Tensor:
    """Return x * log(y), 0 where x == 0 (torch.xlogy)."""
    return ops.where(x == 0, 0.0, x * ops.log(y))


def _standard_gamma(concentration: Tensor) -> Tensor:
    """Gamma(concentration, 1) draws (no gradient), clamped to the dtype's tiny."""
    data = concentration.data
    xp = array_module(data)
    draw = generator_for(None).standard_gamma(data.astype(xp.float64))
    tiny = finfo(concentration.dtype).tiny
    return ops.tensor(xp.maximum(draw, tiny).astype(data.dtype), dtype=concentration.dtype)


def _no_concentration_grad(dist: str, param: str, value: Tensor) -> None:
    if value.requires_grad and is_grad_enabled():
        raise NotImplementedError(
            f"{dist}.rsample: gradients with respect to {param} need implicit "
            "reparameterisation, which Ember does not implement; detach it or use sample()"
        )


class Gamma(Distribution):
    """Gamma(concentration, rate). Mirrors ``torch.distributions.Gamma``.

    Differences from PyTorch: rsample has no gradient w.r.t. concentration (it raises if
    concentration requires grad); the gradient w.r.t. rate flows.
    """

    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gamma:
        """Return a copy with batch dims expanded. Mirrors ``Gamma.expand``."""
        return self._expand_params(Gamma, ("concentration", "rate"), batch_shape, _instance)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        _no_concentration_grad("Gamma", "concentration", self.concentration)
        shape = self._extended_shape(sample_shape)
        value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        return value.clamp(min=finfo(value.dtype).tiny)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            shape = self._extended_shape(sample_shape)
            value = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
            return value.clamp(min=finfo(value.dtype).tiny)

    def log_prob(self, value: Tensor) -> Tensor:
        value = ops.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return _xlogy(c, r) + _xlogy(c - 1, value) - r * value - lgamma(c)

    def cdf(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return igamma(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - ops.log(self.rate) + lgamma(c) + (1.0 - c) * digamma(c)


class Chi2(Gamma):
    """The chi-squared distribution, Gamma(df / 2, 1 / 2). Mirrors ``torch.distributions.Chi2``."""

    arg_constraints: ClassVar[dict] = {"df": constraints.positive}

    def __init__(self, df: Any, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Chi2:
        """Return a copy with batch dims expanded. Mirrors ``Chi2.expand``."""
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        _no_concentration_grad("Chi2", "df", self.concentration)
        return super().rsample(sample_shape)


class Dirichlet(Distribution):
    """The Dirichlet distribution on the simplex. Mirrors ``torch.distributions.Dirichlet``.

    Differences from PyTorch: rsample raises if concentration requires grad.
    """

    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.independent(constraints.positive, 1)
    }
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = concentration.shape
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        """Return a copy with batch dims expanded. Mirrors ``Dirichlet.expand``."""
        return self._expand_params(Dirichlet, ("concentration",), batch_shape, _instance)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        _no_concentration_grad("Dirichlet", "concentration", self.concentration)
        return self.sample(sample_shape)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            gammas = _standard_gamma(self.concentration.expand(shape))
            return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return _xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        concm1 = (self.concentration - 1).clamp(min=0.0)
        total = concm1.sum(-1, keepdim=True)
        mask = (self.concentration < 1).all(-1, keepdim=True)
        corner = F.one_hot(concm1.argmax(-1), concm1.shape[-1]).to(concm1)
        safe_total = ops.where(total == 0, 1.0, total)
        return ops.where(mask, corner, concm1 / safe_total)

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        con0 = c.sum(-1, keepdim=True)
        return c * (con0 - c) / (con0.pow(2) * (con0 + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return (
            lgamma(c).sum(-1)
            - lgamma(a0)
            - (k - a0) * digamma(a0)
            - ((c - 1.0) * digamma(c)).sum(-1)
        )


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]. Mirrors ``torch.distributions.Beta``.

    Differences from PyTorch: rsample raises if a concentration requires grad.
    """

    arg_constraints: ClassVar[dict] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(
        self, concentration1: Any, concentration0: Any, validate_args: bool | None = None
    ) -> None:
        if isinstance(concentration1, numbers.Real) and isinstance(concentration0, numbers.Real):
            c1c0 = ops.tensor([float(concentration1), float(concentration0)])
        else:
            c1, c0 = broadcast_all(concentration1, concentration0)
            c1c0 = ops.stack([c1, c0], -1)
        self._dirichlet = Dirichlet(c1c0, validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Beta:
        """Return a copy with batch dims expanded. Mirrors ``Beta.expand``."""
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self) -> Tensor:
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self) -> Tensor:
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self) -> Tensor:
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        _no_concentration_grad("Beta", "the concentrations", self._dirichlet.concentration)
        return self.sample(sample_shape)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self._dirichlet.sample(sample_shape)[..., 0]

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = ops.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self) -> Tensor:
        return self._dirichlet.entropy()


class Poisson(Distribution):
    """The Poisson distribution with the given rate. Mirrors ``torch.distributions.Poisson``."""

    arg_constraints: ClassVar[dict] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, numbers.Number) else self.rate.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Poisson:
        """Return a copy with batch dims expanded. Mirrors ``Poisson.expand``."""
        return self._expand_params(Poisson, ("rate",), batch_shape, _instance)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return ops.poisson(self.rate.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return _xlogy(value, rate) - rate - lgamma(value + 1)


class StudentT(Distribution):
    """Student's t-distribution with df degrees of freedom.

    Mirrors ``torch.distributions.StudentT``.

    Differences from PyTorch: rsample raises if df requires grad (loc and scale get gradients).
    """

    arg_constraints: ClassVar[dict] = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    def __init__(
        self, df: Any, loc: Any = 0.0, scale: Any = 1.0, validate_args: bool | None = None
    ) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        """Return a copy with batch dims expanded. Mirrors ``StudentT.expand``."""
        new = self._expand_params(StudentT, ("df", "loc", "scale"), batch_shape, _instance)
        new._chi2 = self._chi2.expand(batch_shape)
        return new

    @property
    def mean(self) -> Tensor:
        return ops.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        df = self.df
        safe = ops.where(df > 2, df, 3.0)
        finite = self.scale.pow(2) * safe / (safe - 2)
        return ops.where(df > 2, finite, ops.where(df > 1, math.inf, math.nan))

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        _no_concentration_grad("StudentT", "df", self.df)
        shape = self._extended_shape(sample_shape)
        X = ops.randn(shape, dtype=self.df.dtype, device=self.df.device)
        Z = self._chi2.sample(sample_shape)
        Y = X * ops.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + lgamma(0.5 * self.df)
            - lgamma(0.5 * (self.df + 1.0))
        )
        return -0.5 * (self.df + 1.0) * ops.log1p(y**2.0 / self.df) - Z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = lgamma(0.5 * df) + LGAMMA_HALF - lgamma(0.5 * (df + 1))
        return (
            self.scale.log()
            + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) - digamma(0.5 * df))
            + 0.5 * df.log()
            + lbeta
        )
