"""validate_args errors, constraints, utils and the VAE-style reparameterisation check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.distributions as D
from ember.distributions import constraints
from ember.distributions.utils import (
    broadcast_all,
    clamp_probs,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)
from tests.distributions.common import F32
from tests.helpers import assert_same

TC = torch.distributions.constraints


def test_parameter_constraint_error_matches_torch():
    match = (
        r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
        r"Normal\(loc: ember.Size\(\[2\]\), scale: ember.Size\(\[2\]\)\) to satisfy the "
        r"constraint GreaterThan\(lower_bound=0.0\), but found invalid values"
    )
    with pytest.raises(ValueError, match=match):
        D.Normal(ember.zeros(2), ember.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match=r"Expected parameter loc .* constraint Real\(\)"):
        D.Normal(ember.tensor([float("nan")]), 1.0)
    with pytest.raises(
        ValueError, match=r"constraint Interval\(lower_bound=0.0, upper_bound=1.0\)"
    ):
        D.Bernoulli(ember.tensor([1.5]))
    with pytest.raises(ValueError, match=r"constraint Simplex\(\)"):
        D.Categorical(probs=ember.tensor([-1.0, 2.0]))
    with pytest.raises(ValueError, match="to be positive but found invalid values"):
        D.Geometric(ember.tensor([0.0, 0.5]))
    match = (
        r"Expected parameter low \(Tensor of shape \(\)\) of distribution Uniform\(low: 1.0, "
        r"high: 0.0\) to satisfy the constraint LessThan\(upper_bound=0.0\), but found invalid "
        r"values:\n1.0"
    )
    with pytest.raises(ValueError, match=match):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match=r"constraint PositiveDefinite\(\)"):
        D.MultivariateNormal(ember.zeros(2), ember.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"constraint LowerCholesky\(\)"):
        D.MultivariateNormal(ember.zeros(2), scale_tril=ember.tensor([[1.0, 1.0], [0.0, 1.0]]))


def test_validate_args_false_skips_checks():
    d = D.Normal(ember.zeros(2), ember.tensor([-1.0, 1.0]), validate_args=False)
    assert tuple(d.batch_shape) == (2,)
    D.Bernoulli(0.5, validate_args=False).log_prob(ember.tensor(2.0))


def test_set_default_validate_args():
    try:
        D.Distribution.set_default_validate_args(False)
        D.Normal(0.0, -1.0)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_sample_validation_errors():
    d = D.Normal(ember.zeros(3), 1.0)
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        d.log_prob(1.0)
    with pytest.raises(
        ValueError, match=r"Value is not broadcastable with batch_shape\+event_shape"
    ):
        d.log_prob(ember.zeros(2))
    mvn = D.MultivariateNormal(ember.zeros(3), ember.eye(3))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        mvn.log_prob(ember.zeros(2))
    match = (
        r"Expected value argument \(Tensor of shape \(\)\) to be within the support "
        r"\(Boolean\(\)\) of the distribution Bernoulli\(probs: 0.30000001192092896\), "
        r"but found invalid values"
    )
    with pytest.raises(ValueError, match=match):
        D.Bernoulli(0.3).log_prob(ember.tensor(2.0))
    with pytest.raises(ValueError, match=r"within the support \(IntegerInterval"):
        D.Categorical(ember.ones(3)).log_prob(ember.tensor(3))
    with pytest.raises(ValueError, match=r"within the support \(GreaterThanEq"):
        D.Exponential(1.0).log_prob(ember.tensor(-1.0))


def test_constructor_errors():
    with pytest.raises(
        ValueError, match=r"Either `probs` or `logits` must be specified, but not both\."
    ):
        D.Bernoulli(probs=0.3, logits=0.2)
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        D.Categorical()
    with pytest.raises(ValueError, match=r"`probs` parameter must be at least one-dimensional\."):
        D.Categorical(ember.tensor(0.5))
    with pytest.raises(ValueError, match=r"`logits` parameter must be at least one-dimensional\."):
        D.Categorical(logits=ember.tensor(0.5))
    with pytest.raises(
        ValueError, match=r"`concentration` parameter must be at least one-dimensional\."
    ):
        D.Dirichlet(ember.tensor(0.5))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix"):
        D.MultivariateNormal(ember.zeros(3))
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix"):
        D.MultivariateNormal(ember.zeros(2), ember.eye(2), scale_tril=ember.eye(2))
    with pytest.raises(ValueError, match=r"loc must be at least one-dimensional\."):
        D.MultivariateNormal(ember.tensor(0.0), ember.eye(2))
    with pytest.raises(ValueError, match="scale_tril matrix must be at least two-dimensional"):
        D.MultivariateNormal(ember.zeros(2), scale_tril=ember.ones(2))
    with pytest.raises(
        ValueError, match=r"Input arguments must all be instances of numbers\.Number"
    ):
        D.Normal("a", 1.0)


def test_base_class_not_implemented():
    d = D.Distribution(validate_args=False)
    for call in (lambda: d.log_prob(ember.zeros(1)), lambda: d.rsample(), lambda: d.entropy()):
        with pytest.raises(NotImplementedError):
            call()
    with pytest.raises(NotImplementedError):
        _ = d.mean
    assert tuple(d.batch_shape) == () and tuple(d.event_shape) == ()


CONSTRAINTS = [
    (constraints.real, TC.real),
    (constraints.positive, TC.positive),
    (constraints.nonnegative, TC.nonnegative),
    (constraints.unit_interval, TC.unit_interval),
    (constraints.boolean, TC.boolean),
    (constraints.nonnegative_integer, TC.nonnegative_integer),
    (constraints.positive_integer, TC.positive_integer),
    (constraints.integer_interval(0, 3), TC.integer_interval(0, 3)),
    (constraints.interval(-1.0, 1.0), TC.interval(-1.0, 1.0)),
    (constraints.half_open_interval(-1.0, 1.0), TC.half_open_interval(-1.0, 1.0)),
    (constraints.greater_than(0.5), TC.greater_than(0.5)),
    (constraints.greater_than_eq(0.5), TC.greater_than_eq(0.5)),
    (constraints.less_than(0.5), TC.less_than(0.5)),
    (constraints.real_vector, TC.real_vector),
    (constraints.simplex, TC.simplex),
    (constraints.one_hot, TC.one_hot),
    (constraints.lower_triangular, TC.lower_triangular),
    (constraints.lower_cholesky, TC.lower_cholesky),
    (constraints.positive_definite, TC.positive_definite),
]


@pytest.mark.parametrize("pair", CONSTRAINTS, ids=lambda p: repr(p[1]))
def test_constraint_check_and_repr(pair):
    ec, tc = pair
    assert repr(ec) == repr(tc)
    assert ec.event_dim == tc.event_dim
    assert ec.is_discrete == tc.is_discrete
    rng = np.random.default_rng(0)
    values = [
        rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0], (4, 3, 3)).astype(F32),
        np.broadcast_to(np.eye(3, dtype=F32), (2, 3, 3)).copy(),
        np.broadcast_to(
            np.array([[2.0, 0, 0], [0.5, 1.0, 0], [0.1, 0.2, 3.0]], F32), (2, 3, 3)
        ).copy(),
    ]
    for v in values:
        assert_same(ec.check(ember.tensor(v)), tc.check(torch.tensor(v)))


def test_dependent_constraint():
    assert constraints.is_dependent(constraints.dependent)
    assert constraints.is_dependent(D.Binomial.support)
    assert TC.is_dependent(torch.distributions.Binomial.support)
    assert not constraints.is_dependent(constraints.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        constraints.dependent.check(ember.zeros(1))
    for low, high in [(0.0, 2.0), ([0.0, 1.0], [2.0, 3.0])]:
        e = D.Uniform(ember.tensor(low), ember.tensor(high))
        t = torch.distributions.Uniform(torch.tensor(low), torch.tensor(high))
        assert repr(e.support) == repr(t.support)
        assert repr(e.arg_constraints) == repr(t.arg_constraints)


def test_utils_match_torch():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.0, 1.0, (2, 4)).astype(F32)
    p[0, 0] = 0.0
    tu = torch.distributions.utils
    assert_same(clamp_probs(ember.tensor(p)), tu.clamp_probs(torch.tensor(p)))
    for binary in (True, False):
        assert_same(
            probs_to_logits(ember.tensor(p), binary), tu.probs_to_logits(torch.tensor(p), binary)
        )
        assert_same(
            logits_to_probs(ember.tensor(p), binary), tu.logits_to_probs(torch.tensor(p), binary)
        )
    a, b = broadcast_all(ember.zeros(2, 1, dtype=ember.float64), 3.0)
    assert tuple(b.shape) == (2, 1) and b.dtype == ember.float64
    a, b = broadcast_all(1.0, 2)
    assert a.dtype == ember.float32 and tuple(a.shape) == ()
    with pytest.raises(ValueError, match="Input arguments must all be instances"):
        broadcast_all(ember.zeros(2), [1.0])


def test_lazy_property_computes_once():
    calls = []

    class Thing:
        @lazy_property
        def value(self):
            calls.append(1)
            return 42

    t = Thing()
    assert t.value == 42 and t.value == 42
    assert calls == [1]
    assert isinstance(Thing.__dict__["value"], lazy_property)


def test_vae_style_reparameterisation():
    rng = np.random.default_rng(4)
    mu_np = rng.standard_normal((4, 2)).astype(F32)
    sigma_np = rng.uniform(0.5, 1.5, (4, 2)).astype(F32)
    mu = ember.tensor(mu_np, requires_grad=True)
    sigma = ember.tensor(sigma_np, requires_grad=True)
    q = D.Normal(mu, sigma)
    z = q.rsample()
    eps = (z.data - mu_np) / sigma_np  # the noise the sample used
    kl = D.kl_divergence(q, D.Normal(ember.zeros(4, 2), ember.ones(4, 2)))
    loss = (z**2).sum() + kl.sum()
    loss.backward()
    # torch, given the same noise: z = mu + sigma * eps
    tmu = torch.tensor(mu_np, requires_grad=True)
    tsigma = torch.tensor(sigma_np, requires_grad=True)
    tz = tmu + tsigma * torch.tensor(eps)
    tq = torch.distributions.Normal(tmu, tsigma)
    tkl = torch.distributions.kl_divergence(
        tq, torch.distributions.Normal(torch.zeros(4, 2), torch.ones(4, 2))
    )
    ((tz**2).sum() + tkl.sum()).backward()
    assert_same(mu.grad, tmu.grad, rtol=1e-4, atol=1e-4)
    assert_same(sigma.grad, tsigma.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "make, params",
    [
        (lambda p: D.Normal(p[0], p[1]), "loc_scale"),
        (lambda p: D.Laplace(p[0], p[1]), "loc_scale"),
        (lambda p: D.Cauchy(p[0], p[1]), "loc_scale"),
        (lambda p: D.Gumbel(p[0], p[1]), "loc_scale"),
    ],
)
def test_location_scale_rsample_gradients(make, params):
    loc = ember.tensor([0.5, -1.0, 2.0], requires_grad=True)
    scale = ember.tensor([1.5, 0.7, 2.0], requires_grad=True)
    x = make((loc, scale)).rsample((5,))
    x.sum().backward()
    eps = (x.data - loc.data) / scale.data
    assert_same(loc.grad, torch.full((3,), 5.0))
    assert_same(scale.grad, torch.tensor(eps.sum(0)), rtol=1e-4, atol=1e-4)


def test_other_rsample_gradients():
    low = ember.tensor([0.0, -1.0], requires_grad=True)
    high = ember.tensor([1.0, 3.0], requires_grad=True)
    x = D.Uniform(low, high).rsample()
    x.sum().backward()
    u = (x.data - low.data) / (high.data - low.data)
    assert_same(low.grad, torch.tensor(1 - u), atol=1e-5)
    assert_same(high.grad, torch.tensor(u), atol=1e-5)

    rate = ember.tensor([0.5, 2.0], requires_grad=True)
    x = D.Exponential(rate).rsample()
    x.sum().backward()
    assert_same(rate.grad, torch.tensor(-x.data / rate.data))

    loc = ember.tensor([0.5, -1.0], requires_grad=True)
    scale = ember.tensor([0.5, 0.8], requires_grad=True)
    x = D.LogNormal(loc, scale).rsample()
    x.sum().backward()
    assert_same(loc.grad, torch.tensor(x.data))
    assert_same(
        scale.grad, torch.tensor(x.data * (np.log(x.data) - loc.data) / scale.data), atol=1e-5
    )

    scale = ember.tensor([0.5, 2.0], requires_grad=True)
    x = D.HalfNormal(scale).rsample()
    x.sum().backward()
    assert_same(scale.grad, torch.tensor(x.data / scale.data))


def test_sample_is_not_differentiable():
    loc = ember.tensor([0.5], requires_grad=True)
    assert not D.Normal(loc, 1.0).sample().requires_grad
    assert D.Normal(loc, 1.0).rsample().requires_grad


def test_sampling_is_seeded():
    ember.manual_seed(5)
    a = D.Normal(ember.zeros(3), 1.0).sample((2,))
    ember.manual_seed(5)
    b = D.Normal(ember.zeros(3), 1.0).sample((2,))
    assert np.array_equal(a.data, b.data)
