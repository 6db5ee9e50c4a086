"""kl_divergence against torch.distributions.kl_divergence, and register_kl dispatch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.distributions as D
from tests.distributions.common import F32, build, compare_grads
from tests.helpers import assert_same


def U(rng, low, high, shape=(2, 3)):
    return rng.uniform(low, high, shape).astype(F32)


def spd(rng, n=3):
    a = rng.standard_normal((2, n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(F32)


PAIRS = {
    "Normal": ("Normal", lambda r: {"loc": U(r, -1, 1), "scale": U(r, 0.5, 2)}),
    "Bernoulli": ("Bernoulli", lambda r: {"probs": U(r, 0.1, 0.9)}),
    "Bernoulli-logits": ("Bernoulli", lambda r: {"logits": U(r, -2, 2)}),
    "Categorical": ("Categorical", lambda r: {"probs": U(r, 0.1, 1, (2, 4))}),
    "OneHotCategorical": ("OneHotCategorical", lambda r: {"logits": U(r, -2, 2, (2, 4))}),
    "Uniform": ("Uniform", lambda r: {"low": U(r, -2, -1), "high": U(r, 1, 2)}),
    "Exponential": ("Exponential", lambda r: {"rate": U(r, 0.5, 2)}),
    "Laplace": ("Laplace", lambda r: {"loc": U(r, -1, 1), "scale": U(r, 0.5, 2)}),
    "Gamma": ("Gamma", lambda r: {"concentration": U(r, 0.5, 3), "rate": U(r, 0.5, 2)}),
    "Beta": ("Beta", lambda r: {"concentration1": U(r, 0.5, 3), "concentration0": U(r, 0.5, 3)}),
    "Dirichlet": ("Dirichlet", lambda r: {"concentration": U(r, 0.5, 3, (2, 4))}),
    "Poisson": ("Poisson", lambda r: {"rate": U(r, 0.5, 4)}),
    "MultivariateNormal": (
        "MultivariateNormal",
        lambda r: {"loc": U(r, -1, 1, (2, 3)), "covariance_matrix": spd(r)},
    ),
    "MultivariateNormal-tril": (
        "MultivariateNormal",
        lambda r: {"loc": U(r, -1, 1, (3,)), "scale_tril": np.linalg.cholesky(spd(r)).astype(F32)},
    ),
}


@pytest.mark.parametrize("pid", list(PAIRS))
def test_kl_matches_torch(pid):
    name, params = PAIRS[pid]
    rng = np.random.default_rng(0)
    ep_, tp_, epp, tpp = build(name, params(rng))
    eq_, tq_, eqp, tqp = build(name, params(rng))
    e_out, t_out = D.kl_divergence(ep_, eq_), torch.distributions.kl_divergence(tp_, tq_)
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-4)
    prefixed_e = {**{f"p_{k}": v for k, v in epp.items()}, **{f"q_{k}": v for k, v in eqp.items()}}
    prefixed_t = {**{f"p_{k}": v for k, v in tpp.items()}, **{f"q_{k}": v for k, v in tqp.items()}}
    compare_grads(e_out, t_out, prefixed_e, prefixed_t)


def test_kl_self_is_zero():
    d = D.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
    assert np.allclose(D.kl_divergence(d, d).data, 0.0)


def test_kl_infinite_cases_match_torch():
    e = D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.5, 3.0))
    t = torch.distributions.kl_divergence(
        torch.distributions.Uniform(0.0, 2.0), torch.distributions.Uniform(0.5, 3.0)
    )
    assert_same(e, t)
    probs_p = np.array([0.5, 0.5, 0.0], dtype=F32)
    probs_q = np.array([1.0, 0.0, 0.0], dtype=F32)
    e = D.kl_divergence(D.Categorical(ember.tensor(probs_p)), D.Categorical(ember.tensor(probs_q)))
    t = torch.distributions.kl_divergence(
        torch.distributions.Categorical(torch.tensor(probs_p)),
        torch.distributions.Categorical(torch.tensor(probs_q)),
    )
    assert_same(e, t)
    e = D.kl_divergence(
        D.Bernoulli(ember.tensor([0.0, 1.0])), D.Bernoulli(ember.tensor([1.0, 0.5]))
    )
    t = torch.distributions.kl_divergence(
        torch.distributions.Bernoulli(torch.tensor([0.0, 1.0])),
        torch.distributions.Bernoulli(torch.tensor([1.0, 0.5])),
    )
    assert_same(e, t)


def test_kl_independent():
    rng = np.random.default_rng(1)
    p = {"loc": U(rng, -1, 1), "scale": U(rng, 0.5, 2)}
    q = {"loc": U(rng, -1, 1), "scale": U(rng, 0.5, 2)}
    ep, tp, *_ = build("Normal", p)
    eq, tq, *_ = build("Normal", q)
    e = D.kl_divergence(D.Independent(ep, 1), D.Independent(eq, 1))
    t = torch.distributions.kl_divergence(
        torch.distributions.Independent(tp, 1), torch.distributions.Independent(tq, 1)
    )
    assert_same(e, t)
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Independent(ep, 1), D.Independent(eq, 2))


def test_kl_mvn_event_shape_mismatch():
    p = D.MultivariateNormal(ember.zeros(2), ember.eye(2))
    q = D.MultivariateNormal(ember.zeros(3), ember.eye(3))
    with pytest.raises(ValueError, match="different event shapes"):
        D.kl_divergence(p, q)


def test_kl_unknown_pair_raises():
    with pytest.raises(
        NotImplementedError,
        match=r"No KL\(p \|\| q\) is implemented for p type Normal and q type Bernoulli",
    ):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.3))


def test_register_kl_most_specific_match_wins():
    class MyNormal(D.Normal):
        pass

    calls = []

    @D.register_kl(MyNormal, D.Normal)
    def _kl_my(p, q):
        calls.append("specific")
        return ember.zeros(())

    p, q = MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)
    D.kl_divergence(p, q)
    assert calls == ["specific"]
    # the parent pair still uses the generic rule
    assert_same(
        D.kl_divergence(D.Normal(0.0, 1.0), q),
        torch.distributions.kl_divergence(
            torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(1.0, 1.0)
        ),
    )

    # a subclass with no registration of its own falls back to its parent's
    class OtherNormal(D.Normal):
        pass

    assert np.allclose(D.kl_divergence(OtherNormal(0.0, 1.0), q).data, 0.5)


def test_register_kl_rejects_non_distributions():
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(int, D.Normal)
    with pytest.raises(TypeError, match="Expected type_q to be a Distribution subclass"):
        D.register_kl(D.Normal, str)
