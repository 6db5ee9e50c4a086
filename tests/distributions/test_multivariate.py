"""Multivariate and wrapper distributions against torch.distributions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.distributions as D
from tests.distributions.common import F32, build, compare_grads
from tests.helpers import assert_same, check_gradcheck


def spd(rng, batch, n, dtype=F32):
    a = rng.standard_normal((*batch, n, n))
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def mvn_params(kind: str, rng):
    cov = spd(rng, (2,), 3)
    loc = rng.standard_normal((3,)).astype(F32)  # broadcasts against the (2,) batch
    if kind == "covariance_matrix":
        return {"loc": loc, "covariance_matrix": cov}
    if kind == "precision_matrix":
        return {"loc": loc, "precision_matrix": cov}
    return {"loc": loc, "scale_tril": np.linalg.cholesky(cov).astype(F32)}


KINDS = ["covariance_matrix", "precision_matrix", "scale_tril"]


@pytest.mark.parametrize("kind", KINDS)
def test_mvn_log_prob_and_grads(kind):
    rng = np.random.default_rng(0)
    e, t, ep, tp = build("MultivariateNormal", mvn_params(kind, rng))
    assert tuple(e.batch_shape) == tuple(t.batch_shape) == (2,)
    assert tuple(e.event_shape) == tuple(t.event_shape) == (3,)
    value = rng.standard_normal((4, 2, 3)).astype(F32)
    e_out = e.log_prob(ember.tensor(value))
    t_out = t.log_prob(torch.tensor(value))
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-4)
    compare_grads(e_out, t_out, ep, tp)


@pytest.mark.parametrize("prop", ["mean", "mode", "variance", "stddev", "entropy"])
@pytest.mark.parametrize("kind", KINDS)
def test_mvn_properties(kind, prop):
    rng = np.random.default_rng(1)
    e, t, ep, tp = build("MultivariateNormal", mvn_params(kind, rng))
    e_out, t_out = getattr(e, prop), getattr(t, prop)
    if prop == "entropy":
        e_out, t_out = e_out(), t_out()
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-5)
    compare_grads(e_out, t_out, ep, tp)


@pytest.mark.parametrize("prop", ["scale_tril", "covariance_matrix", "precision_matrix"])
@pytest.mark.parametrize("kind", KINDS)
def test_mvn_derived_matrices(kind, prop):
    rng = np.random.default_rng(2)
    e, t, *_ = build("MultivariateNormal", mvn_params(kind, rng), grad=False)
    assert_same(getattr(e, prop), getattr(t, prop), rtol=1e-4, atol=1e-5)


def test_mvn_rsample_shapes_expand_and_grad():
    rng = np.random.default_rng(3)
    e, t, ep, _ = build("MultivariateNormal", mvn_params("scale_tril", rng))
    assert tuple(e.rsample((5,)).shape) == tuple(t.rsample((5,)).shape) == (5, 2, 3)
    assert tuple(e.sample().shape) == (2, 3)
    ee, te = e.expand((4, 2)), t.expand((4, 2))
    assert tuple(ee.batch_shape) == tuple(te.batch_shape)
    value = rng.standard_normal((4, 2, 3)).astype(F32)
    assert_same(ee.log_prob(ember.tensor(value)), te.log_prob(torch.tensor(value)), atol=1e-4)
    # x = loc + L eps: d(sum x)/d loc is the number of draws per component
    x = e.rsample((7,))
    x.sum().backward()
    assert_same(ep["loc"].grad, torch.full((3,), 14.0))


def test_mvn_empirical_covariance():
    ember.manual_seed(7)
    rng = np.random.default_rng(4)
    cov = spd(rng, (), 3)
    e = D.MultivariateNormal(ember.tensor(np.array([1.0, -1.0, 0.5], dtype=F32)), ember.tensor(cov))
    x = e.sample((40000,)).data.astype(np.float64)
    assert np.allclose(x.mean(0), [1.0, -1.0, 0.5], atol=0.05)
    assert np.allclose(np.cov(x.T), cov, rtol=0.05, atol=0.1)


def test_mvn_gradcheck():
    rng = np.random.default_rng(5)
    value = rng.standard_normal((2, 2)).astype(np.float64)
    check_gradcheck(
        lambda m, loc, a: D.MultivariateNormal(
            loc, scale_tril=m.tril(a) + 2 * m.eye(2, dtype=m.float64)
        ).log_prob(m.tensor(value)),
        (2,),
        (2, 2),
        low=0.1,
        high=0.9,
    )


def test_independent_normal():
    rng = np.random.default_rng(6)
    params = {
        "loc": rng.standard_normal((2, 3)).astype(F32),
        "scale": rng.uniform(0.5, 2, (2, 3)).astype(F32),
    }
    e0, t0, ep, tp = build("Normal", params)
    e, t = D.Independent(e0, 1), torch.distributions.Independent(t0, 1)
    assert tuple(e.batch_shape) == (2,) and tuple(e.event_shape) == (3,)
    assert repr(e).replace("ember.", "torch.") == repr(t)
    value = rng.standard_normal((4, 2, 3)).astype(F32)
    e_out, t_out = e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value))
    assert_same(e_out, t_out, atol=1e-4)
    compare_grads(e_out, t_out, ep, tp)
    assert_same(e.entropy(), t.entropy())
    assert_same(e.mean, t.mean)
    assert_same(e.variance, t.variance)
    assert tuple(e.rsample((5,)).shape) == (5, 2, 3)
    assert e.has_rsample and not e.has_enumerate_support
    assert repr(e.support) == repr(t.support)
    ee = e.expand((4, 2))
    assert tuple(ee.batch_shape) == (4, 2) and tuple(ee.event_shape) == (3,)
    assert_same(ee.log_prob(ember.tensor(value)), t.expand((4, 2)).log_prob(torch.tensor(value)))
    with pytest.raises(
        ValueError,
        match=r"reinterpreted_batch_ndims <= len\(base_distribution.batch_shape\), actual 3 vs 2",
    ):
        D.Independent(e0, 3)
    with pytest.raises(NotImplementedError, match="cartesian product"):
        D.Independent(D.Bernoulli(ember.full((2,), 0.5)), 1).enumerate_support()


CAT_PARAMS = {
    "probs": lambda r: r.uniform(0.1, 1, (2, 4)).astype(F32),
    "logits": lambda r: r.standard_normal((2, 4)).astype(F32),
}


@pytest.mark.parametrize("name", ["Categorical", "OneHotCategorical"])
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_categorical_family(name, param):
    rng = np.random.default_rng(8)
    e, t, ep, tp = build(name, {param: CAT_PARAMS[param](rng)})
    assert tuple(e.batch_shape) == tuple(t.batch_shape)
    assert tuple(e.event_shape) == tuple(t.event_shape)
    assert_same(e.probs, t.probs)
    assert_same(e.logits, t.logits)
    idx = rng.integers(0, 4, (5, 2))
    if name == "Categorical":
        ev, tv = ember.tensor(idx), torch.tensor(idx)
    else:
        onehot = np.eye(4, dtype=F32)[idx]
        ev, tv = ember.tensor(onehot), torch.tensor(onehot)
    e_out, t_out = e.log_prob(ev), t.log_prob(tv)
    assert_same(e_out, t_out, atol=1e-5)
    compare_grads(e_out, t_out, ep, tp)
    e_h, t_h = e.entropy(), t.entropy()
    assert_same(e_h, t_h)
    assert_same(e.mean, t.mean)
    assert_same(e.mode, t.mode)
    assert_same(e.variance, t.variance)
    for expand in (True, False):
        assert_same(e.enumerate_support(expand), t.enumerate_support(expand))
    for shape in [(), (3,), (2, 5)]:
        s, ts = e.sample(shape), t.sample(shape)
        assert tuple(s.shape) == tuple(ts.shape)
        assert str(s.dtype).split(".")[-1] == str(ts.dtype).split(".")[-1]
    ee, te = e.expand((3, 2)), t.expand((3, 2))
    assert tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert_same(ee.log_prob(ev[0]), te.log_prob(tv[0]))


def test_categorical_empirical_frequencies():
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype=F32)
    s = D.Categorical(ember.tensor(probs)).sample((20000,)).data
    freq = np.stack([(s == k).mean(0) for k in range(3)], -1)
    assert np.allclose(freq, probs, atol=0.02)
    onehot = D.OneHotCategorical(ember.tensor(probs)).sample((20000,)).data
    assert np.allclose(onehot.mean(0), probs, atol=0.02)


def test_categorical_unnormalised_probs_are_normalised():
    probs = np.array([1.0, 3.0], dtype=F32)
    e = D.Categorical(ember.tensor(probs))
    assert_same(e.probs, torch.distributions.Categorical(torch.tensor(probs)).probs)


def test_dirichlet():
    rng = np.random.default_rng(9)
    e, t, ep, tp = build("Dirichlet", {"concentration": rng.uniform(0.5, 3, (2, 4)).astype(F32)})
    assert tuple(e.batch_shape) == (2,) and tuple(e.event_shape) == (4,)
    value = rng.dirichlet(np.ones(4), (3, 2)).astype(F32)
    e_out, t_out = e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value))
    assert_same(e_out, t_out, atol=1e-4)
    compare_grads(e_out, t_out, ep, tp)
    for prop in ("mean", "variance", "mode"):
        assert_same(getattr(e, prop), getattr(t, prop))
    e_h, t_h = e.entropy(), t.entropy()
    assert_same(e_h, t_h, atol=1e-5)
    compare_grads(e_h, t_h, ep, tp)
    s = e.sample((20000,))
    assert tuple(s.shape) == (20000, 2, 4)
    assert bool(e.support.check(s).all())
    assert np.allclose(s.data.mean(0), t.mean.detach().numpy(), atol=0.01)


def test_dirichlet_mode_with_small_concentration():
    conc = np.array([[0.5, 0.7, 0.9], [2.0, 3.0, 4.0]], dtype=F32)
    e = D.Dirichlet(ember.tensor(conc))
    t = torch.distributions.Dirichlet(torch.tensor(conc))
    assert_same(e.mode, t.mode)


def test_rsample_concentration_gradient_not_implemented():
    conc = ember.tensor([1.5, 2.0], requires_grad=True)
    for d in (
        D.Gamma(conc, 1.0),
        D.Dirichlet(conc),
        D.Beta(conc, 2.0),
        D.Chi2(conc),
        D.StudentT(conc),
    ):
        with pytest.raises(NotImplementedError, match="implicit reparameterisation"):
            d.rsample()
        assert d.has_rsample
        d.sample()  # sampling without gradient works
    with ember.no_grad():
        D.Gamma(conc, 1.0).rsample()


def test_gamma_rsample_gradient_through_rate():
    rate = ember.tensor([0.5, 2.0], requires_grad=True)
    x = D.Gamma(ember.tensor([1.5, 3.0]), rate).rsample()
    x.sum().backward()
    assert_same(rate.grad, torch.tensor(-(x.data / rate.data)))  # x = g / rate


def test_studentt_rsample_gradient_through_loc_scale():
    loc = ember.tensor([0.5, -1.0], requires_grad=True)
    scale = ember.tensor([1.5, 2.0], requires_grad=True)
    x = D.StudentT(ember.tensor([3.0, 4.0]), loc, scale).rsample()
    x.sum().backward()
    assert_same(loc.grad, torch.ones(2))
    assert_same(scale.grad, torch.tensor((x.data - loc.data) / scale.data), atol=1e-5)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_relaxed_bernoulli(param):
    rng = np.random.default_rng(10)
    p = rng.uniform(0.2, 0.8, (2, 3)).astype(F32)
    params = {
        "temperature": torch.tensor(0.7),
        param: p if param == "probs" else np.log(p / (1 - p)),
    }
    e_params = dict(params, temperature=ember.tensor(0.7))
    e = D.RelaxedBernoulli(
        **{
            k: (ember.tensor(v, requires_grad=True) if isinstance(v, np.ndarray) else v)
            for k, v in e_params.items()
        }
    )
    t = torch.distributions.RelaxedBernoulli(
        **{
            k: (torch.tensor(v, requires_grad=True) if isinstance(v, np.ndarray) else v)
            for k, v in params.items()
        }
    )
    value = rng.uniform(0.05, 0.95, (4, 2, 3)).astype(F32)
    assert_same(
        e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)), rtol=1e-4, atol=1e-4
    )
    x = e.rsample((5,))
    assert tuple(x.shape) == (5, 2, 3) and x.requires_grad
    assert bool(((x.data > 0) & (x.data < 1)).all())
    assert tuple(e.expand((3, 2, 3)).sample().shape) == (3, 2, 3)


@pytest.mark.parametrize("param", ["probs", "logits"])
def test_relaxed_one_hot_categorical(param):
    rng = np.random.default_rng(11)
    p = rng.uniform(0.2, 1, (2, 4)).astype(F32)
    p = p / p.sum(-1, keepdims=True)
    arg = p if param == "probs" else np.log(p)
    e = D.RelaxedOneHotCategorical(ember.tensor(0.5), **{param: ember.tensor(arg)})
    t = torch.distributions.RelaxedOneHotCategorical(
        torch.tensor(0.5), **{param: torch.tensor(arg)}
    )
    assert tuple(e.batch_shape) == (2,) and tuple(e.event_shape) == (4,)
    value = rng.dirichlet(np.ones(4), (3, 2)).astype(F32)
    assert_same(
        e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)), rtol=1e-4, atol=1e-3
    )
    logits = ember.tensor(np.log(p), requires_grad=True)
    x = D.RelaxedOneHotCategorical(ember.tensor(0.5), logits=logits).rsample((6,))
    assert tuple(x.shape) == (6, 2, 4)
    assert np.allclose(x.data.sum(-1), 1, atol=1e-5)
    (x[..., 0]).sum().backward()
    assert logits.grad is not None
