"""Transforms and TransformedDistribution against torch.distributions.transforms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.distributions as D
from tests.distributions.common import F32
from tests.helpers import assert_same, check_gradcheck

TT = torch.distributions.transforms

TRANSFORMS = {
    "Exp": (lambda: D.ExpTransform(), lambda: TT.ExpTransform(), "real"),
    "Sigmoid": (lambda: D.SigmoidTransform(), lambda: TT.SigmoidTransform(), "real"),
    "Tanh": (lambda: D.TanhTransform(), lambda: TT.TanhTransform(), "real"),
    "Affine": (lambda: D.AffineTransform(1.5, -2.0), lambda: TT.AffineTransform(1.5, -2.0), "real"),
    "Affine-tensor": (
        lambda: D.AffineTransform(ember.tensor([0.5, -1.0, 2.0]), ember.tensor([2.0, 0.5, -3.0])),
        lambda: TT.AffineTransform(torch.tensor([0.5, -1.0, 2.0]), torch.tensor([2.0, 0.5, -3.0])),
        "real",
    ),
    "Power": (lambda: D.PowerTransform(2.5), lambda: TT.PowerTransform(2.5), "pos"),
    "Compose": (
        lambda: D.ComposeTransform([D.AffineTransform(0.5, 2.0), D.TanhTransform()]),
        lambda: TT.ComposeTransform([TT.AffineTransform(0.5, 2.0), TT.TanhTransform()]),
        "real",
    ),
    "Exp-inv": (lambda: D.ExpTransform().inv, lambda: TT.ExpTransform().inv, "pos"),
}


@pytest.mark.parametrize("tid", list(TRANSFORMS))
def test_transform_matches_torch(tid):
    make_e, make_t, domain = TRANSFORMS[tid]
    te_, tt_ = make_e(), make_t()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, (4, 3)).astype(F32)
    if domain == "pos":
        x = np.abs(x) + 0.1
    ex = ember.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ey, ty = te_(ex), tt_(tx)
    assert_same(ey, ty)
    assert_same(te_.inv(ey.detach()), tt_.inv(ty.detach()), rtol=1e-3, atol=1e-4)
    e_ladj, t_ladj = te_.log_abs_det_jacobian(ex, ey), tt_.log_abs_det_jacobian(tx, ty)
    assert_same(e_ladj, t_ladj, rtol=1e-4, atol=1e-4)
    (ey.sum() + e_ladj.sum()).backward()
    (ty.sum() + t_ladj.sum()).backward()
    assert_same(ex.grad, tx.grad, rtol=1e-3, atol=1e-4)
    assert te_.bijective == tt_.bijective
    assert repr(te_.domain) == repr(tt_.domain)
    assert repr(te_.codomain) == repr(tt_.codomain)
    sign_e, sign_t = te_.sign, tt_.sign
    if isinstance(sign_t, torch.Tensor):
        assert_same(sign_e, sign_t)
    else:
        assert sign_e == sign_t


def test_abs_transform():
    x = ember.tensor([-1.0, 2.0])
    assert_same(D.AbsTransform()(x), torch.tensor([1.0, 2.0]))
    assert not D.AbsTransform().bijective


def test_transform_gradcheck():
    check_gradcheck(
        lambda m, x: (
            D.TanhTransform().log_abs_det_jacobian(x, m.tanh(x))
            + D.SigmoidTransform().log_abs_det_jacobian(x, m.sigmoid(x))
        ),
        (3,),
    )


def test_transformed_distribution_matches_torch():
    rng = np.random.default_rng(1)
    loc = rng.standard_normal((2, 3)).astype(F32)
    scale = rng.uniform(0.5, 1.5, (3,)).astype(F32)
    eloc, escale = ember.tensor(loc, requires_grad=True), ember.tensor(scale, requires_grad=True)
    tloc, tscale = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    e = D.TransformedDistribution(
        D.Normal(eloc, escale), [D.TanhTransform(), D.AffineTransform(1.0, -2.0)]
    )
    t = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(tloc, tscale),
        [TT.TanhTransform(), TT.AffineTransform(1.0, -2.0)],
    )
    assert tuple(e.batch_shape) == tuple(t.batch_shape)
    assert repr(e.support) == repr(t.support)
    value = rng.uniform(-0.9, 2.9, (4, 2, 3)).astype(F32)
    e_out, t_out = e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value))
    assert_same(e_out, t_out, rtol=1e-4, atol=1e-4)
    e_out.sum().backward()
    t_out.sum().backward()
    assert_same(eloc.grad, tloc.grad, rtol=1e-3, atol=1e-4)
    assert_same(escale.grad, tscale.grad, rtol=1e-3, atol=1e-4)
    assert_same(e.cdf(ember.tensor(value)), t.cdf(torch.tensor(value)), atol=1e-5)
    u = rng.uniform(0.05, 0.95, (4, 2, 3)).astype(F32)
    assert_same(e.icdf(ember.tensor(u)), t.icdf(torch.tensor(u)), rtol=1e-4, atol=1e-4)
    assert tuple(e.rsample((5,)).shape) == (5, 2, 3)
    ee = e.expand((4, 2, 3))
    assert tuple(ee.batch_shape) == (4, 2, 3)
    assert_same(ee.log_prob(ember.tensor(value)), t.expand((4, 2, 3)).log_prob(torch.tensor(value)))


def test_transformed_distribution_event_dims():
    base_e = D.Independent(D.Normal(ember.zeros(2, 3), ember.ones(2, 3)), 1)
    base_t = torch.distributions.Independent(
        torch.distributions.Normal(torch.zeros(2, 3), torch.ones(2, 3)), 1
    )
    e = D.TransformedDistribution(base_e, D.ExpTransform())
    t = torch.distributions.TransformedDistribution(base_t, TT.ExpTransform())
    assert tuple(e.batch_shape) == tuple(t.batch_shape) == (2,)
    assert tuple(e.event_shape) == tuple(t.event_shape) == (3,)
    value = np.random.default_rng(2).uniform(0.2, 2, (2, 3)).astype(F32)
    assert_same(e.log_prob(ember.tensor(value)), t.log_prob(torch.tensor(value)))
    assert repr(e.support) == repr(t.support)


def test_transformed_distribution_rejects_bad_transforms():
    with pytest.raises(ValueError, match="transforms must be a Transform or list"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), "exp")
    with pytest.raises(ValueError, match="transforms must be a Transform or a list of Transforms"):
        D.TransformedDistribution(D.Normal(0.0, 1.0), [D.ExpTransform(), "exp"])


def test_transform_cache_size_is_checked():
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        D.ExpTransform(cache_size=2)
