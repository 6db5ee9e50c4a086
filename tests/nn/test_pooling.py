"""Pooling vs PyTorch: max/avg/lp/adaptive pooling and max_unpool, functions and modules.

Values, dtypes, indices and gradients on random, tied, non-contiguous and unbatched inputs;
float64 gradcheck and gradgradcheck per family; PyTorch's errors; module reprs.
"""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_module, check_op


def F(m):
    return m.nn.functional


def ties(shape, seed=0, high=3):
    """Small integers as float32: windows full of repeated maxima."""
    return [np.random.default_rng(seed).integers(0, high, shape).astype(np.float32)]


SHAPES = {1: (2, 3, 9), 2: (2, 3, 7, 8), 3: (1, 2, 5, 6, 7)}

# (kernel_size, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    (2, None, 0, 1, False),
    (3, 1, 1, 1, False),
    (3, 2, 1, 1, True),
    (2, 3, 1, 1, True),  # ceil_mode where the last window would start in the padding
    (2, 2, 0, 1, True),  # ceil_mode adding a partial window
    (3, 2, 1, 2, False),
    (3, 1, 0, 2, True),
    (4, 3, 2, 1, True),
]


def max_pool(m, d):
    return getattr(F(m), f"max_pool{d}d")


# -- max pooling -------------------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("k", "s", "p", "dil", "ceil"), MAX_CASES)
def test_max_pool(d, k, s, p, dil, ceil):
    check_op(
        lambda m, x: max_pool(m, d)(x, k, s, p, dil, ceil_mode=ceil, return_indices=True),
        SHAPES[d],
    )


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("k", "s", "p", "dil", "ceil"), MAX_CASES[:5])
def test_max_pool_ties_pick_first_max(d, k, s, p, dil, ceil):
    # Overlapping windows of repeated values: indices and gradients follow PyTorch's first max.
    check_op(
        lambda m, x: max_pool(m, d)(x, k, s, p, dil, ceil_mode=ceil, return_indices=True),
        inputs=ties(SHAPES[d]),
    )


@pytest.mark.parametrize(
    ("d", "k", "s", "p", "dil"),
    [(2, (2, 3), (1, 2), (1, 0), (1, 2)), (3, (1, 2, 3), (2, 1, 2), (0, 1, 1), (2, 1, 1))],
)
def test_max_pool_tuple_args(d, k, s, p, dil):
    check_op(lambda m, x: max_pool(m, d)(x, k, s, p, dil, return_indices=True), SHAPES[d])


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_pool_unbatched_and_noncontiguous(d):
    shape = SHAPES[d][1:]
    check_op(lambda m, x: max_pool(m, d)(x, 2, 1, 1, return_indices=True), shape)
    check_op(lambda m, x: max_pool(m, d)(x.transpose(-1, -2)[..., 1:], 3, 2, 1), shape)


def test_max_pool_no_grad_path_and_dtypes():
    check_op(lambda m, x: F(m).max_pool2d(x, 3, 2, 1), (2, 3, 7, 8), grad=False)
    check_op(
        lambda m, x: F(m).max_pool2d(x, 3, 2, 1, return_indices=True), (2, 3, 7, 8), grad=False
    )
    check_op(lambda m, x: F(m).max_pool2d(x, 3, 1, 1), (2, 3, 5, 5), dtype="int64", low=-9, high=9)
    check_op(lambda m, x: F(m).max_pool1d(x, 2), (2, 3, 6), dtype="float16", rtol=1e-3)
    check_op(lambda m, x: F(m).max_pool2d(x, 2), (0, 3, 4, 4))


def test_max_pool_inf_and_nan():
    x = np.full((1, 1, 4, 4), -np.inf, np.float32)
    x[0, 0, 3, 3] = 1.0
    check_op(lambda m, x: F(m).max_pool2d(x, 3, 1, 1, return_indices=True), inputs=[x])
    y = np.array([[[1.0, np.nan, 0.0, np.nan, 5.0, 5.0]]], np.float32)  # PyTorch: the last NaN
    check_op(lambda m, x: F(m).max_pool1d(x, 4, 1, 2, return_indices=True), inputs=[y])
    check_op(lambda m, x: F(m).adaptive_max_pool1d(x, 2, True), inputs=[y])
    check_op(lambda m, x: F(m).max_pool1d(x, 2, 1), inputs=[y], grad=False)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_with_indices_functions(d):
    check_op(lambda m, x: getattr(F(m), f"max_pool{d}d_with_indices")(x, 2, 1), SHAPES[d])
    check_op(lambda m, x: getattr(F(m), f"adaptive_max_pool{d}d_with_indices")(x, 3), SHAPES[d])


