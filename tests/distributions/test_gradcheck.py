"""gradcheck and gradgradcheck (float64) of log-densities and entropies in their parameters."""

from __future__ import annotations

import numpy as np
import pytest

import ember.distributions as D
from tests.helpers import check_gradcheck

X = np.array([0.3, 1.2, 2.5])  # a value inside every support used below
COUNTS = np.array([0.0, 1.0, 3.0])
PROB = np.array([0.2, 0.5, 0.9])


def t(m, a):
    return m.tensor(a, dtype=m.float64)


CASES = {
    "Normal": (lambda m, a, b: D.Normal(a, b).log_prob(t(m, X)), 2),
    "Normal-entropy": (lambda m, a, b: D.Normal(a, b).entropy(), 2),
    "LogNormal": (lambda m, a, b: D.LogNormal(a, b).log_prob(t(m, X)), 2),
    "Laplace": (lambda m, a, b: D.Laplace(a * 0.1, b).log_prob(t(m, X)), 2),
    "Cauchy": (lambda m, a, b: D.Cauchy(a, b).log_prob(t(m, X)), 2),
    "Gumbel": (lambda m, a, b: D.Gumbel(a, b).log_prob(t(m, X)), 2),
    "Exponential": (lambda m, a: D.Exponential(a).log_prob(t(m, X)), 1),
    "HalfNormal": (lambda m, a: D.HalfNormal(a).log_prob(t(m, X)), 1),
    "Bernoulli-logits": (lambda m, a: D.Bernoulli(logits=a).log_prob(t(m, PROB > 0.4)), 1),
    "Bernoulli-entropy": (lambda m, a: D.Bernoulli(probs=a * 0.5).entropy(), 1),
    "Geometric": (lambda m, a: D.Geometric(probs=a * 0.5).log_prob(t(m, COUNTS)), 1),
    "Binomial": (lambda m, a: D.Binomial(5, logits=a).log_prob(t(m, COUNTS)), 1),
    "Poisson": (lambda m, a: D.Poisson(a).log_prob(t(m, COUNTS)), 1),
    "Gamma": (lambda m, a, b: D.Gamma(a, b).log_prob(t(m, X)), 2),
    "Gamma-entropy": (lambda m, a, b: D.Gamma(a, b).entropy(), 2),
    "Beta": (lambda m, a, b: D.Beta(a, b).log_prob(t(m, PROB)), 2),
    "StudentT": (lambda m, a, b: D.StudentT(a + 2, b).log_prob(t(m, X)), 2),
    "StudentT-entropy": (lambda m, a, b: D.StudentT(a + 2, b).entropy(), 2),
    "Categorical": (
        lambda m, a: D.Categorical(logits=a.reshape(1, 3)).log_prob(m.tensor([0, 2, 1])),
        1,
    ),
    "Categorical-entropy": (lambda m, a: D.Categorical(probs=a).entropy(), 1),
    "Dirichlet": (lambda m, a: D.Dirichlet(a).log_prob(t(m, [0.2, 0.3, 0.5])), 1),
    "kl-normal": (
        lambda m, a, b: D.kl_divergence(D.Normal(a, b), D.Normal(b, a + 1)),
        2,
    ),
    "kl-gamma": (lambda m, a, b: D.kl_divergence(D.Gamma(a, b), D.Gamma(b, a)), 2),
}


@pytest.mark.parametrize("cid", list(CASES))
def test_gradcheck(cid):
    fn, n = CASES[cid]
    check_gradcheck(fn, *[(3,)] * n, low=0.5, high=1.5)
