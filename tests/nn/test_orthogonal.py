"""parametrizations.orthogonal against torch: values, orthogonality, gradients, assignment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.nn.utils.parametrizations import orthogonal
from tests.helpers import assert_same, check_module, state_dict_to_ember

MAPS = ["matrix_exp", "cayley", "householder"]
SHAPES = [(4, 4), (5, 3), (3, 5)]  # (out_features, in_features): square, tall, wide


def _orth(m):
    return orthogonal if m is ember else torch.nn.utils.parametrizations.orthogonal


def _assert_orthogonal(w, atol=1e-5):
    w = np.asarray(w.detach().data if isinstance(w, ember.Tensor) else w, dtype=np.float64)
    if w.shape[-2] < w.shape[-1]:
        w = np.swapaxes(w, -1, -2)
    gram = np.swapaxes(w, -1, -2) @ w
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(w.shape[-1]), gram.shape), atol=atol)


class Batched:
    """A module holding a batch of matrices (2, n, k) as its weight."""

    @staticmethod
    def make(m, n, k):
        layer = m.nn.Module()
        gen = np.random.default_rng(3)
        layer.weight = m.nn.Parameter(m.tensor(gen.standard_normal((2, n, k)).astype(np.float32)))
        return layer


@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", SHAPES)
def test_orthogonal_linear_matches_torch(shape, orthogonal_map, triv):
    def make(m):
        torch.manual_seed(0)
        layer = m.nn.Linear(shape[1], shape[0])
        if m is ember:  # start from torch's weights, then parametrize both alike
            ref = torch.nn.Linear(shape[1], shape[0])
            layer.load_state_dict(state_dict_to_ember(ref.state_dict()))
        return _orth(m)(layer, orthogonal_map=orthogonal_map, use_trivialization=triv)

    e, t = check_module(make, (2, shape[1]), rtol=1e-4, atol=1e-5)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr(e) == repr(t)
    assert_same(e.weight, t.weight, rtol=1e-4, atol=1e-5)
    _assert_orthogonal(e.weight)


@pytest.mark.parametrize("orthogonal_map", [None, *MAPS])
@pytest.mark.parametrize("shape", SHAPES)
def test_orthogonal_initial_value_is_qr_of_weight(shape, orthogonal_map):
    torch.manual_seed(1)
    t = torch.nn.Linear(shape[1], shape[0])
    e = ember.nn.Linear(shape[1], shape[0])
    e.load_state_dict(state_dict_to_ember(t.state_dict()))
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orthogonal_map)
    orthogonal(e, orthogonal_map=orthogonal_map)
    # Without copying anything after registration: the first min(n, k) columns come from QR.
    assert_same(e.weight, t.weight, rtol=1e-4, atol=1e-5)
    _assert_orthogonal(e.weight)


@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(4, 4), (4, 2), (2, 4)])
def test_orthogonal_batched_weight(shape, orthogonal_map, triv):
    layers = [Batched.make(m, *shape) for m in (ember, torch)]
    _orth(torch)(layers[1], orthogonal_map=orthogonal_map, use_trivialization=triv)
    _orth(ember)(layers[0], orthogonal_map=orthogonal_map, use_trivialization=triv)
    e, t = layers
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict(state_dict_to_ember(t.state_dict()))
    assert_same(e.weight, t.weight, rtol=1e-4, atol=1e-5)
    _assert_orthogonal(e.weight)
    gen = np.random.default_rng(0)
    r = gen.standard_normal(tuple(e.weight.shape)).astype(np.float32)
    (e.weight * ember.tensor(r)).sum().backward()
    (t.weight * torch.tensor(r)).sum().backward()
    for (name, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters(), strict=True):
        assert name and assert_same(pe.grad, pt.grad, rtol=1e-4, atol=1e-5) is None


@pytest.mark.parametrize("orthogonal_map", MAPS)
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_orthogonal_sgd_steps_stay_orthogonal(shape, orthogonal_map):
    layer = ember.nn.Linear(shape[1], shape[0])
    orthogonal(layer, orthogonal_map=orthogonal_map)
    opt = ember.optim.SGD(layer.parameters(), lr=0.1)
    x = ember.randn(8, shape[1])
    target = ember.randn(8, shape[0])
    before = layer.weight.detach().clone()
    for _ in range(5):
        opt.zero_grad()
        ((layer(x) - target) ** 2).mean().backward()
        opt.step()
        _assert_orthogonal(layer.weight)
    assert not np.allclose(before.data, layer.weight.detach().data)


@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
def test_orthogonal_assign_orthogonal_matrix(shape, triv):
    q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((max(shape), min(shape))))
    q = (q if shape[0] >= shape[1] else q.T).astype(np.float32)
    out = []
    for m in (ember, torch):
        layer = m.nn.Linear(shape[1], shape[0])
        _orth(m)(layer, orthogonal_map="householder", use_trivialization=triv)
        layer.weight = m.tensor(q)
        out.append(layer)
    e, t = out
    np.testing.assert_allclose(e.weight.detach().data, q, atol=1e-5)
    assert_same(e.weight, t.weight, rtol=1e-4, atol=1e-5)
    if not triv:  # the reflectors are deterministic: the originals agree too
        assert_same(
            e.parametrizations.weight.original, t.parametrizations.weight.original, atol=1e-5
        )


def test_orthogonal_assign_square_non_orthogonal_orthogonalizes():
    w = np.random.default_rng(4).standard_normal((3, 3)).astype(np.float32)
    out = []
    for m in (ember, torch):
        layer = m.nn.Linear(3, 3)
        _orth(m)(layer)
        layer.weight = m.tensor(w)
        out.append(layer.weight)
    assert_same(out[0], out[1], rtol=1e-4, atol=1e-5)
    _assert_orthogonal(out[0])


def test_orthogonal_gradcheck():
    for orthogonal_map in MAPS:
        layer = ember.nn.Linear(2, 3).double()
        orthogonal(layer, orthogonal_map=orthogonal_map)
        plist = layer.parametrizations.weight
        x = plist.original.detach().clone().requires_grad_(True)
        x.data[...] += np.random.default_rng(0).standard_normal(x.shape) * 0.3
        assert ember.autograd.gradcheck(plist[0], (x,))
        assert ember.autograd.gradgradcheck(plist[0], (x,))


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        orthogonal(ember.nn.Linear(3, 3), "kernel")
    with pytest.raises(ValueError, match=r"matrices\. Got a tensor of 1 dim"):
        orthogonal(ember.nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
        orthogonal(ember.nn.Linear(3, 3), orthogonal_map="qr")
    layer = orthogonal(ember.nn.Linear(3, 4))
    with pytest.raises(ValueError, match=r"Expected a matrix or batch of matrices of shape"):
        layer.weight = ember.randn(3, 4)
    for orthogonal_map in ("matrix_exp", "cayley"):
        layer = orthogonal(
            ember.nn.Linear(3, 3), orthogonal_map=orthogonal_map, use_trivialization=False
        )
        with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exp"):
            layer.weight = ember.eye(3)