def test_max_pool_double_backward_matches_torch():
    def fn(m, x):
        y = F(m).max_pool2d(x * x, 3, 2, 1)
        (g,) = m.autograd.grad(y, x, m.ones_like(y), create_graph=True)
        return g * g

    check_op(fn, (1, 2, 5, 6))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_pool_gradcheck(d):
    shape = (1, 2, 5, 4, 3)[: d + 2]
    check_gradcheck(lambda m, x: max_pool(m, d)(x, 2, 1, 1, ceil_mode=True), shape)


# -- max unpooling -----------------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("k", "s", "p"), [(2, None, 0), (3, 2, 1), (3, 1, 1)])
def test_max_unpool_roundtrip(d, k, s, p):
    def fn(m, x):
        out, idx = max_pool(m, d)(x, k, s, p, return_indices=True)
        return getattr(F(m), f"max_unpool{d}d")(out, idx, k, s, p, output_size=x.shape)

    check_op(fn, SHAPES[d])
    check_op(fn, inputs=ties(SHAPES[d]))  # repeated indices: written once, gathered twice


@pytest.mark.parametrize("d", [1, 2])
def test_max_unpool_unbatched_default_size_and_output_size(d):
    shape = SHAPES[d][1:]

    def fn(m, x, size):
        out, idx = max_pool(m, d)(x, 2, return_indices=True)
        return getattr(F(m), f"max_unpool{d}d")(out, idx, 2, output_size=size)

    check_op(lambda m, x: fn(m, x, None), shape)
    check_op(lambda m, x: fn(m, x[None], (1, *shape)), shape)  # odd sizes: one more than default


def test_max_unpool_gradcheck():
    # Distinct indices: with repeats the output keeps one value but PyTorch's gradient (the
    # gather) reaches every copy, which finite differences cannot confirm.
    x = ember.randn(1, 2, 4, 5, dtype=ember.float64)
    _, idx = F(ember).max_pool2d(x, 2, return_indices=True)

    def fn(m, v):
        return F(m).max_unpool2d(v, idx, 2, output_size=(4, 5))

    check_gradcheck(fn, (1, 2, 2, 2))


def test_max_unpool_errors():
    x = torch.randn(2, 3, 4, 4)
    out, idx = torch.nn.functional.max_pool2d(x, 2, return_indices=True)
    e_out, e_idx = ember.tensor(out.numpy()), ember.tensor(idx.numpy())
    cases = [
        (lambda m, o, i: F(m).max_unpool2d(o, i + 20, 2), RuntimeError, "invalid max index: "),
        (lambda m, o, i: F(m).max_unpool2d(o, i - 20, 2), RuntimeError, "invalid max index: -"),
        (lambda m, o, i: F(m).max_unpool2d(o, i[:, :, :1], 2), RuntimeError, "Expected shape of"),
        (lambda m, o, i: F(m).max_unpool2d(o, i.float(), 2), RuntimeError, "should be type int64"),
        (lambda m, o, i: F(m).max_unpool2d(o, i, 2, output_size=(7, 5)), ValueError, "between 2"),
        (lambda m, o, i: F(m).max_unpool2d(o, i, 2, output_size=(7,)), ValueError, "2 or 4 elem"),
        (lambda m, o, i: F(m).max_unpool2d(o[0, 0], i[0, 0], 2), RuntimeError, "3d or 4d Tensor"),
        (lambda m, o, i: F(m).max_unpool2d(o.long(), i, 2), NotImplementedError, "'Long'"),
    ]
    for fn, err, msg in cases:
        with pytest.raises(err, match=msg):
            fn(torch, out, idx)
        with pytest.raises(err, match=msg):
            fn(ember, e_out, e_idx)


# -- average pooling ---------------------------------------------------------------------------
AVG_CASES = [  # (kernel_size, stride, padding, ceil_mode, count_include_pad)
    (2, None, 0, False, True),
    (3, 2, 1, False, True),
    (3, 2, 1, True, True),
    (3, 2, 1, True, False),
    (2, 3, 1, True, True),
    (2, 3, 1, True, False),
    (4, 1, 2, False, False),
]


