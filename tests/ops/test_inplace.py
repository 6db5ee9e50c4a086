"""Every in-place Tensor method against PyTorch: values, version bump, and gradients through it."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same

RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 1.5, (3, 4)).astype("float32")
Y = RNG.uniform(0.2, 1.5, (3, 4)).astype("float32")
MASK = RNG.random((3, 4)) > 0.5
IDX = np.array([2, 0])


def lib(m, a):
    return m.tensor(a)


# (name, fn(m, x) applying the in-place method to x); x is a float32 (3, 4) tensor in (0.2, 1.5).
CASES = [
    ("add_", lambda m, x: x.add_(lib(m, Y), alpha=2)),
    ("add_scalar", lambda m, x: x.add_(1.5)),
    ("sub_", lambda m, x: x.sub_(lib(m, Y))),
    ("mul_", lambda m, x: x.mul_(lib(m, Y)[0])),
    ("div_", lambda m, x: x.div_(lib(m, Y))),
    ("pow_", lambda m, x: x.pow_(2)),
    ("iadd", lambda m, x: x.__iadd__(lib(m, Y))),
    ("imul", lambda m, x: x.__imul__(3.0)),
    ("zero_", lambda m, x: x.zero_()),
    ("fill_", lambda m, x: x.fill_(2.5)),
    ("copy_", lambda m, x: x.copy_(lib(m, Y)[1])),
    ("clamp_", lambda m, x: x.clamp_(0.5, 1.0)),
    ("clip_", lambda m, x: x.clip_(max=1.0)),
    ("clamp_min_", lambda m, x: x.clamp_min_(0.7)),
    ("clamp_max_", lambda m, x: x.clamp_max_(0.7)),
    ("masked_fill_", lambda m, x: x.masked_fill_(lib(m, MASK), -1.0)),
    ("exp_", lambda m, x: x.exp_()),
    ("log_", lambda m, x: x.log_()),
    ("neg_", lambda m, x: x.neg_()),
    ("abs_", lambda m, x: x.neg_().abs_()),
    ("sqrt_", lambda m, x: x.sqrt_()),
    ("rsqrt_", lambda m, x: x.rsqrt_()),
    ("tanh_", lambda m, x: x.tanh_()),
    ("sigmoid_", lambda m, x: x.sigmoid_()),
    ("relu_", lambda m, x: x.sub_(0.8).relu_()),
    ("floor_", lambda m, x: x.mul_(3).floor_()),
    ("ceil_", lambda m, x: x.mul_(3).ceil_()),
    ("round_", lambda m, x: x.mul_(3).round_()),
    ("trunc_", lambda m, x: x.mul_(3).trunc_()),
    ("frac_", lambda m, x: x.mul_(3).frac_()),
    ("reciprocal_", lambda m, x: x.reciprocal_()),
    ("sign_", lambda m, x: x.sub_(0.8).sign_()),
    ("sin_", lambda m, x: x.sin_()),
    ("cos_", lambda m, x: x.cos_()),
    ("square_", lambda m, x: x.square_()),
    ("lerp_", lambda m, x: x.lerp_(lib(m, Y), 0.3)),
    ("addcmul_", lambda m, x: x.addcmul_(lib(m, Y), lib(m, Y), value=0.5)),
    ("addcdiv_", lambda m, x: x.addcdiv_(lib(m, Y), lib(m, X) + 1, value=0.5)),
    ("fmod_", lambda m, x: x.fmod_(0.4)),
    ("remainder_", lambda m, x: x.remainder_(0.4)),
    ("nan_to_num_", lambda m, x: x.nan_to_num_()),
    ("index_fill_", lambda m, x: x.index_fill_(0, m.tensor(IDX), 7.0)),
    ("index_add_", lambda m, x: x.index_add_(0, m.tensor(IDX), lib(m, Y)[:2], alpha=2)),
    ("index_copy_", lambda m, x: x.index_copy_(0, m.tensor(IDX), lib(m, Y)[:2])),
    ("scatter_", lambda m, x: x.scatter_(1, m.tensor([[1], [0], [3]]), lib(m, Y)[:, :1])),
    ("scatter_add_", lambda m, x: x.scatter_add_(1, m.tensor([[1], [0], [3]]), lib(m, Y)[:, :1])),
    (
        "scatter_reduce_",
        lambda m, x: x.scatter_reduce_(1, m.tensor([[1], [0], [3]]), lib(m, Y)[:, :1], "amax"),
    ),
    ("masked_scatter_", lambda m, x: x.masked_scatter_(lib(m, MASK), lib(m, Y))),
    ("tril_", lambda m, x: x.tril_(1)),
    ("triu_", lambda m, x: x.triu_()),
    ("setitem", lambda m, x: x.__setitem__((slice(None), 1), lib(m, Y)[:, 2])),
]


@pytest.mark.parametrize("name, fn", CASES, ids=[c[0] for c in CASES])
def test_inplace_values_and_version(name, fn):
    e, t = ember.tensor(X), torch.tensor(X)
    e_out, t_out = fn(ember, e), fn(torch, t)
    assert (e_out is e) == (t_out is t)
    assert e._version[0] >= 1
    assert_same(e, t)


@pytest.mark.parametrize("name, fn", CASES, ids=[c[0] for c in CASES])
def test_inplace_gradient_through_non_leaf(name, fn):
    """The op applied in place to a non-leaf: gradients reach the leaf as in PyTorch."""
    g = RNG.standard_normal((3, 4)).astype("float32")
    results = []
    for m in (ember, torch):
        leaf = m.tensor(X, requires_grad=True)
        h = leaf * 1.0
        fn(m, h)
        if not h.requires_grad:  # zero_/fill_ cut the history, as in PyTorch
            results.append(None)
            continue
        (h * m.tensor(g)).sum().backward()
        results.append(leaf.grad)
    if results[1] is None or results[0] is None:
        assert results[0] is None and results[1] is None
    else:
        assert_same(results[0], results[1])
