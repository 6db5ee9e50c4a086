"""Fractional max pooling vs PyTorch with the same ``_random_samples``.

Values, indices and gradients (functions and modules), unbatched, non-contiguous, tied and
NaN inputs, output_ratio, float64 gradcheck, the default random draw, PyTorch's errors.
"""

import numpy as np
import pytest
import torch

import ember
import ember.nn.fractional as fractional
import ember.ops.fractional_pooling as fp
from tests.helpers import assert_same, check_gradcheck, check_module

CASES = [
    (2, (2, 3, 9, 11), 2, {"output_size": (4, 5)}),
    (2, (3, 9, 11), (2, 3), {"output_size": (5, 4)}),
    (2, (1, 2, 10, 10), 3, {"output_size": (8, 1)}),
    (2, (2, 2, 8, 7), 2, {"output_ratio": (0.5, 0.7)}),
    (2, (2, 2, 8, 7), 2, {"output_size": 3}),
    (2, (2, 2, 5, 5), 2, {"output_size": 4}),  # alpha = 1: every window start
    (3, (2, 2, 7, 8, 9), 2, {"output_size": (3, 4, 5)}),
    (3, (2, 7, 8, 9), (1, 2, 3), {"output_size": (3, 6, 5)}),
    (3, (1, 2, 6, 6, 6), 2, {"output_ratio": 0.5}),
]


def samples(shape, d, seed=1, dtype=np.float32):
    n = 1 if len(shape) == d + 1 else shape[0]
    return np.random.default_rng(seed).random((n, shape[-d - 1], d)).astype(dtype)


def fn(m, d, with_indices=False):
    if m is torch:
        name = f"fractional_max_pool{d}d" + ("_with_indices" if with_indices else "")
        return getattr(torch.nn.functional, name)
    return getattr(fp, f"fractional_max_pool{d}d" + ("_with_indices" if with_indices else ""))


@pytest.mark.parametrize(("d", "shape", "k", "kwargs"), CASES)
def test_fractional_max_pool_matches_torch(d, shape, k, kwargs):
    s = samples(shape, d)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    g = None
    outs = {}
    for m in (ember, torch):
        xt = m.tensor(x, requires_grad=True)
        v, i = fn(m, d)(xt, k, return_indices=True, _random_samples=m.tensor(s), **kwargs)
        if g is None:
            g = np.random.default_rng(2).standard_normal(tuple(v.shape)).astype(np.float32)
        v.backward(m.tensor(g))
        outs[m] = (v.detach(), i, xt.grad)
    for e, t in zip(outs[ember], outs[torch]):
        assert_same(e, t, 1e-6, 1e-6)  # gradients: repeats summed in another order


@pytest.mark.parametrize("d", [2, 3])
def test_fractional_with_indices_and_plain(d):
    shape = (2, 3, 7, 7) if d == 2 else (1, 2, 6, 7, 6)
    s, x = samples(shape, d), np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    e_v, e_i = fn(ember, d, True)(ember.tensor(x), 2, 4, _random_samples=ember.tensor(s))
    t_v, t_i = fn(torch, d, True)(torch.tensor(x), 2, 4, _random_samples=torch.tensor(s))
    assert_same(e_v, t_v, 0, 0)
    assert_same(e_i, t_i, 0, 0)
    plain = fn(ember, d)(ember.tensor(x), 2, 4, _random_samples=ember.tensor(s))
    assert isinstance(plain, ember.Tensor)
    assert_same(plain, t_v, 0, 0)


@pytest.mark.parametrize("seed", [0, 1])
def test_fractional_ties_and_nan(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (2, 2, 9, 8)).astype(np.float32)
    x[0, 0, 2, 3] = np.nan
    x[1, 1, 4, 4] = x[1, 1, 5, 5] = np.nan
    s = samples(x.shape, 2, seed)
    e = fp.fractional_max_pool2d(ember.tensor(x), 3, (4, 4), None, True, ember.tensor(s))
    t = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x), 3, (4, 4), None, True, torch.tensor(s)
    )
    assert_same(e[0], t[0], 0, 0)
    assert_same(e[1], t[1], 0, 0)


def test_fractional_noncontiguous():
    x = np.random.default_rng(4).standard_normal((2, 3, 9, 10)).astype(np.float32)
    s = samples((3, 2, 10, 8), 2)
    e = fp.fractional_max_pool2d(
        ember.tensor(x).transpose(0, 1)[:, :, :, 1:].transpose(-1, -2),
        2,
        5,
        _random_samples=ember.tensor(s),
    )
    t = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x).transpose(0, 1)[:, :, :, 1:].transpose(-1, -2),
        2,
        5,
        _random_samples=torch.tensor(s),
    )
    assert_same(e, t, 0, 0)


@pytest.mark.parametrize("d", [2, 3])
def test_fractional_float64_and_gradcheck(d):
    shape = (1, 2, 6, 5) if d == 2 else (1, 1, 5, 5, 5)
    s = samples(shape, d, dtype=np.float64)
    x = np.random.default_rng(5).standard_normal(shape)
    e = fn(ember, d)(ember.tensor(x), 2, 3, _random_samples=ember.tensor(s))
    t = fn(torch, d)(torch.tensor(x), 2, 3, _random_samples=torch.tensor(s))
    assert_same(e, t, 0, 0)
    check_gradcheck(
        lambda m, x: fn(m, d)(x, 2, 3, _random_samples=m.tensor(s)), shape, low=-1, high=1
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda m, s: nn(m).FractionalMaxPool2d(2, output_size=(4, 3), _random_samples=s),
        lambda m, s: nn(m).FractionalMaxPool2d((2, 3), output_ratio=0.5, _random_samples=s),
    ],
)
def test_fractional_module_2d(make):
    s = samples((2, 3, 8, 9), 2)
    check_module(lambda m: make(m, m.tensor(s)), (2, 3, 8, 9))


