"""F.conv*/F.conv_transpose* and the Conv/ConvTranspose layers against PyTorch."""

# ruff: noqa: E501 (tables of PyTorch error messages and layer configurations)

import math

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_gradcheck, check_module, check_op

# torch warns that 'same' with an even kernel copies the input; Ember has nothing to warn about.
SAME_WARNING = "ignore:Using padding='same'"


# -- F.conv1d / conv2d / conv3d --------------------------------------------------------------
CONV2D = [
    # (x shape, weight shape, kwargs)
    ((2, 4, 7, 7), (6, 4, 3, 3), {}),
    ((2, 4, 7, 7), (6, 4, 3, 3), {"padding": 1}),
    ((2, 4, 9, 8), (6, 4, 3, 2), {"stride": 2, "padding": (1, 0)}),
    (
        (2, 4, 9, 8),
        (6, 2, 3, 3),
        {"stride": (2, 1), "padding": (1, 2), "dilation": (2, 1), "groups": 2},
    ),
    ((1, 3, 10, 9), (5, 3, 1, 1), {"stride": 3}),
    ((2, 4, 6, 6), (4, 1, 3, 3), {"padding": 1, "groups": 4}),  # depthwise
    ((2, 4, 6, 6), (8, 1, 3, 3), {"padding": 2, "dilation": 2, "groups": 4}),  # depthwise x2
    ((3, 2, 5, 5), (3, 2, 5, 5), {}),  # kernel covers the image
    ((2, 3, 8, 7), (4, 3, 3, 3), {"stride": 3, "padding": 2, "dilation": 2}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(x_shape, w_shape, kwargs, bias):
    if bias:
        fn = lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, **kwargs)  # noqa: E731
        check_op(fn, x_shape, w_shape, (w_shape[0],))
    else:
        check_op(lambda m, x, w: m.nn.functional.conv2d(x, w, **kwargs), x_shape, w_shape)


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((2, 4, 9), (6, 4, 3), {}),
        ((2, 4, 9), (6, 2, 3), {"stride": 2, "padding": 2, "dilation": 2, "groups": 2}),
        ((4, 9), (6, 4, 3), {"padding": 1}),  # unbatched
        ((3, 3, 12), (3, 1, 4), {"stride": 3, "groups": 3}),
    ],
)
def test_conv1d(x_shape, w_shape, kwargs):
    fn = lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, **kwargs)  # noqa: E731
    check_op(fn, x_shape, w_shape, (w_shape[0],))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((2, 2, 4, 5, 3), (3, 2, 3, 2, 3), {"padding": 1, "stride": (1, 2, 1)}),
        ((1, 4, 5, 5, 5), (4, 2, 2, 3, 2), {"dilation": (2, 1, 1), "groups": 2}),
        ((2, 5, 4, 4), (3, 2, 3, 3, 3), {"padding": 1}),  # unbatched
    ],
)
def test_conv3d(x_shape, w_shape, kwargs):
    fn = lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, **kwargs)  # noqa: E731
    check_op(fn, x_shape, w_shape, (w_shape[0],))


@pytest.mark.filterwarnings(SAME_WARNING)
@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs"),
    [
        ((2, 3, 7, 6), (4, 3, 3, 3), {}),
        ((2, 3, 7, 6), (4, 3, 2, 4), {}),  # even kernels: one more pad after
        ((2, 3, 7, 6), (4, 3, 2, 3), {"dilation": (1, 2)}),
        ((2, 3, 7, 6), (4, 3, 2, 2), {"dilation": 3}),
    ],
)
def test_conv2d_same_and_valid(x_shape, w_shape, kwargs):
    for padding in ("same", "valid"):
        fn = lambda m, x, w, p=padding: m.nn.functional.conv2d(x, w, padding=p, **kwargs)  # noqa: E731
        check_op(fn, x_shape, w_shape)


@pytest.mark.filterwarnings(SAME_WARNING)
def test_conv1d_conv3d_same():
    check_op(lambda m, x, w: m.nn.functional.conv1d(x, w, padding="same"), (2, 3, 9), (2, 3, 4))
    check_op(
        lambda m, x, w: m.nn.functional.conv3d(x, w, padding="same", dilation=(1, 2, 1)),
        (1, 2, 4, 5, 4),
        (2, 2, 2, 3, 2),
    )


def test_conv2d_unbatched():
    check_op(
        lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1), (3, 6, 5), (4, 3, 3, 3), (4,)
    )


