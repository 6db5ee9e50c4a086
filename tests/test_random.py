"""Random ops: shapes and dtypes against PyTorch, distributions checked statistically at a fixed
seed, reproducibility, errors. PyTorch's stream cannot be matched, so values are never compared.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.ops import random as R
from ember.ops import random_inplace as RI
from tests.helpers import dtype_name

N = 20000  # samples for the moment checks: standard error of a mean ~ 0.7% of the std


def moments(x):
    a = np.asarray(x.detach().data, dtype=np.float64)
    return a.mean(), a.var()


def same_meta(e, t):
    assert tuple(e.shape) == tuple(t.shape)
    assert dtype_name(e.dtype) == dtype_name(t.dtype)


# -- factories ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [None, "float64", "float16", "bfloat16"])
def test_rand_shape_dtype_range(dtype):
    kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    same_meta(R.rand(2, 3, **kw), torch.rand(2, 3, **tkw))
    same_meta(R.rand((4,), **kw), torch.rand((4,), **tkw))
    x = R.rand(N, **kw)
    a = np.asarray(x.data, dtype=np.float64)
    assert a.min() >= 0 and a.max() < 1  # never 1, half types included
    mean, var = moments(x)
    assert abs(mean - 0.5) < 0.01 and abs(var - 1 / 12) < 0.005


@pytest.mark.parametrize("dtype", [None, "float64", "float16"])
def test_randn_moments(dtype):
    kw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    same_meta(R.randn(3, 2, **kw), torch.randn(3, 2, **tkw))
    mean, var = moments(R.randn(N, **kw))
    assert abs(mean) < 0.03 and abs(var - 1) < 0.04


def test_factories_leaf_requires_grad_and_errors():
    x = R.randn(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    assert R.rand(2, requires_grad=True).is_leaf
    for fn, tfn, kernel in (
        (R.rand, torch.rand, "check_uniform_bounds"),
        (R.randn, torch.randn, "normal_kernel_cpu"),
    ):
        for f in (fn, tfn):
            with pytest.raises(
                NotImplementedError, match=f"\"{kernel}\" not implemented for 'Long'"
            ):
                f(2, dtype=ember.int64 if f is fn else torch.int64)
    for f in (R.rand, torch.rand):
        with pytest.raises(RuntimeError, match=r"negative dimension -1: \[2, -1\]"):
            f(2, -1)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((10, (3,)), {}),
        ((3, 10, (2, 3)), {}),
        ((), {"high": 5, "size": (4,)}),
        ((), {"low": 1, "high": 5, "size": (2,)}),
    ],
    ids=str,
)
def test_randint_overloads(args, kwargs):
    e, t = R.randint(*args, **kwargs), torch.randint(*args, **kwargs)
    same_meta(e, t)


@pytest.mark.parametrize("dtype", ["int64", "float32", "uint8", "int8", "bool", "int16"])
def test_randint_dtypes_support(dtype):
    low, high = (
        (0, 2) if dtype == "bool" else (-3, 7) if dtype in ("int8", "int16", "float32") else (1, 9)
    )
    e = R.randint(low, high, (N,), dtype=getattr(ember, dtype))
    same_meta(e, torch.randint(low, high, (N,), dtype=getattr(torch, dtype)))
    values = np.asarray(e.data, dtype=np.int64)
    assert set(np.unique(values)) == set(range(low, high))  # every value, nothing else
    mean, var = moments(e)
    n = high - low
    assert (
        abs(mean - (low + high - 1) / 2) < 0.05 * n and abs(var - (n * n - 1) / 12) < 0.05 * n * n
    )


def test_randint_errors():
    for f, m in ((R.randint, ember), (torch.randint, torch)):
        with pytest.raises(
            RuntimeError,
            match="random_ expects 'from' to be less than 'to', but got from=5 >= to=5",
        ):
            f(5, 5, (3,))
        with pytest.raises(RuntimeError, match="to - 1 is out of bounds for unsigned char"):
            f(0, 300, (3,), dtype=m.uint8)
        with pytest.raises(RuntimeError, match="from is out of bounds for unsigned char"):
            f(-1, 3, (3,), dtype=m.uint8)
        with pytest.raises(RuntimeError, match="to - 1 is out of bounds for int"):
            f(0, 2**40, (3,), dtype=m.int32)
        with pytest.raises(TypeError, match="must be tuple of ints, not int"):
            f(10, 3)
        with pytest.raises(TypeError):
            f(10)


def test_randperm():
    for n in (0, 1, 7):
        same_meta(R.randperm(n), torch.randperm(n))
        assert sorted(R.randperm(n).tolist()) == list(range(n))
    same_meta(R.randperm(5, dtype=ember.float32), torch.randperm(5, dtype=torch.float32))
    # each position is uniform over 0..n-1
    first = [R.randperm(4)[0].item() for _ in range(4000)]
    counts = np.bincount(first, minlength=4)
    assert counts.min() > 850
    for f, m in ((R.randperm, ember), (torch.randperm, torch)):
        with pytest.raises(RuntimeError, match="negative dimension -1"):
            f(-1)
        with pytest.raises(RuntimeError, match="cannot be converted to type uint8"):
            f(300, dtype=m.uint8)


class _EmberRandom:
    """ember's namespace plus the random functions (until ember.ops imports ember.ops.random)."""

    def __getattr__(self, name):
        return getattr(R, name, None) or getattr(ember, name)


