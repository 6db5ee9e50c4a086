"""Univariate distributions against torch.distributions: densities, moments, samples, grads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.distributions as D
from tests.distributions.common import F32, build, compare_grads
from tests.helpers import assert_same

BATCH = (2, 3)


def U(rng, low, high, shape=BATCH):
    return rng.uniform(low, high, shape).astype(F32)


def ints(rng, high, shape):
    return rng.integers(0, high + 1, shape).astype(F32)


# name -> (class, params(rng), value(rng, shape), value is continuous)
CASES = {
    "Normal": ("Normal", lambda r: {"loc": U(r, -1, 1), "scale": U(r, 0.5, 2, (3,))}, "real"),
    "Normal-scalar": ("Normal", lambda r: {"loc": 0.5, "scale": 2.0}, "real"),
    "LogNormal": ("LogNormal", lambda r: {"loc": U(r, -1, 1), "scale": U(r, 0.3, 1, (3,))}, "pos"),
    "HalfNormal": ("HalfNormal", lambda r: {"scale": U(r, 0.5, 2)}, "pos"),
    "Uniform": ("Uniform", lambda r: {"low": U(r, -2, -1), "high": U(r, 1, 2, (3,))}, "mid"),
    "Exponential": ("Exponential", lambda r: {"rate": U(r, 0.5, 2)}, "pos"),
    "Laplace": ("Laplace", lambda r: {"loc": U(r, -1, 1), "scale": U(r, 0.5, 2, (3,))}, "real"),
    "Cauchy": ("Cauchy", lambda r: {"loc": U(r, -1, 1, (3,)), "scale": U(r, 0.5, 2)}, "real"),
    "Gumbel": ("Gumbel", lambda r: {"loc": U(r, -1, 1), "scale": U(r, 0.5, 2, (3,))}, "real"),
    "Gumbel-scalar": ("Gumbel", lambda r: {"loc": 1.0, "scale": 2.0}, "real"),
    "Bernoulli": ("Bernoulli", lambda r: {"probs": U(r, 0.1, 0.9)}, "bool"),
    "Bernoulli-logits": ("Bernoulli", lambda r: {"logits": U(r, -2, 2)}, "bool"),
    "Geometric": ("Geometric", lambda r: {"probs": U(r, 0.2, 0.9)}, "count"),
    "Geometric-logits": ("Geometric", lambda r: {"logits": U(r, -2, 2)}, "count"),
    "Binomial": ("Binomial", lambda r: {"total_count": 5, "probs": U(r, 0.1, 0.9)}, "upto5"),
    "Binomial-logits": (
        "Binomial",
        lambda r: {"total_count": 5, "logits": U(r, -2, 2, (3,))},
        "upto5",
    ),
    "Poisson": ("Poisson", lambda r: {"rate": U(r, 0.5, 4)}, "count"),
    "Gamma": (
        "Gamma",
        lambda r: {"concentration": U(r, 0.5, 3), "rate": U(r, 0.5, 2, (3,))},
        "pos",
    ),
    "Chi2": ("Chi2", lambda r: {"df": U(r, 1, 5)}, "pos"),
    "Beta": (
        "Beta",
        lambda r: {"concentration1": U(r, 0.5, 3), "concentration0": U(r, 0.5, 3, (3,))},
        "unit",
    ),
    "StudentT": (
        "StudentT",
        lambda r: {"df": U(r, 2.5, 6), "loc": U(r, -1, 1, (3,)), "scale": U(r, 0.5, 2)},
        "real",
    ),
}
IDS = list(CASES)


def make_value(kind: str, rng, shape) -> np.ndarray:
    if kind == "real":
        return rng.standard_normal(shape).astype(F32)
    if kind == "pos":
        return U(rng, 0.1, 3, shape)
    if kind == "mid":
        return U(rng, -0.9, 0.9, shape)
    if kind == "unit":
        return U(rng, 0.05, 0.95, shape)
    if kind == "bool":
        return ints(rng, 1, shape)
    if kind == "count":
        return ints(rng, 6, shape)
    return ints(rng, 5, shape)  # upto5


def case(cid: str, grad: bool = True):
    name, params, kind = CASES[cid]
    rng = np.random.default_rng(abs(hash(cid)) % 1000)
    e, t, ep, tp = build(name, params(rng), grad)
    return e, t, ep, tp, kind, rng


@pytest.mark.parametrize("cid", IDS)
def test_shapes_and_repr(cid):
    e, t, *_ = case(cid)
    assert tuple(e.batch_shape) == tuple(t.batch_shape)
    assert tuple(e.event_shape) == tuple(t.event_shape)
    assert e.has_rsample == t.has_rsample
    assert e.has_enumerate_support == t.has_enumerate_support
    assert repr(e).replace("ember.", "torch.") == repr(t)


@pytest.mark.parametrize("cid", IDS)
def test_log_prob(cid):
    e, t, ep, tp, kind, rng = case(cid)
    value = make_value(kind, rng, (4, *BATCH))
    continuous = kind in ("real", "pos", "mid", "unit")
    ev = ember.tensor(value, requires_grad=continuous)
    tv = torch.tensor(value, requires_grad=continuous)
    e_out, t_out = e.log_prob(ev), t.log_prob(tv)
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-4)
    compare_grads(e_out, t_out, {**ep, "value": ev}, {**tp, "value": tv})


@pytest.mark.parametrize("cid", IDS)
def test_log_prob_broadcasts_value(cid):
    e, t, _, _, kind, rng = case(cid, grad=False)
    value = make_value(kind, rng, (3,))  # broadcasts against batch (2, 3)
    assert_same(e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)), atol=1e-4)


@pytest.mark.parametrize("prop", ["mean", "variance", "stddev", "mode", "entropy"])
@pytest.mark.parametrize("cid", IDS)
def test_moments_and_entropy(cid, prop):
    e, t, ep, tp, *_ = case(cid)
    try:
        t_out = getattr(t, prop)
        t_out = t_out() if callable(t_out) else t_out
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            e_out = getattr(e, prop)
            e_out() if callable(e_out) else e_out
        return
    e_out = getattr(e, prop)
    e_out = e_out() if callable(e_out) else e_out
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-5)
    if t_out.requires_grad and bool(torch.isfinite(t_out).all()):
        compare_grads(e_out, t_out, ep, tp)


@pytest.mark.parametrize("method", ["cdf", "icdf"])
@pytest.mark.parametrize("cid", IDS)
def test_cdf_icdf(cid, method):
    e, t, ep, tp, kind, rng = case(cid)
    value = (
        U(rng, 0.05, 0.95, (4, *BATCH)) if method == "icdf" else make_value(kind, rng, (4, *BATCH))
    )
    try:
        t_out = getattr(t, method)(torch.tensor(value))
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            getattr(e, method)(ember.tensor(value))
        return
    e_out = getattr(e, method)(ember.tensor(value))
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-5)
    try:
        compare_grads(e_out, t_out, ep, tp)
    except RuntimeError as err:  # torch has no derivative (igamma w.r.t. concentration)
        assert "not implemented" in str(err)


@pytest.mark.parametrize("cid", IDS)
def test_sample_shapes_and_support(cid):
    e, t, *_ = case(cid, grad=False)
    for shape in [(), (3,), (2, 2)]:
        s = e.sample(shape)
        ts = t.sample(shape)
        assert tuple(s.shape) == tuple(ts.shape)
        assert str(s.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1]
        assert not s.requires_grad
        assert bool(e.support.check(s).all())
    assert tuple(e.sample_n(4).shape) == (4, *e.batch_shape)
    if e.has_rsample:
        assert tuple(e.rsample((3,)).shape) == tuple(t.rsample((3,)).shape)


@pytest.mark.parametrize("cid", IDS)
def test_expand(cid):
    e, t, _, _, kind, rng = case(cid, grad=False)
    new_batch = (5, *BATCH)
    ee, te = e.expand(new_batch), t.expand(new_batch)
    assert type(ee) is type(e)
    assert tuple(ee.batch_shape) == tuple(te.batch_shape) == new_batch
    assert tuple(ee.sample((2,)).shape) == tuple(te.sample((2,)).shape)
    value = make_value(kind, rng, new_batch)
    assert_same(ee.log_prob(ember.tensor(value)), te.log_prob(torch.tensor(value)), atol=1e-4)
    assert_same(ee.mean, te.mean)


MEAN_IDS = [c for c in IDS if c != "Cauchy"]


@pytest.mark.parametrize("cid", MEAN_IDS)
def test_empirical_mean(cid):
    ember.manual_seed(1234)
    e, t, *_ = case(cid, grad=False)
    n = 20000
    samples = e.sample((n,)).data.astype(np.float64)
    mean, var = t.mean.numpy(), t.variance.numpy()
    tol = 6 * np.sqrt(var / n) + 1e-3
    assert np.all(np.abs(samples.mean(0) - mean) <= tol)
    if cid not in ("StudentT",):  # heavy tails: the sample variance converges slowly
        assert np.allclose(samples.var(0), var, rtol=0.1, atol=1e-2)


@pytest.mark.parametrize("cid", ["Bernoulli", "Binomial", "Bernoulli-logits"])
def test_enumerate_support(cid):
    e, t, *_ = case(cid, grad=False)
    for expand in (True, False):
        assert_same(e.enumerate_support(expand), t.enumerate_support(expand))
    assert_same(e.entropy(), t.entropy(), atol=1e-5)


def test_binomial_inhomogeneous_entropy_raises():
    d = D.Binomial(ember.tensor([2.0, 3.0]), ember.tensor([0.3, 0.4]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        d.entropy()


def test_perplexity():
    d = D.Normal(ember.tensor([0.0, 1.0]), ember.tensor([1.0, 2.0]))
    t = torch.distributions.Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))
    assert_same(d.perplexity(), t.perplexity())


def test_float64_params_keep_dtype():
    loc = np.array([0.5, -1.0])
    e = D.Normal(ember.tensor(loc), 2.0)
    t = torch.distributions.Normal(torch.tensor(loc), 2.0)
    assert_same(e.log_prob(ember.tensor(loc)), t.log_prob(torch.tensor(loc)))
    assert e.sample((2,)).dtype == ember.float64