def avg_pool(m, d):
    return getattr(F(m), f"avg_pool{d}d")


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("k", "s", "p", "ceil", "incl"), AVG_CASES)
def test_avg_pool(d, k, s, p, ceil, incl):
    check_op(lambda m, x: avg_pool(m, d)(x, k, s, p, ceil, incl), SHAPES[d])


@pytest.mark.parametrize("d", [2, 3])
@pytest.mark.parametrize("divisor", [1, 5, -3])
def test_avg_pool_divisor_override(d, divisor):
    check_op(lambda m, x: avg_pool(m, d)(x, 3, 2, 1, True, False, divisor), SHAPES[d])


@pytest.mark.parametrize("d", [1, 2, 3])
def test_avg_pool_unbatched_noncontiguous_tuple_args(d):
    shape = SHAPES[d][1:]
    check_op(lambda m, x: avg_pool(m, d)(x.transpose(-1, -2)[..., 1:], 2, 1, 1), shape)
    k, s, p = (3, 2, 2)[:d], (1, 2, 3)[:d], (1, 0, 1)[:d]
    check_op(lambda m, x: avg_pool(m, d)(x, k, s, p), SHAPES[d])


@pytest.mark.parametrize("dtype", ["int64", "float16", "bfloat16", "float64"])
def test_avg_pool_dtypes(dtype):
    # PyTorch rounds half-precision gradients in half; values are summed in float32 by both.
    tol = {"rtol": 2e-2, "atol": 2e-2} if dtype in ("float16", "bfloat16") else {}
    fn = lambda m, x: F(m).avg_pool2d(x, 3, 2, 1, True)  # noqa: E731
    check_op(fn, (2, 3, 7, 7), dtype=dtype, low=-9, high=9, **tol)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_adaptive_dtypes(dtype):
    tol = {"rtol": 2e-2, "atol": 2e-2} if dtype != "float64" else {}
    check_op(lambda m, x: F(m).adaptive_avg_pool2d(x, (3, 5)), (2, 3, 7, 8), dtype=dtype, **tol)
    check_op(lambda m, x: F(m).adaptive_max_pool2d(x, (3, 5)), (2, 3, 7, 8), dtype=dtype, **tol)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_avg_pool_gradcheck(d):
    shape = (1, 2, 5, 4, 3)[: d + 2]
    check_gradcheck(lambda m, x: avg_pool(m, d)(x, 2, 1, 1, True, False), shape)


# -- adaptive pooling --------------------------------------------------------------------------
ADAPTIVE = {
    1: [3, 4, 1, 12, (2,)],
    2: [(3, 5), 1, (None, 3), (8, 2), 4],
    3: [(2, 3, 4), 1, (None, 5, 2)],
}
ADAPTIVE_CASES = [(d, size) for d, sizes in ADAPTIVE.items() for size in sizes]


@pytest.mark.parametrize(("d", "size"), ADAPTIVE_CASES)
def test_adaptive_avg_pool(d, size):
    check_op(lambda m, x: getattr(F(m), f"adaptive_avg_pool{d}d")(x, size), SHAPES[d])


@pytest.mark.parametrize(("d", "size"), ADAPTIVE_CASES)
def test_adaptive_max_pool(d, size):
    fn = lambda m, x: getattr(F(m), f"adaptive_max_pool{d}d")(x, size, True)  # noqa: E731
    check_op(fn, SHAPES[d])
    check_op(fn, inputs=ties(SHAPES[d]))


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_adaptive_unbatched_noncontiguous(kind, d):
    fn = lambda m, x: getattr(F(m), f"adaptive_{kind}_pool{d}d")(x.transpose(-1, -2), 3)  # noqa: E731
    check_op(fn, SHAPES[d][1:])
    check_op(fn, SHAPES[d][1:], grad=False)


def test_adaptive_empty_output_and_batch():
    # PyTorch's backward refuses an empty output, so compare forward only.
    check_op(lambda m, x: F(m).adaptive_avg_pool2d(x, 0), (2, 3, 4, 4), grad=False)
    check_op(lambda m, x: F(m).adaptive_max_pool2d(x, 0), (2, 3, 4, 4), grad=False)
    check_op(lambda m, x: F(m).adaptive_max_pool2d(x, 2, True), (0, 3, 4, 5))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_adaptive_gradcheck(d):
    shape = (1, 2, 5, 4, 3)[: d + 2]
    check_gradcheck(lambda m, x: getattr(F(m), f"adaptive_avg_pool{d}d")(x, 2), shape)
    check_gradcheck(lambda m, x: getattr(F(m), f"adaptive_max_pool{d}d")(x, 2), shape)