def test_conv_noncontiguous():
    # transposed and sliced inputs and weights go through the same strided im2col
    f = lambda m, x, w: m.nn.functional.conv2d(x.transpose(2, 3), w, padding=1)  # noqa: E731
    check_op(f, (2, 3, 6, 5), (4, 3, 3, 3))
    check_op(
        lambda m, x, w: m.nn.functional.conv2d(x[:, 1:, ::2], w[:, :, 1:]),
        (2, 4, 10, 6),
        (5, 3, 3, 2),
    )
    check_op(
        lambda m, x, w: m.nn.functional.conv2d(x.permute(1, 0, 2, 3), w.transpose(2, 3), stride=2),
        (2, 3, 7, 7),
        (4, 2, 3, 3),
    )
    check_op(
        lambda m, x, w: m.nn.functional.conv_transpose2d(x.transpose(2, 3), w[:, 1:], stride=2),
        (2, 3, 4, 5),
        (3, 3, 3, 3),
    )


def test_conv_empty_batch():
    check_op(
        lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1),
        (0, 3, 5, 5),
        (4, 3, 3, 3),
        (4,),
    )
    check_op(
        lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, stride=2),
        (0, 3, 3, 3),
        (3, 4, 3, 3),
        (4,),
    )


def test_conv_large_batch_is_chunked():
    # enough samples and columns that im2col runs in several chunks
    check_op(
        lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1),
        (9, 16, 24, 24),
        (8, 16, 3, 3),
        rtol=1e-3,
        atol=1e-4,
    )
    check_op(
        lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, stride=2),
        (9, 16, 20, 20),
        (16, 8, 3, 3),
        rtol=1e-3,
        atol=1e-4,
    )


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_conv_dtypes(dtype):
    tol = 1e-10 if dtype == "float64" else 3e-2
    options = {"dtype": dtype, "rtol": tol, "atol": tol, "grad": dtype == "float64"}
    conv = lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1, groups=2)  # noqa: E731
    check_op(conv, (2, 2, 5, 5), (4, 1, 3, 3), (4,), **options)
    f = lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, stride=2, groups=2)  # noqa: E731
    check_op(f, (2, 4, 5, 5), (4, 1, 3, 3), (2,), **options)
    check_op(
        lambda m, x, w: m.nn.functional.conv_transpose2d(x, w),
        (2, 4, 5, 5),
        (4, 1, 3, 3),
        **options,
    )


def test_conv_integers():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) % 7 - 3
    w = np.arange(4 * 3 * 3 * 3).reshape(4, 3, 3, 3) % 5 - 2
    check_op(lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1), inputs=[x, w], dtype="int64")


# -- F.conv_transpose* -----------------------------------------------------------------------
CONV_TRANSPOSE2D = [
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 5, 6), (4, 3, 3, 2), {"stride": (2, 3), "padding": (1, 0), "output_padding": (0, 2)}),
    ((2, 4, 5, 6), (4, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ((2, 4, 4, 4), (4, 2, 3, 3), {"padding": 2, "dilation": 2, "groups": 4}),
    (
        (2, 4, 4, 4),
        (4, 2, 3, 3),
        {"stride": 2, "dilation": 3, "output_padding": 2},
    ),  # op < dilation
    ((1, 2, 3, 3), (2, 5, 1, 1), {"stride": 3}),
]


@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), CONV_TRANSPOSE2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv_transpose2d(x_shape, w_shape, kwargs, bias):
    groups = kwargs.get("groups", 1)
    if bias:
        fn = lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, **kwargs)  # noqa: E731
        check_op(fn, x_shape, w_shape, (w_shape[1] * groups,))
    else:
        fn = lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, **kwargs)  # noqa: E731
        check_op(fn, x_shape, w_shape)


def test_conv_transpose1d_3d_unbatched():
    def f1(m, x, w, b):
        return m.nn.functional.conv_transpose1d(
            x, w, b, stride=3, padding=1, output_padding=2, groups=2
        )

    check_op(f1, (2, 4, 6), (4, 3, 4), (6,))
    check_op(f1, (4, 6), (4, 3, 4), (6,))  # unbatched

    def f3(m, x, w, b):
        return m.nn.functional.conv_transpose3d(
            x, w, b, stride=(2, 1, 2), padding=1, dilation=(1, 2, 1)
        )

    check_op(f3, (2, 3, 3, 4, 3), (3, 2, 3, 2, 3), (2,))
    check_op(f3, (3, 3, 4, 3), (3, 2, 3, 2, 3), (2,))  # unbatched