E = _EmberRandom()


def test_normal_overloads_shapes_dtypes():
    cases = [
        lambda m: m.normal(m.zeros(3), m.ones(3)),
        lambda m: m.normal(m.zeros(3), 1.0),
        lambda m: m.normal(0.0, m.ones(3)),
        lambda m: m.normal(0.0, 1.0, (2,)),
        lambda m: m.normal(0, 1, size=(2, 3)),
        lambda m: m.normal(m.zeros(2, 1), m.ones(3)),
        lambda m: m.normal(m.zeros(3, dtype=m.float64), m.ones(3, dtype=m.float64)),
        lambda m: m.normal(m.zeros(4, 3).T[1:], 2.0),  # non-contiguous mean
    ]
    for case in cases:
        same_meta(case(E), case(torch))


def test_normal_moments_and_broadcast():
    mean = ember.tensor([[-5.0], [5.0]])
    std = ember.tensor([0.5, 2.0, 4.0])
    y = R.normal(mean[:, :, None], std[None, :, None].expand(1, 3, N // 4))
    a = np.asarray(y.data, dtype=np.float64)
    np.testing.assert_allclose(a.mean(axis=2), [[-5] * 3, [5] * 3], atol=0.25)
    np.testing.assert_allclose(a.std(axis=2), [[0.5, 2, 4]] * 2, rtol=0.05)
    mean, var = moments(R.normal(3.0, 2.0, (N,)))
    assert abs(mean - 3) < 0.06 and abs(var - 4) < 0.2


def test_normal_zero_gradient():
    for m, mod in ((ember, R), (torch, torch)):
        mean = m.zeros(3, requires_grad=True)
        std = m.ones(3, requires_grad=True)
        out = mod.normal(mean, std)
        assert out.requires_grad and not out.is_leaf
        g_mean, g_std = m.autograd.grad(out.sum(), [mean, std])
        assert not np.asarray(g_mean.detach()).any() and not np.asarray(g_std.detach()).any()
        assert tuple(g_mean.shape) == (3,)


def test_normal_errors():
    for f, m in ((R.normal, ember), (torch.normal, torch)):
        with pytest.raises(RuntimeError, match=r"normal expects std >= 0\.0, but found std -1"):
            f(0.0, -1.0, (2,))
        with pytest.raises(RuntimeError, match=r"normal expects std >= 0\.0, but found std -1"):
            f(m.zeros(3), -1.0)
        with pytest.raises(RuntimeError, match=r"normal expects all elements of std >= 0\.0"):
            f(m.zeros(3), -m.ones(3))
        with pytest.raises(
            RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(3\)"
        ):
            f(m.zeros(2), m.ones(3))
        with pytest.raises(NotImplementedError, match="normal_kernel_cpu"):
            f(m.zeros(3, dtype=m.int64), 1.0)


def test_bernoulli():
    p = ember.tensor([0.0, 0.2, 0.9, 1.0]).expand(N // 4, 4)
    x = R.bernoulli(p)
    same_meta(x, torch.bernoulli(torch.tensor([0.0, 0.2, 0.9, 1.0]).expand(N // 4, 4)))
    a = np.asarray(x.data)
    assert set(np.unique(a)) <= {0.0, 1.0}
    np.testing.assert_allclose(a.mean(axis=0), [0, 0.2, 0.9, 1], atol=0.03)
    assert abs(R.bernoulli(ember.zeros(N), 0.3).data.mean() - 0.3) < 0.02
    same_meta(
        R.bernoulli(ember.zeros(3, dtype=ember.float64)),
        torch.bernoulli(torch.zeros(3, dtype=torch.float64)),
    )
    w = ember.full((3,), 0.5, requires_grad=True)
    out = R.bernoulli(w)
    assert out.requires_grad
    assert not ember.autograd.grad(out.sum(), w)[0].data.any()
    for f, m in ((R.bernoulli, ember), (torch.bernoulli, torch)):
        with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1"):
            f(m.full((3,), 1.5))
        with pytest.raises(
            RuntimeError, match=r"bernoulli_ expects p to be in \[0, 1\], but got p=1.5"
        ):
            f(m.full((3,), 0.5), p=1.5)
        with pytest.raises(NotImplementedError, match="bernoulli_tensor_cpu_p_"):
            f(m.full((3,), 1))


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_frequencies(replacement):
    weights = ember.tensor([[1.0, 2.0, 0.0, 7.0], [0.0, 0.0, 5.0, 5.0]])
    k = 1 if not replacement else 4000
    draws = np.concatenate(
        [
            R.multinomial(weights, k, replacement).data
            for _ in range(4000 if not replacement else 1)
        ],
        axis=1,
    )
    same_meta(
        R.multinomial(weights, 2, replacement),
        torch.multinomial(torch.tensor(weights.data), 2, replacement),
    )
    f0 = np.bincount(draws[0], minlength=4) / draws.shape[1]
    f1 = np.bincount(draws[1], minlength=4) / draws.shape[1]
    np.testing.assert_allclose(f0, [0.1, 0.2, 0, 0.7], atol=0.03)
    np.testing.assert_allclose(f1, [0, 0, 0.5, 0.5], atol=0.03)


def test_multinomial_without_replacement_distinct():
    weights = ember.tensor([1.0, 2.0, 3.0, 4.0, 0.5])
    for _ in range(50):
        out = R.multinomial(weights, 5)
        assert sorted(out.tolist()) == [0, 1, 2, 3, 4]
    # zero-weight categories come last
    assert sorted(R.multinomial(ember.tensor([1.0, 0.0, 0.0]), 2).tolist())[0] == 0
    assert R.multinomial(ember.tensor([1.0, 0.0, 0.0]), 2)[0].item() == 0
    same_meta(R.multinomial(ember.ones(0, 3), 1), torch.multinomial(torch.ones(0, 3), 1))
    same_meta(R.multinomial(ember.ones(3), 2), torch.multinomial(torch.ones(3), 2))


def test_multinomial_errors():
    for f, m in ((R.multinomial, ember), (torch.multinomial, torch)):
        with pytest.raises(RuntimeError, match=r"cannot sample n_sample > prob_dist\.size"):
            f(m.tensor([1.0, 2, 3]), 4)
        with pytest.raises(
            RuntimeError, match="probability tensor contains either `inf`, `nan` or element < 0"
        ):
            f(m.tensor([-1.0, 2, 3]), 2)
        with pytest.raises(RuntimeError, match="probability tensor contains"):
            f(m.tensor([1.0, float("nan"), 3]), 1)
        with pytest.raises(
            RuntimeError, match=r"invalid multinomial distribution \(sum of probabilities <= 0\)"
        ):
            f(m.tensor([0.0, 0, 0]), 2)
        with pytest.raises(RuntimeError, match="cannot sample n_sample <= 0 samples"):
            f(m.tensor([1.0, 2, 3]), 0)
        with pytest.raises(
            RuntimeError,
            match="multinomial only supports floating-point dtypes for input, got: Long",
        ):
            f(m.tensor([1, 2, 3]), 1)
        with pytest.raises(RuntimeError, match="prob_dist must be 1 or 2 dim"):
            f(m.ones(2, 2, 2), 1)


def test_like_and_poisson():
    x = ember.zeros(2, 3, dtype=ember.float64)
    t = torch.zeros(2, 3, dtype=torch.float64)
    same_meta(R.rand_like(x), torch.rand_like(t))
    same_meta(R.randn_like(x), torch.randn_like(t))
    same_meta(R.randint_like(x, 10), torch.randint_like(t, 10))
    same_meta(R.randint_like(x.int(), 3, 10), torch.randint_like(t.int(), 3, 10))
    assert set(np.unique(R.randint_like(ember.zeros(1000), 3, 6).data)) == {3.0, 4.0, 5.0}
    lam = ember.tensor([0.5, 4.0, 20.0]).expand(N // 4, 3)
    p = R.poisson(lam)
    same_meta(p, torch.poisson(torch.tensor([0.5, 4.0, 20.0])).expand(N // 4, 3))
    a = np.asarray(p.data, dtype=np.float64)
    np.testing.assert_allclose(a.mean(axis=0), [0.5, 4, 20], rtol=0.05)
    np.testing.assert_allclose(a.var(axis=0), [0.5, 4, 20], rtol=0.1)
    for f, m in ((R.poisson, ember), (torch.poisson, torch)):
        with pytest.raises(
            RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"
        ):
            f(m.full((3,), -2.0))
        with pytest.raises(NotImplementedError, match="poisson_cpu"):
            f(m.full((3,), 2))
    with pytest.raises(NotImplementedError, match="check_uniform_bounds"):
        R.rand_like(ember.zeros(2, dtype=ember.int64))


# -- seeding ------------------------------------------------------------------------------------
def _draw_all(generator=None):
    g = {"generator": generator}
    return [
        R.rand(3, **g),
        R.randn(3, **g),
        R.randint(0, 100, (3,), **g),
        R.randperm(6, **g),
        R.normal(0.0, 1.0, (3,), **g),
        R.bernoulli(ember.full((4,), 0.5), **g),
        R.multinomial(ember.ones(5), 3, **g),
        RI.uniform_(ember.zeros(3), **g),
        RI.exponential_(ember.zeros(3), **g),
    ]


def test_manual_seed_reproducible():
    ember.manual_seed(1234)
    a = _draw_all()
    ember.manual_seed(1234)
    b = _draw_all()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)
    c = _draw_all()
    assert not np.array_equal(a[0].data, c[0].data)


def test_generator_reproducible_and_independent():
    g1 = ember.Generator().manual_seed(7)
    a = _draw_all(g1)
    ember.manual_seed(0)
    R.rand(10)  # the default generator does not touch g1
    g2 = ember.Generator().manual_seed(7)
    b = _draw_all(g2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.data, y.data)


def test_rng_state_roundtrip():
    state = R.get_rng_state()
    assert state.dtype is ember.uint8 and state.ndim == 1
    a = R.randn(5)
    R.set_rng_state(state)
    b = R.randn(5)
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(RuntimeError, match="not a state from get_state"):
        R.set_rng_state(ember.zeros(4, dtype=ember.uint8))


# -- in-place fills -----------------------------------------------------------------------------
FILLS = [
    # (name, args, expected mean, expected variance, support check)
    ("uniform_", (2.0, 5.0), 3.5, 9 / 12, lambda a: (a >= 2).all() and (a <= 5).all()),
    ("normal_", (1.0, 3.0), 1.0, 9.0, None),
    ("bernoulli_", (0.3,), 0.3, 0.21, lambda a: set(np.unique(a)) <= {0, 1}),
    ("random_", (-3, 4), 0.0, 4.0, lambda a: set(np.unique(a)) == set(range(-3, 4))),
    ("exponential_", (2.0,), 0.5, 0.25, lambda a: (a >= 0).all()),
    ("geometric_", (0.25,), 4.0, 12.0, lambda a: (a >= 1).all() and (a == np.round(a)).all()),
    (
        "log_normal_",
        (0.0, 0.5),
        np.exp(0.125),
        (np.exp(0.25) - 1) * np.exp(0.25),
        lambda a: (a > 0).all(),
    ),
]


@pytest.mark.parametrize("name, args, mean, var, support", FILLS, ids=[f[0] for f in FILLS])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_fill_distribution(name, args, mean, var, support, dtype):
    x = ember.zeros(N, dtype=getattr(ember, dtype))
    version = x._version[0]
    out = getattr(RI, name)(x, *args)
    assert out is x and x.dtype is getattr(ember, dtype) and x._version[0] == version + 1
    t = getattr(torch.zeros(3, dtype=getattr(torch, dtype)), name)(*args)
    assert dtype_name(t.dtype) == dtype
    a = np.asarray(x.data, dtype=np.float64)
    if support is not None:
        assert support(a)
    m, v = a.mean(), a.var()
    assert abs(m - mean) < 0.05 * np.sqrt(var) + 0.01 * abs(mean)
    assert abs(v - var) < 0.1 * var


def test_cauchy_quantiles():
    x = RI.cauchy_(ember.zeros(N), 1.0, 2.0)
    q = np.quantile(np.asarray(x.data, dtype=np.float64), [0.25, 0.5, 0.75])
    np.testing.assert_allclose(q, [-1, 1, 3], atol=0.15)  # median +- sigma


def test_fill_views_and_int_dtypes():
    base = ember.zeros(4, 5)
    RI.uniform_(base[:, 1:3])  # writes through a view
    assert (base.data[:, [0, 3, 4]] == 0).all() and (base.data[:, 1:3] > 0).any()
    for dtype in ("int64", "uint8", "bool", "int16"):
        e, t = (
            ember.zeros(N, dtype=getattr(ember, dtype)),
            torch.zeros(3, dtype=getattr(torch, dtype)),
        )
        RI.random_(e)
        t.random_()
        assert dtype_name(e.dtype) == dtype_name(t.dtype)
        a = np.asarray(e.data, dtype=np.float64)
        info_max = 1 if dtype == "bool" else np.iinfo(dtype).max
        assert a.min() >= 0 and a.max() <= info_max and a.max() > info_max * 0.9
        RI.bernoulli_(e, 0.5)
        assert set(np.unique(np.asarray(e.data, dtype=np.int64))) == {0, 1}
    h = RI.random_(ember.zeros(N, dtype=ember.float16))
    assert np.asarray(h.data, dtype=np.float64).max() <= 2**11
    g = RI.geometric_(ember.zeros(10, dtype=ember.int64), 0.5)
    assert g.dtype is ember.int64 and (g.data >= 1).all()
    r = RI.random_(ember.zeros(N), 5)
    assert set(np.unique(r.data)) == {0, 1, 2, 3, 4}
    u = RI.uniform_(ember.zeros(3), **{"from": 2.0, "to": 3.0})
    assert (u.data >= 2).all()


def test_bernoulli_tensor_p():
    p = ember.tensor([0.0, 1.0, 0.5])
    x = RI.bernoulli_(ember.zeros(2, 3), p)
    np.testing.assert_array_equal(x.data[:, :2], [[0, 1], [0, 1]])
    for m, fill in ((ember, RI.bernoulli_), (torch, torch.Tensor.bernoulli_)):
        with pytest.raises(
            RuntimeError,
            match=r"The expanded size of the tensor \(3\) must match the existing size \(2\)",
        ):
            fill(m.zeros(3), m.full((2,), 0.5))


def test_fill_errors():
    def both(name, dtype, *args):
        return [
            (getattr(RI, name), ember.zeros(3, dtype=getattr(ember, dtype)), args),
            (getattr(torch.Tensor, name), torch.zeros(3, dtype=getattr(torch, dtype)), args),
        ]

    cases = [
        (
            "uniform_",
            "float32",
            (2, 1),
            RuntimeError,
            r"uniform_ expects to return a \[from, to\) range, but found from=2 > to=1",
        ),
        (
            "uniform_",
            "int64",
            (),
            NotImplementedError,
            "\"check_uniform_bounds\" not implemented for 'Long'",
        ),
        (
            "normal_",
            "float32",
            (0, -1),
            RuntimeError,
            "normal expects std >= 0.0, but found std -1",
        ),
        ("normal_", "int64", (), NotImplementedError, "normal_kernel_cpu"),
        (
            "exponential_",
            "float32",
            (0,),
            RuntimeError,
            "exponential_ expects lambda > 0.0, but found lambda=0",
        ),
        (
            "exponential_",
            "int64",
            (),
            RuntimeError,
            "dtype must be a floating point but you specified Long",
        ),
        (
            "geometric_",
            "float32",
            (1,),
            RuntimeError,
            r"geometric_ expects p to be in \(0, 1\), but got p=1",
        ),
        (
            "geometric_",
            "float32",
            (0,),
            RuntimeError,
            r"geometric_ expects p to be in \(0, 1\), but got p=0",
        ),
        (
            "log_normal_",
            "float32",
            (0, 0),
            RuntimeError,
            "log_normal_ expects std > 0.0, but found std=0",
        ),
        ("log_normal_", "int64", (), NotImplementedError, "log_normal_cpu"),
        (
            "cauchy_",
            "float32",
            (0, -1),
            RuntimeError,
            "cauchy_ expects sigma > 0.0, but found sigma=-1",
        ),
        (
            "cauchy_",
            "int64",
            (),
            RuntimeError,
            "dtype must be a floating point but you specified long int",
        ),
        (
            "bernoulli_",
            "float32",
            (1.5,),
            RuntimeError,
            r"bernoulli_ expects p to be in \[0, 1\], but got p=1.5",
        ),
        (
            "random_",
            "float32",
            (5, 2),
            RuntimeError,
            "random_ expects 'from' to be less than 'to', but got from=5 >= to=2",
        ),
        ("random_", "float32", (0,), RuntimeError, "but got from=0 >= to=0"),
        ("random_", "uint8", (-5, 3), RuntimeError, "from is out of bounds for unsigned char"),
        ("random_", "int8", (0, 300), RuntimeError, "to - 1 is out of bounds for signed char"),
        ("random_", "bool", (0, 3), RuntimeError, "to - 1 is out of bounds for bool"),
        ("random_", "float16", (0, 70000), RuntimeError, "to - 1 is out of bounds for c10::Half"),
    ]
    for name, dtype, args, err, match in cases:
        for fill, x, a in both(name, dtype, *args):
            with pytest.raises(err, match=match):
                fill(x, *a)
    for m, fill in ((ember, RI.random_), (torch, torch.Tensor.random_)):
        with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
            fill(m.zeros(3), 0, 2**25)


def test_fill_refuses_leaf_requiring_grad_before_drawing():
    x = ember.zeros(3, requires_grad=True)
    state = R.get_rng_state()
    for name in ("uniform_", "normal_", "bernoulli_", "exponential_", "cauchy_", "log_normal_"):
        with pytest.raises(
            RuntimeError,
            match="a leaf Variable that requires grad is being used in an in-place operation",
        ):
            getattr(RI, name)(x)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            getattr(torch.zeros(3, requires_grad=True), name)()
    np.testing.assert_array_equal(R.get_rng_state().data, state.data)  # nothing was drawn
    assert (x.data == 0).all()
    with ember.no_grad():
        RI.normal_(x)
    assert x.requires_grad and (x.data != 0).any()