# -- power-average pooling ---------------------------------------------------------------------
@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(
    ("p", "k", "s", "ceil", "low"),
    [
        (2, 2, None, False, -2),
        (3, 3, 2, True, -2),
        (1.5, 2, 1, False, 0.1),
        (float("inf"), 2, 1, True, -2),
    ],
)
def test_lp_pool(d, p, k, s, ceil, low):
    check_op(lambda m, x: getattr(F(m), f"lp_pool{d}d")(x, p, k, s, ceil), SHAPES[d], low=low)


def test_lp_pool_gradcheck():
    check_gradcheck(lambda m, x: F(m).lp_pool2d(x, 2, 2, 1), (1, 2, 4, 4), low=0.5)
    check_gradcheck(lambda m, x: F(m).lp_pool1d(x, 3, 2, 1, True), (1, 2, 5), low=0.5)


# -- errors ------------------------------------------------------------------------------------
ERRORS = [
    (lambda m, x: F(m).max_pool2d(x, 3, 1, 2), RuntimeError, "at most half of effective kernel"),
    (lambda m, x: F(m).avg_pool2d(x, 3, 1, 2), RuntimeError, "at most half of effective kernel"),
    (lambda m, x: F(m).max_pool2d(x, 3, 1, 2, dilation=2), RuntimeError, "half of kernel size"),
    (
        lambda m, x: F(m).max_pool2d(x[0, :, :2, :2], 3),
        RuntimeError,
        r"\(3x2x2\)\. Calculated output size: \(3x0x0\)",
    ),
    (
        lambda m, x: F(m).avg_pool2d(x[0, :, :2, :2], 3),
        RuntimeError,
        r"\(3x2x2\)\. Calculated output size: \(3x0x0\)",
    ),
    (lambda m, x: F(m).max_pool2d(x[0, 0], 2), RuntimeError, "3D or 4D"),
    (lambda m, x: F(m).avg_pool2d(x[None], 2), RuntimeError, "3D or 4D"),
    (lambda m, x: F(m).max_pool3d(x[0], 2), RuntimeError, "4D or 5D"),
    (lambda m, x: F(m).max_pool2d(x, 2, 1, -1), RuntimeError, "pad must be non-negative"),
    (
        lambda m, x: F(m).max_pool2d(x, 2, 1, 0, 0),
        RuntimeError,
        "dilation should be greater than zero",
    ),
    (lambda m, x: F(m).max_pool2d(x, (2, 2, 2)), RuntimeError, "tuple of two ints"),
    (lambda m, x: F(m).avg_pool2d(x, (2, 2, 2)), RuntimeError, "tuple of two ints"),
    (lambda m, x: F(m).max_pool2d(x, 2.0), TypeError, "must be tuple of ints"),
    (lambda m, x: F(m).max_pool2d(x > 0, 2), NotImplementedError, "'Bool'"),
    (
        lambda m, x: F(m).avg_pool2d(x, 2, divisor_override=0),
        RuntimeError,
        "divisor must be not zero",
    ),
    (lambda m, x: F(m).adaptive_avg_pool2d(x, -1), RuntimeError, "greater than or equal to 0"),
    (lambda m, x: F(m).adaptive_avg_pool2d(x, (1, 2, 3)), RuntimeError, "output_size must be 2"),
    (lambda m, x: F(m).adaptive_avg_pool2d(x[0, 0], 2), RuntimeError, "Expected 3D or 4D tensor"),
    (lambda m, x: F(m).adaptive_max_pool3d(x[0, 0], 2), RuntimeError, "Expected 4D or 5D tensor"),
    (
        lambda m, x: F(m).adaptive_avg_pool2d(x[:, :, :0], 2),
        RuntimeError,
        "dimension 2 being empty",
    ),
    (
        lambda m, x: F(m).adaptive_max_pool2d(x[:, :, :0], 2),
        RuntimeError,
        "dimension 2 being empty",
    ),
    (lambda m, x: F(m).adaptive_max_pool2d(x.long(), 2), NotImplementedError, "'Long'"),
]