# -- gradcheck (float64), including double backward -----------------------------------------
def test_conv2d_gradcheck():
    check_gradcheck(
        lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2),
        (2, 4, 5, 5),
        (4, 2, 3, 3),
        (4,),
    )
    check_gradcheck(
        lambda m, x, w: m.nn.functional.conv2d(x, w, padding=(0, 1), dilation=(2, 1)),
        (1, 2, 5, 4),
        (2, 2, 2, 3),
    )


def test_conv_transpose2d_gradcheck():
    check_gradcheck(
        lambda m, x, w, b: m.nn.functional.conv_transpose2d(
            x, w, b, stride=2, padding=1, output_padding=1
        ),
        (1, 2, 3, 3),
        (2, 2, 3, 3),
        (2,),
    )
    check_gradcheck(
        lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, groups=2, dilation=2),
        (2, 2, 3, 2),
        (2, 1, 2, 2),
    )


def test_conv1d_conv3d_gradcheck():
    check_gradcheck(
        lambda m, x, w: m.nn.functional.conv1d(x, w, stride=2, padding=1), (2, 2, 6), (3, 2, 3)
    )
    check_gradcheck(
        lambda m, x, w: m.nn.functional.conv3d(x, w, padding=1),
        (1, 1, 3, 3, 2),
        (2, 1, 2, 2, 2),
        second_order=False,
    )


def test_conv_gradient_penalty_matches_torch():
    # d/dw of ||d(sum(conv(x, w) * v))/dx||^2: double backward through ConvTranspose and ConvWeight
    rng = np.random.default_rng(3)
    arrays = [
        rng.standard_normal(s).astype(np.float32)
        for s in [(2, 3, 6, 6), (4, 3, 3, 3), (2, 4, 3, 3)]
    ]
    grads = []
    for m in (ember, torch):
        x, w = (m.tensor(a, requires_grad=True) for a in arrays[:2])
        v = m.tensor(arrays[2])
        y = m.nn.functional.conv2d(x, w, stride=2, padding=1)
        (gx,) = m.autograd.grad((y * v).sum(), [x], create_graph=True)
        grads.append(m.autograd.grad((gx * gx).sum(), [w, x], allow_unused=True))
    for e, t in zip(*grads):
        if t is None:
            assert e is None or not np.any(e.data)
        else:
            assert_same(e, t, rtol=1e-4, atol=1e-4)


# -- errors ----------------------------------------------------------------------------------
F = ember.nn.functional