def nn(m):
    return torch.nn if m is torch else fractional


def test_fractional_module_3d_and_indices():
    s = samples((2, 2, 6, 7, 6), 3)
    check_module(
        lambda m: nn(m).FractionalMaxPool3d(
            2, output_ratio=(0.5, 0.6, 0.7), _random_samples=m.tensor(s)
        ),
        (2, 2, 6, 7, 6),
    )
    check_module(
        lambda m: nn(m).FractionalMaxPool3d(
            2, output_size=3, return_indices=True, _random_samples=m.tensor(s)
        ),
        (2, 2, 6, 7, 6),
    )


def test_fractional_module_without_samples_draws_windows():
    x = ember.randn(2, 3, 10, 10)
    layer = fractional.FractionalMaxPool2d(3, output_size=5, return_indices=True)
    assert "_random_samples" not in layer.state_dict()
    assert (
        repr(layer)
        == repr(torch.nn.FractionalMaxPool2d(3, output_size=5))
        == ("FractionalMaxPool2d()")
    )
    ember.manual_seed(0)
    v1, i1 = layer(x)
    ember.manual_seed(0)
    _, i2 = layer(x)
    assert v1.shape == (2, 3, 5, 5) and v1.dtype == ember.float32 and i1.dtype == ember.int64
    np.testing.assert_array_equal(i1.numpy(), i2.numpy())
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(
        np.take_along_axis(flat, i1.numpy().reshape(2, 3, -1), 2), v1.numpy().reshape(2, 3, -1)
    )
    # the draw is the torch formula on samples taken from the generator
    ember.manual_seed(0)
    s = ember.rand(2, 3, 2)
    t = torch.nn.functional.fractional_max_pool2d(
        torch.tensor(x.numpy()), 3, 5, return_indices=True, _random_samples=torch.tensor(s.numpy())
    )
    assert_same(i1, t[1], 0, 0)


ERRORS = [
    (
        2,
        (1, 2, 5, 5),
        3,
        {"output_size": 4},
        RuntimeError,
        "pool height 3 too large relative to input height 5",
    ),
    (
        2,
        (1, 2, 5, 8),
        (1, 4),
        {"output_size": (5, 6)},
        RuntimeError,
        "pool width 4 too large relative to input width 8",
    ),
    (
        3,
        (1, 2, 5, 5, 5),
        4,
        {"output_size": 3},
        RuntimeError,
        "pool time 4 too large relative to input time 5",
    ),
    (
        2,
        (1, 2, 5, 5),
        (2, 2, 2),
        {"output_size": 3},
        RuntimeError,
        "kernel_size must either be a single Int",
    ),
    (
        2,
        (1, 2, 5, 5),
        2,
        {},
        ValueError,
        "requires specifying either an output_size or an output_ratio",
    ),
    (3, (1, 2, 5, 5, 5), 2, {}, ValueError, "fractional_max_pool3d requires specifying either"),
    (
        2,
        (1, 2, 5, 5),
        2,
        {"output_ratio": (0.5, 0.5, 0.5)},
        ValueError,
        "output_ratio to either be",
    ),
]


@pytest.mark.parametrize(("d", "shape", "k", "kwargs", "err", "match"), ERRORS)
def test_fractional_errors(d, shape, k, kwargs, err, match):
    for m in (torch, ember):
        with pytest.raises(err, match=match):
            fn(m, d)(m.randn(*shape), k, **kwargs)


def test_fractional_sample_errors():
    for m in (torch, ember):
        x = m.randn(1, 2, 5, 5)
        with pytest.raises(
            RuntimeError, match=r"Expect _random_samples.size\(2\) equals to 2; got 3"
        ):
            fn(m, 2)(x, 2, 3, _random_samples=m.rand(1, 2, 3))
        with pytest.raises(RuntimeError, match="Expect _random_samples to have the same dtype"):
            fn(m, 2)(x, 2, 3, _random_samples=m.rand(1, 2, 2, dtype=m.float64))
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            fn(m, 2)(m.ones(1, 2, 5, 5, dtype=m.int64), 2, 3)
    with pytest.raises(RuntimeError, match="Expected 3D or 4D tensor"):
        fp.fractional_max_pool2d(ember.randn(5, 5), 2, 3)
    with pytest.raises(RuntimeError, match="Expected 4D or 5D tensor"):
        fp.fractional_max_pool3d(ember.randn(2, 5, 5), 2, 3)


def test_fractional_module_errors():
    for m in (torch, ember):
        with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either"):
            nn(m).FractionalMaxPool2d(2)
        with pytest.raises(ValueError, match="only one of output_size and output_ratio"):
            nn(m).FractionalMaxPool3d(2, output_size=3, output_ratio=0.5)
        with pytest.raises(ValueError, match=r"output_ratio must be between 0 and 1 \(got 1.5\)"):
            nn(m).FractionalMaxPool2d(2, output_ratio=1.5)