@pytest.mark.parametrize(("fn", "err", "msg"), ERRORS)
def test_errors(fn, err, msg):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32)
    with pytest.raises(err, match=msg):
        fn(torch, torch.tensor(x))
    with pytest.raises(err, match=msg):
        fn(ember, ember.tensor(x))


def test_errors_with_ember_wording():
    x = ember.randn(2, 3, 5)
    with pytest.raises(RuntimeError, match="max_pool1d: kernel_size must be greater than zero"):
        F(ember).max_pool1d(x, 0)
    with pytest.raises(RuntimeError, match="max_pool1d: stride must be greater than zero"):
        F(ember).max_pool1d(x, 2, 0)
    with pytest.raises(RuntimeError, match=r"max_pool1d: Expected 2D or 3D .* but got:\[5\]"):
        F(ember).max_pool1d(x[0, 0], 2)


# -- modules -----------------------------------------------------------------------------------
MODULES = [
    (lambda m: m.nn.MaxPool1d(3, 2, 1, ceil_mode=True), SHAPES[1]),
    (lambda m: m.nn.MaxPool2d((2, 3), 1, (1, 0), dilation=(2, 1)), SHAPES[2]),
    (lambda m: m.nn.MaxPool3d(2), SHAPES[3]),
    (lambda m: m.nn.AvgPool1d(3, 2, 1, True, False), SHAPES[1]),
    (lambda m: m.nn.AvgPool2d(3, 2, 1, ceil_mode=True), SHAPES[2]),
    (lambda m: m.nn.AvgPool2d(2, divisor_override=3), SHAPES[2]),
    (lambda m: m.nn.AvgPool3d((1, 2, 3), count_include_pad=False, padding=(0, 1, 1)), SHAPES[3]),
    (lambda m: m.nn.LPPool1d(2, 3, 2), SHAPES[1]),
    (lambda m: m.nn.LPPool2d(3, (2, 3), ceil_mode=True), SHAPES[2]),
    (lambda m: m.nn.LPPool3d(2, 2), SHAPES[3]),
    (lambda m: m.nn.AdaptiveAvgPool1d(4), SHAPES[1]),
    (lambda m: m.nn.AdaptiveAvgPool2d((None, 3)), SHAPES[2]),
    (lambda m: m.nn.AdaptiveAvgPool3d((2, 3, 4)), SHAPES[3]),
    (lambda m: m.nn.AdaptiveMaxPool1d(4), SHAPES[1]),
    (lambda m: m.nn.AdaptiveMaxPool2d((3, None)), SHAPES[2]),
    (lambda m: m.nn.AdaptiveMaxPool3d(2), SHAPES[3]),
]


@pytest.mark.parametrize(("make", "shape"), MODULES)
def test_modules(make, shape):
    e_layer, t_layer = check_module(make, shape)
    assert repr(e_layer) == repr(t_layer)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_pool_module_indices_and_unpool_module(d):
    def call(layer, x):
        out, idx = layer.pool(x)
        return layer.unpool(out, idx, output_size=x.shape)

    def make(m):
        layer = m.nn.Module()
        layer.pool = getattr(m.nn, f"MaxPool{d}d")(2, 1, return_indices=True)
        layer.unpool = getattr(m.nn, f"MaxUnpool{d}d")(2, 1)
        return layer

    e_layer, t_layer = check_module(make, SHAPES[d], call=call)
    assert repr(e_layer) == repr(t_layer)
    ones = ember.ones(*SHAPES[d]), torch.ones(*SHAPES[d])
    assert_same(e_layer.pool(ones[0])[1], t_layer.pool(ones[1])[1])


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.MaxPool2d(3),
        lambda m: m.nn.MaxUnpool1d(2, 1, 1),
        lambda m: m.nn.MaxUnpool3d((1, 2, 3)),
        lambda m: m.nn.AvgPool1d(2),
        lambda m: m.nn.AvgPool3d(2, 1, 1, divisor_override=2),
        lambda m: m.nn.LPPool1d(1.5, 2),
        lambda m: m.nn.AdaptiveMaxPool2d(3, return_indices=True),
    ],
)
def test_module_repr(make):
    assert repr(make(ember)) == repr(make(torch))