def _x(*shape):
    return ember.zeros(*shape)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: F.conv2d(_x(2, 4, 10, 10), _x(8, 3, 3, 3)),
            RuntimeError,
            r"Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 4, 10, 10\] to have 3 channels, but got 4 channels instead",
        ),
        (
            lambda: F.conv2d(_x(2, 3), _x(8, 3, 3, 3)),
            RuntimeError,
            r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]",
        ),
        (
            lambda: F.conv1d(_x(2, 4), _x(8, 4, 3)),
            RuntimeError,
            r"expected input\[1, 2, 4\] to have 4 channels, but got 2",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3)),
            RuntimeError,
            r"Expected 4-dimensional weight for 4-dimensional input \[2, 4, 5, 5\], but got 3-dimensional weight of size \[8, 4, 3\]",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 10, 10), _x(8, 4, 11, 11)),
            RuntimeError,
            r"Calculated padded input size per channel: \(10 x 10\). Kernel size: \(11 x 11\). Kernel size can't be greater than actual input size",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), stride=0),
            RuntimeError,
            "non-positive stride is not supported",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), padding=-1),
            RuntimeError,
            "negative padding is not supported",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), dilation=0),
            RuntimeError,
            "non-positive dilation is not supported",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), groups=0),
            RuntimeError,
            "non-positive groups is not supported",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 2, 3, 3), groups=3),
            RuntimeError,
            r"Given groups=3, expected weight to be divisible by 3 at dimension 0, but got weight of size \[\[8, 2, 3, 3\]\] instead",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), bias=_x(7)),
            RuntimeError,
            r"Given weight of size \[8, 4, 3, 3\], expected bias to be 1-dimensional with 8 elements, but got bias of size \[7\] instead",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), padding="same", stride=2),
            RuntimeError,
            "padding='same' is not supported for strided convolutions",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), padding="foo"),
            RuntimeError,
            "Invalid padding string: 'foo'",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), stride=(1, 1, 1)),
            RuntimeError,
            r"expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but got stride=\[1, 1, 1\]",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3).double()),
            RuntimeError,
            r"Input type \(ember.FloatTensor\) and weight type \(ember.DoubleTensor\) should be the same",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5), _x(8, 4, 3, 3), bias=_x(8).double()),
            RuntimeError,
            r"Input type \(float\) and bias type \(double\) should be the same",
        ),
        (
            lambda: F.conv2d(_x(2, 4, 5, 5).bool(), _x(8, 4, 3, 3).bool()),
            NotImplementedError,
            "not implemented for 'Bool'",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 10, 10), _x(3, 8, 3, 3)),
            RuntimeError,
            r"Given transposed=1, weight of size \[3, 8, 3, 3\], expected input\[2, 4, 10, 10\] to have 3 channels, but got 4 channels instead",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 8, 3, 3), output_padding=2, stride=2),
            RuntimeError,
            "output padding must be smaller than either stride or dilation, but got output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 8, 3, 3), output_padding=-1),
            RuntimeError,
            "negative output_padding is not supported",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 8, 3, 3), groups=3),
            RuntimeError,
            "expected weight to be divisible by 3 at dimension 0",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 8, 3, 3), padding="same"),
            TypeError,
            "conv_transpose2d\\(\\): argument 'padding' must be tuple of ints, not str",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 3), _x(4, 8, 3, 3)),
            RuntimeError,
            r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv_transpose2d",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 8, 3, 3), bias=_x(3)),
            RuntimeError,
            r"Given transposed=1, weight of size \[4, 8, 3, 3\], expected bias to be 1-dimensional with 8 elements, but got bias of size \[3\] instead",
        ),
        (
            lambda: F.conv_transpose2d(_x(2, 4, 2, 2), _x(4, 8, 3, 3), padding=3),
            RuntimeError,
            r"Given input size per channel: \(2 x 2\). Calculated output size per channel: \(-2 x -2\). Output size is too small",
        ),
    ],
)
def test_conv_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_conv_error_messages_are_torch_messages():
    # the messages above were read off PyTorch; spot-check that torch still says the same
    with pytest.raises(RuntimeError, match=r"expected input\[2, 4, 10, 10\] to have 3 channels"):
        torch.nn.functional.conv2d(torch.zeros(2, 4, 10, 10), torch.zeros(8, 3, 3, 3))
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        torch.nn.functional.conv2d(torch.zeros(2, 4, 5, 5), torch.zeros(8, 4, 3, 3), stride=0)


# -- layers ----------------------------------------------------------------------------------
@pytest.mark.filterwarnings(SAME_WARNING)
@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda m: m.nn.Conv1d(3, 4, 3), (2, 3, 8)),
        (lambda m: m.nn.Conv1d(4, 6, 4, stride=2, padding=1, groups=2, bias=False), (2, 4, 9)),
        (lambda m: m.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), (2, 3, 7, 7)),
        (lambda m: m.nn.Conv2d(4, 4, 3, padding=1, groups=4), (2, 4, 5, 5)),  # depthwise
        (lambda m: m.nn.Conv2d(3, 4, (2, 3), padding="same", dilation=(2, 1)), (2, 3, 6, 5)),
        (lambda m: m.nn.Conv2d(3, 4, 3, padding="valid"), (3, 6, 5)),  # unbatched
        (lambda m: m.nn.Conv3d(2, 3, 2, stride=(1, 2, 1), padding=1), (2, 2, 3, 4, 3)),
        (lambda m: m.nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=1), (2, 3, 5)),
        (lambda m: m.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 4, 5)),
        (lambda m: m.nn.ConvTranspose2d(3, 2, 2, dilation=2, bias=False), (3, 4, 4)),
        (
            lambda m: m.nn.ConvTranspose3d(2, 3, 2, stride=2, output_padding=(1, 0, 1)),
            (1, 2, 2, 3, 2),
        ),
    ],
)
def test_conv_layers(make, shape):
    check_module(make, shape)


@pytest.mark.filterwarnings(SAME_WARNING)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same", "valid"])
def test_conv2d_padding_modes(mode, padding):
    kernel = (3, 2) if padding == "same" else 3
    check_module(
        lambda m: m.nn.Conv2d(3, 4, kernel, padding=padding, padding_mode=mode), (2, 3, 6, 5)
    )


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv1d_conv3d_padding_modes(mode):
    check_module(lambda m: m.nn.Conv1d(3, 4, 3, padding=2, padding_mode=mode), (2, 3, 6))
    check_module(lambda m: m.nn.Conv3d(2, 3, 3, padding=1, padding_mode=mode), (1, 2, 3, 4, 3))


def test_conv_transpose_output_size():
    make = lambda m: m.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)  # noqa: E731
    for size in [(9, 10), (1, 4, 10, 9), [10, 10]]:
        call = lambda layer, x, size=size: layer(x, output_size=size)  # noqa: E731
        check_module(make, (1, 3, 5, 5), call=call)
    layer = make(ember)
    with pytest.raises(
        ValueError,
        match=r"requested an output size of \[12, 12\], but valid sizes range from \[9, 9\] to \[10, 10\]",
    ):
        layer(ember.zeros(1, 3, 5, 5), output_size=(12, 12))
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        layer(ember.zeros(1, 3, 5, 5), output_size=(10,))


REPRS = [
    lambda m: m.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
    lambda m: m.nn.Conv2d(3, 8, 3),
    lambda m: m.nn.Conv2d(3, 8, (3, 5), padding="same", dilation=2, padding_mode="reflect"),
    lambda m: m.nn.Conv1d(4, 8, 3, groups=2, padding="valid"),
    lambda m: m.nn.Conv3d(2, 4, (1, 2, 3), stride=(1, 2, 1), padding=(0, 1, 0)),
    lambda m: m.nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1, bias=False),
    lambda m: m.nn.ConvTranspose1d(3, 8, 3, dilation=2, groups=1),
    lambda m: m.nn.ConvTranspose3d(4, 8, 2, groups=4, padding=1),
]


@pytest.mark.parametrize("make", REPRS)
def test_conv_repr(make):
    assert repr(make(ember)) == repr(make(torch))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.Conv2d(16, 32, 3),
        lambda m: m.nn.Conv1d(8, 64, 5, groups=4),
        lambda m: m.nn.ConvTranspose2d(16, 32, 3, groups=2),
    ],
)
def test_conv_init_statistics(make):
    # U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, fan_in from weight dims 1...
    ember.manual_seed(0)
    layer = make(ember)
    w, b = layer.weight.data, layer.bias.data
    fan_in = math.prod(w.shape[1:])
    bound = 1 / math.sqrt(fan_in)
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(w.mean()) < 0.05 * bound
    assert np.abs(w).max() > 0.95 * bound  # the whole range is used
    assert tuple(w.shape) == tuple(make(torch).weight.shape)


def test_conv_reset_parameters_without_bias_and_dtype():
    layer = ember.nn.Conv2d(2, 3, 3, bias=False, dtype=ember.float64)
    assert layer.bias is None and layer.weight.dtype is ember.float64
    assert list(layer.state_dict()) == ["weight"]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda m: m.nn.Conv2d(3, 8, 3, groups=2),
            ValueError,
            "in_channels must be divisible by groups",
        ),
        (
            lambda m: m.nn.Conv2d(4, 9, 3, groups=2),
            ValueError,
            "out_channels must be divisible by groups",
        ),
        (lambda m: m.nn.Conv2d(4, 8, 3, groups=0), ValueError, "groups must be a positive integer"),
        (
            lambda m: m.nn.Conv2d(4, 8, 3, stride=2, padding="same"),
            ValueError,
            "padding='same' is not supported for strided convolutions",
        ),
        (
            lambda m: m.nn.Conv2d(4, 8, 3, padding="foo"),
            ValueError,
            "Invalid padding string 'foo', should be one of",
        ),
        (
            lambda m: m.nn.Conv2d(4, 8, 3, padding_mode="foo"),
            ValueError,
            "padding_mode must be one of",
        ),
        (
            lambda m: m.nn.ConvTranspose2d(4, 8, 3, padding_mode="reflect"),
            ValueError,
            'Only "zeros" padding mode is supported for ConvTranspose2d',
        ),
    ],
)
def test_conv_layer_argument_errors(make, error, match):
    for m in (ember, torch):
        with pytest.raises(error, match=match):
            make(m)


def test_conv_layer_forward_errors():
    for m in (ember, torch):
        layer = m.nn.Conv2d(3, 8, 3)
        with pytest.raises(
            RuntimeError,
            match=r"Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 4, 10, 10\] to have 3 channels, but got 4 channels instead",
        ):
            layer(m.zeros(2, 4, 10, 10))
        with pytest.raises(
            RuntimeError,
            match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[2, 3\]",
        ):
            layer(m.zeros(2, 3))
