"""Resampling against PyTorch: shuffles, interpolate (every mode), grid_sample, affine_grid."""

import re

import numpy as np
import pytest
import torch

import ember
from tests.helpers import check_gradcheck, check_module, check_op, make_inputs


def both_raise(fn, exc, message):
    """fn(m) raises exc with this message in torch and in Ember alike."""
    for m in (torch, ember):
        with pytest.raises(exc, match=re.escape(message)):
            fn(m)


def interp(m, x, **kwargs):
    return m.nn.functional.interpolate(x, **kwargs)


# -- pixel_shuffle, pixel_unshuffle, channel_shuffle ----------------------------------------
@pytest.mark.parametrize(
    ("shape", "r"), [((2, 8, 3, 2), 2), ((18, 2, 3), 3), ((2, 1, 4, 2, 3), 2), ((1, 3, 2, 2), 1)]
)
def test_pixel_shuffle(shape, r):
    check_op(lambda m, x: m.nn.functional.pixel_shuffle(x, r), shape)


@pytest.mark.parametrize(
    ("shape", "r"), [((2, 2, 4, 6), 2), ((1, 6, 3), 3), ((2, 1, 3, 4, 2), 2), ((1, 3, 2, 2), 1)]
)
def test_pixel_unshuffle(shape, r):
    check_op(lambda m, x: m.nn.functional.pixel_unshuffle(x, r), shape)


def test_shuffles_noncontiguous():
    check_op(lambda m, x: m.nn.functional.pixel_shuffle(x.transpose(2, 3), 2), (2, 4, 5, 3))
    check_op(lambda m, x: m.nn.functional.pixel_unshuffle(x[:, :, 1:], 2), (1, 2, 5, 4))
    check_op(lambda m, x: m.nn.functional.channel_shuffle(x.transpose(1, 2), 3), (2, 5, 6, 3))


@pytest.mark.parametrize(
    ("shape", "groups"), [((2, 6, 3), 2), ((2, 6, 3), 3), ((1, 8, 2, 3), 4), ((2, 4, 1, 2, 2), 2)]
)
def test_channel_shuffle(shape, groups):
    check_op(lambda m, x: m.nn.functional.channel_shuffle(x, groups), shape)


def test_shuffles_return_new_tensors():
    x = ember.randn(1, 4, 2, 2)
    for out in (
        ember.nn.functional.pixel_shuffle(x, 1),
        ember.nn.functional.pixel_unshuffle(x, 1),
        ember.nn.functional.channel_shuffle(x, 1),
        ember.nn.functional.channel_shuffle(x, 4),
    ):
        out.add_(1)
    np.testing.assert_array_equal(x.data, ember.nn.functional.pixel_shuffle(x, 1).data)
    assert not np.shares_memory(x.data, ember.nn.functional.channel_shuffle(x, 4).data)


def test_pixel_shuffle_gradcheck():
    check_gradcheck(lambda m, x: m.nn.functional.pixel_shuffle(x, 2), (1, 4, 2, 3))
    check_gradcheck(lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), (1, 1, 2, 4))
    check_gradcheck(lambda m, x: m.nn.functional.channel_shuffle(x, 2), (1, 4, 3))


@pytest.mark.parametrize(
    ("fn", "exc", "message"),
    [
        (
            lambda m: m.nn.functional.pixel_shuffle(m.zeros(1, 5, 3, 3), 2),
            RuntimeError,
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            "of upscale_factor, but input.size(-3)=5 is not divisible by 4",
        ),
        (
            lambda m: m.nn.functional.pixel_shuffle(m.zeros(4, 4), 2),
            RuntimeError,
            "pixel_shuffle expects input to have at least 3 dimensions, but got input with 2 "
            "dimension(s)",
        ),
        (
            lambda m: m.nn.functional.pixel_shuffle(m.zeros(1, 4, 3, 3), 0),
            RuntimeError,
            "pixel_shuffle expects a positive upscale_factor, but got 0",
        ),
        (
            lambda m: m.nn.functional.pixel_shuffle(m.zeros(1, 4, 2, 2), 2.0),
            TypeError,
            "pixel_shuffle(): argument 'upscale_factor' (position 2) must be int, not float",
        ),
        (
            lambda m: m.nn.functional.pixel_unshuffle(m.zeros(1, 1, 3, 4), 2),
            RuntimeError,
            "pixel_unshuffle expects height to be divisible by downscale_factor, but "
            "input.size(-2)=3 is not divisible by 2",
        ),
        (
            lambda m: m.nn.functional.pixel_unshuffle(m.zeros(1, 1, 4, 3), 2),
            RuntimeError,
            "pixel_unshuffle expects width to be divisible by downscale_factor, but "
            "input.size(-1)=3 is not divisible by 2",
        ),
        (
            lambda m: m.nn.functional.pixel_unshuffle(m.zeros(1, 1, 4, 4), -1),
            RuntimeError,
            "pixel_unshuffle expects a positive downscale_factor, but got -1",
        ),
        (
            lambda m: m.nn.functional.channel_shuffle(m.zeros(1, 5, 3), 2),
            RuntimeError,
            "Number of channels must be divisible by groups. Got 5 channels and 2 groups.",
        ),
        (
            lambda m: m.nn.functional.channel_shuffle(m.zeros(1, 4, 3), 0),
            RuntimeError,
            "Number of groups to divide channels in must be positive. Value of groups:0",
        ),
        (
            lambda m: m.nn.functional.channel_shuffle(m.zeros(4, 6), 2),
            RuntimeError,
            "channel_shuffle expects input with > 2 dims, but got input with sizes [4, 6]",
        ),
        (
            lambda m: m.nn.functional.channel_shuffle(m.zeros(4, 6, 2), 2.0),
            TypeError,
            "channel_shuffle(): argument 'groups' (position 2) must be int, not float",
        ),
    ],
)
def test_shuffle_errors(fn, exc, message):
    both_raise(fn, exc, message)


# -- interpolate ------------------------------------------------------------------------------
MODE_SHAPES = [
    ("nearest", (2, 3, 5)),
    ("nearest", (2, 2, 5, 4)),
    ("nearest", (1, 2, 3, 4, 5)),
    ("nearest-exact", (2, 3, 5)),
    ("nearest-exact", (2, 2, 5, 4)),
    ("nearest-exact", (1, 2, 3, 4, 5)),
    ("linear", (2, 3, 5)),
    ("bilinear", (2, 2, 5, 4)),
    ("bicubic", (2, 2, 5, 4)),
    ("trilinear", (1, 2, 3, 4, 5)),
    ("area", (2, 3, 7)),
    ("area", (2, 2, 7, 4)),
    ("area", (1, 2, 3, 4, 5)),
]
ALIGNABLE = ("linear", "bilinear", "bicubic", "trilinear")
MODE_ALIGN = [
    (mode, shape, align)
    for mode, shape in MODE_SHAPES
    for align in ((False, True) if mode in ALIGNABLE else (None,))
]


@pytest.mark.parametrize(("mode", "shape", "align"), MODE_ALIGN)
@pytest.mark.parametrize("scale", [2, 1.7, 0.6, 3.3, 0.45])
def test_interpolate_scale_factor(mode, shape, align, scale):
    check_op(lambda m, x: interp(m, x, scale_factor=scale, mode=mode, align_corners=align), shape)


@pytest.mark.parametrize(("mode", "shape", "align"), MODE_ALIGN)
def test_interpolate_recompute_scale_factor(mode, shape, align):
    check_op(
        lambda m, x: interp(
            m, x, scale_factor=1.7, mode=mode, align_corners=align, recompute_scale_factor=True
        ),
        shape,
    )


@pytest.mark.parametrize(("mode", "shape", "align"), MODE_ALIGN)
@pytest.mark.parametrize("sizes", [(7, 3, 2), (1, 9, 4), (3, 1, 11)])
def test_interpolate_size(mode, shape, align, sizes):
    size = sizes[: len(shape) - 2]
    check_op(lambda m, x: interp(m, x, size=size, mode=mode, align_corners=align), shape)


@pytest.mark.parametrize(("mode", "shape", "align"), MODE_ALIGN)
def test_interpolate_per_dim_scale_and_noncontiguous(mode, shape, align):
    d = len(shape) - 2
    scales = (2.5, 0.5, 1.5)[:d]

    def fn(m, x):
        x = x.transpose(0, 1)[:, :, 1:]  # transposed and sliced
        return interp(m, x, scale_factor=scales, mode=mode, align_corners=align)

    check_op(fn, (shape[1], shape[0], shape[2] + 1, *shape[3:]))


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align", [False, True])
@pytest.mark.parametrize("scale", [0.3, 0.45, 0.6, 1.7, (0.5, 2.5)])
def test_interpolate_antialias(mode, align, scale):
    check_op(
        lambda m, x: interp(
            m, x, scale_factor=scale, mode=mode, align_corners=align, antialias=True
        ),
        (2, 2, 11, 9),
    )


def test_interpolate_antialias_size():
    check_op(
        lambda m, x: interp(m, x, size=(3, 13), mode="bilinear", antialias=True), (1, 2, 10, 5)
    )


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic", "area"])
def test_interpolate_float64_and_half(mode):
    check_op(lambda m, x: interp(m, x, scale_factor=1.7, mode=mode), (1, 2, 5, 4), dtype="float64")
    for dtype in ("float16", "bfloat16"):
        check_op(
            lambda m, x: interp(m, x, size=(7, 3), mode=mode),
            (1, 2, 5, 4),
            dtype=dtype,
            rtol=2e-2,
            atol=2e-2,
            grad=False,
        )


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_uint8(mode):
    check_op(lambda m, x: interp(m, x, scale_factor=1.7, mode=mode), (1, 2, 3, 4), dtype="uint8")


def test_interpolate_same_size_is_a_copy():
    x = ember.randn(1, 2, 3, 4)
    out = ember.nn.functional.interpolate(x, size=(3, 4), mode="bilinear", align_corners=True)
    np.testing.assert_array_equal(out.data, x.data)
    assert not np.shares_memory(out.data, x.data)


def test_interpolate_empty_batch():
    check_op(lambda m, x: interp(m, x, size=(5, 5), mode="bilinear"), (0, 2, 3, 3))


@pytest.mark.parametrize(
    ("mode", "align"),
    [
        ("nearest", None),
        ("bilinear", False),
        ("bilinear", True),
        ("bicubic", False),
        ("area", None),
    ],
)
def test_interpolate_gradcheck(mode, align):
    check_gradcheck(
        lambda m, x: interp(m, x, size=(4, 3), mode=mode, align_corners=align), (1, 2, 3, 5)
    )


def test_interpolate_gradcheck_1d_3d():
    check_gradcheck(lambda m, x: interp(m, x, scale_factor=1.5, mode="linear"), (1, 2, 4))
    check_gradcheck(lambda m, x: interp(m, x, size=(2, 3, 2), mode="trilinear"), (1, 1, 3, 2, 3))
    check_gradcheck(
        lambda m, x: interp(m, x, size=(2, 5), mode="bilinear", antialias=True), (1, 1, 5, 3)
    )


@pytest.mark.parametrize(
    ("kwargs", "shape", "exc", "message"),
    [
        (
            {"size": (2, 2), "scale_factor": 2},
            (1, 2, 3, 3),
            ValueError,
            "only one of size or scale_factor should be defined",
        ),
        ({}, (1, 2, 3, 3), ValueError, "either size or scale_factor should be defined"),
        (
            {"size": (2, 2, 2)},
            (1, 2, 3, 3),
            ValueError,
            "Input and output must have the same number of spatial dimensions, but got input "
            "with spatial dimensions of [3, 3] and output size of (2, 2, 2).",
        ),
        (
            {"scale_factor": (2, 2, 2)},
            (1, 2, 3, 3),
            ValueError,
            "Input and scale_factor must have the same number of spatial dimensions, but got "
            "input with spatial dimensions of [3, 3] and scale_factor of shape (2, 2, 2).",
        ),
        (
            {"size": 2, "align_corners": True},
            (1, 2, 3, 3),
            ValueError,
            "align_corners option can only be set with the interpolating modes: "
            "linear | bilinear | bicubic | trilinear",
        ),
        (
            {"size": 2, "mode": "foo"},
            (1, 2, 3, 3),
            NotImplementedError,
            "Input Error: Only 3D, 4D and 5D input Tensors supported (got 4D) for the modes: "
            "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
            "(got foo)",
        ),
        (
            {"size": 2},
            (3, 4),
            NotImplementedError,
            "Input Error: Only 3D, 4D and 5D input Tensors supported (got 2D)",
        ),
        (
            {"size": 2, "mode": "linear"},
            (1, 2, 3, 3),
            NotImplementedError,
            "Got 4D input, but linear mode needs 3D input",
        ),
        (
            {"size": 2, "mode": "bilinear"},
            (1, 2, 3, 3, 3),
            NotImplementedError,
            "Got 5D input, but bilinear mode needs 4D input",
        ),
        (
            {"size": (2, 2.5)},
            (1, 2, 3, 3),
            TypeError,
            "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
            "Tuple[int, int, int], but got size with types [<class 'int'>, <class 'float'>]",
        ),
        (
            {"size": 3, "recompute_scale_factor": True},
            (1, 2, 3, 3),
            ValueError,
            "recompute_scale_factor is not meaningful with an explicit size.",
        ),
        (
            {"size": 3, "antialias": True},
            (1, 2, 3, 3),
            ValueError,
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input",
        ),
        (
            {"size": 3, "mode": "linear", "antialias": True},
            (1, 2, 3),
            ValueError,
            "Anti-alias option is restricted to bilinear",
        ),
        (
            {"scale_factor": 0.1},
            (1, 2, 3, 3),
            RuntimeError,
            "Input and output sizes should be greater than 0, but got input (H: 3, W: 3) "
            "output (H: 0, W: 0)",
        ),
        (
            {"size": 0, "mode": "linear"},
            (1, 2, 3),
            RuntimeError,
            "Input and output sizes should be greater than 0, but got input (W: 3) and "
            "output (W: 0)",
        ),
        (
            {"size": (1, 0, 2)},
            (1, 2, 3, 3, 3),
            RuntimeError,
            "but got input (D: 3, H: 3, W: 3) output (D: 1, H: 0, W: 2)",
        ),
    ],
)
def test_interpolate_errors(kwargs, shape, exc, message):
    both_raise(lambda m: interp(m, m.zeros(*shape), **kwargs), exc, message)


def test_interpolate_dtype_errors():
    both_raise(
        lambda m: interp(m, m.zeros(1, 2, 3, 3, dtype=m.int64), size=3, mode="bilinear"),
        NotImplementedError,
        "not implemented for 'Long'",
    )
    both_raise(
        lambda m: interp(m, m.zeros(1, 2, 3, dtype=m.int32), size=3),
        NotImplementedError,
        "not implemented for 'Int'",
    )


def test_interpolate_lanczos_not_implemented():
    with pytest.raises(NotImplementedError, match="lanczos"):
        interp(ember, ember.zeros(1, 2, 3, 3), size=2, mode="lanczos", antialias=True)


def test_deprecated_upsample_functions():
    F = ember.nn.functional
    x = ember.randn(1, 2, 3, 3)
    for fn, kwargs in (
        (F.upsample, {"scale_factor": 2, "mode": "bilinear"}),
        (F.upsample_nearest, {"scale_factor": 2}),
        (F.upsample_bilinear, {"size": 5}),
    ):
        with pytest.warns(UserWarning, match="is deprecated. Use `nn.functional.interpolate`"):
            out = fn(x, **kwargs)
        tx = torch.tensor(x.data)
        with pytest.warns(UserWarning):
            expected = getattr(torch.nn.functional, fn.__name__)(tx, **kwargs)
        np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-5, atol=1e-6)


# -- grid_sample and affine_grid ---------------------------------------------------------------
def grid_inputs(input_shape, grid_shape, seed=0):
    x = make_inputs([input_shape], "float32", -2, 2, seed)[0]
    grid = make_inputs([grid_shape], "float32", -1.6, 1.6, seed + 1)[0]  # some points outside
    return [x, grid]


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_2d(mode, padding, align):
    check_op(
        lambda m, x, g: m.nn.functional.grid_sample(
            x, g, mode=mode, padding_mode=padding, align_corners=align
        ),
        inputs=grid_inputs((2, 3, 5, 4), (2, 3, 6, 2)),
    )


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align", [False, True])
def test_grid_sample_3d(mode, padding, align):
    check_op(
        lambda m, x, g: m.nn.functional.grid_sample(
            x, g, mode=mode, padding_mode=padding, align_corners=align
        ),
        inputs=grid_inputs((2, 2, 4, 5, 3), (2, 3, 2, 4, 3)),
    )


@pytest.mark.parametrize("padding", ["border", "reflection"])
def test_grid_sample_far_outside_and_size_one(padding):
    x, g = grid_inputs((1, 2, 1, 4), (1, 3, 5, 2))
    g = g * 4  # reflections several spans away

    def fn(m, x, g):
        return m.nn.functional.grid_sample(x, g, padding_mode=padding, align_corners=True)

    check_op(fn, inputs=[x, g])


def test_grid_sample_noncontiguous():
    def fn(m, x, g):
        return m.nn.functional.grid_sample(
            x.transpose(2, 3), g[:, 1:].transpose(1, 2), mode="bicubic", align_corners=False
        )

    check_op(fn, inputs=grid_inputs((2, 3, 4, 5), (2, 4, 3, 2)))


@pytest.mark.parametrize(
    ("mode", "padding"),
    [("bilinear", "zeros"), ("bilinear", "reflection"), ("bicubic", "border")],
)
def test_grid_sample_gradcheck(mode, padding):
    inputs = [a.astype(np.float64) for a in grid_inputs((1, 2, 3, 4), (1, 2, 3, 2), seed=3)]
    check_gradcheck(
        lambda m, x, g: m.nn.functional.grid_sample(
            x, g, mode=mode, padding_mode=padding, align_corners=False
        ),
        inputs=inputs,
    )


def test_grid_sample_nearest_gradcheck_input():
    x, g = grid_inputs((1, 2, 3, 4), (1, 2, 3, 2))
    grid = ember.tensor(g.astype(np.float64))
    check_gradcheck(
        lambda m, x: m.nn.functional.grid_sample(x, grid, mode="nearest", align_corners=True),
        inputs=[x.astype(np.float64)],
    )


def test_grid_sample_default_align_corners_warns():
    x, g = grid_inputs((1, 1, 3, 3), (1, 2, 2, 2))
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        out = ember.nn.functional.grid_sample(ember.tensor(x), ember.tensor(g))
    expected = torch.nn.functional.grid_sample(
        torch.tensor(x), torch.tensor(g), align_corners=False
    )
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("x_shape", "g_shape", "kwargs", "exc", "message"),
    [
        (
            (1, 5, 3, 3),
            (2, 2, 2, 2),
            {},
            RuntimeError,
            "grid_sampler(): expected grid and input to have same batch size, but got input "
            "with sizes [1, 5, 3, 3] and grid with sizes [2, 2, 2, 2]",
        ),
        (
            (1, 5, 3, 3),
            (1, 2, 2, 3),
            {},
            RuntimeError,
            "grid_sampler(): expected grid to have size 2 in last dimension, but got grid with "
            "sizes [1, 2, 2, 3]",
        ),
        (
            (1, 5, 3, 3),
            (1, 2, 2),
            {},
            RuntimeError,
            "grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
            "input with sizes [1, 5, 3, 3] and grid with sizes [1, 2, 2]",
        ),
        (
            (1, 2, 0, 3),
            (1, 2, 2, 2),
            {},
            RuntimeError,
            "grid_sampler(): expected input to have non-empty spatial dimensions, but input "
            "has sizes [1, 2, 0, 3] with dimension 2 being empty",
        ),
        (
            (1, 2, 3, 3, 3),
            (1, 2, 2, 2, 3),
            {"mode": "bicubic"},
            RuntimeError,
            "grid_sampler(): bicubic interpolation only supports 4D input",
        ),
        (
            (1, 2, 3, 3),
            (1, 2, 2, 2),
            {"mode": "foo"},
            ValueError,
            "nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            "'bicubic', but got: 'foo'",
        ),
        (
            (1, 2, 3, 3),
            (1, 2, 2, 2),
            {"padding_mode": "foo"},
            ValueError,
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            "'reflection', but got: 'foo'",
        ),
    ],
)
def test_grid_sample_errors(x_shape, g_shape, kwargs, exc, message):
    both_raise(
        lambda m: m.nn.functional.grid_sample(
            m.zeros(*x_shape), m.zeros(*g_shape), align_corners=False, **kwargs
        ),
        exc,
        message,
    )


def test_grid_sample_dtype_errors():
    both_raise(
        lambda m: m.nn.functional.grid_sample(
            m.zeros(1, 2, 3, 3), m.zeros(1, 2, 2, 2, dtype=m.float64), align_corners=False
        ),
        RuntimeError,
        "expected scalar type Float but found Double",
    )
    both_raise(
        lambda m: m.nn.functional.grid_sample(
            m.zeros(1, 2, 3, 3, dtype=m.int64),
            m.zeros(1, 2, 2, 2, dtype=m.int64),
            align_corners=False,
        ),
        NotImplementedError,
        "not implemented for 'Long'",
    )


@pytest.mark.parametrize(
    ("theta", "size", "align"),
    [
        ((2, 2, 3), (2, 3, 4, 5), False),
        ((2, 2, 3), (2, 3, 4, 5), True),
        ((2, 3, 4), (2, 3, 4, 5, 3), False),
        ((2, 3, 4), (2, 3, 4, 5, 3), True),
        ((1, 2, 3), [1, 1, 1, 6], False),  # a unit-size dim
        ((1, 3, 4), [1, 1, 2, 1, 3], False),
    ],
)
def test_affine_grid(theta, size, align):
    check_op(lambda m, t: m.nn.functional.affine_grid(t, size, align_corners=align), theta)


def test_affine_grid_unit_size_warns():
    t = make_inputs([(1, 2, 3)], "float32", -2, 2, 0)[0]
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        out = ember.nn.functional.affine_grid(ember.tensor(t), (1, 1, 1, 4), align_corners=True)
    with pytest.warns(UserWarning):
        expected = torch.nn.functional.affine_grid(torch.tensor(t), (1, 1, 1, 4), True)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-5, atol=1e-6)


def test_affine_grid_then_grid_sample():
    def fn(m, t, x):
        grid = m.nn.functional.affine_grid(t, (2, 3, 4, 6), align_corners=False)
        return m.nn.functional.grid_sample(x, grid, align_corners=False)

    check_op(fn, (2, 2, 3), (2, 3, 5, 5), low=-1, high=1)


def test_affine_grid_gradcheck():
    check_gradcheck(
        lambda m, t: m.nn.functional.affine_grid(t, (2, 1, 3, 2), align_corners=False), (2, 2, 3)
    )
    check_gradcheck(
        lambda m, t: m.nn.functional.affine_grid(t, (1, 1, 2, 3, 2), align_corners=True), (1, 3, 4)
    )


@pytest.mark.parametrize(
    ("theta", "size", "exc", "message"),
    [
        (
            (2, 3, 3),
            (2, 3, 4, 5),
            ValueError,
            "Expected a batch of 2D affine matrices of shape Nx2x3 for size (2, 3, 4, 5).",
        ),
        (
            (2, 2, 3),
            (2, 3, 4, 5, 6),
            ValueError,
            "Expected a batch of 3D affine matrices of shape Nx3x4 for size (2, 3, 4, 5, 6).",
        ),
        (
            (2, 3, 4),
            (2, 3, 4),
            NotImplementedError,
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            "respectively. Got size (2, 3, 4).",
        ),
        (
            (2, 2, 3),
            (2, 3, 0, 5),
            ValueError,
            "Expected non-zero, positive output size. Got (2, 3, 0, 5)",
        ),
        (
            (2, 2, 3),
            (3, 3, 4, 5),
            RuntimeError,
            "Expected size for first two dimensions of batch2 tensor to be: [3, 3] but got: "
            "[2, 3].",
        ),
    ],
)
def test_affine_grid_errors(theta, size, exc, message):
    both_raise(
        lambda m: m.nn.functional.affine_grid(m.zeros(*theta), size, align_corners=False),
        exc,
        message,
    )


def test_affine_grid_integer_theta():
    both_raise(
        lambda m: m.nn.functional.affine_grid(
            m.zeros(1, 2, 3, dtype=m.int64), (1, 1, 2, 2), align_corners=False
        ),
        ValueError,
        "Expected theta to have floating point type, but got",
    )


# -- layers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda m: m.nn.PixelShuffle(2), (2, 8, 3, 2)),
        (lambda m: m.nn.PixelUnshuffle(3), (1, 2, 6, 3)),
        (lambda m: m.nn.ChannelShuffle(2), (2, 4, 3)),
        (lambda m: m.nn.Upsample(scale_factor=2), (1, 2, 3, 4)),
        (lambda m: m.nn.Upsample(size=(5, 7), mode="bilinear"), (1, 2, 3, 4)),
        (lambda m: m.nn.Upsample(size=7, mode="bicubic", align_corners=True), (1, 2, 3, 4)),
        (lambda m: m.nn.Upsample(scale_factor=(2.0, 1.5), mode="nearest-exact"), (1, 2, 3, 4)),
        (lambda m: m.nn.Upsample(scale_factor=1.7, mode="linear"), (2, 3, 4)),
        (
            lambda m: m.nn.Upsample(
                scale_factor=0.6, mode="trilinear", recompute_scale_factor=True
            ),
            (1, 1, 4, 5, 3),
        ),
        (lambda m: m.nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 3, 4)),
        (lambda m: m.nn.UpsamplingBilinear2d(size=(4, 6)), (1, 2, 3, 4)),
        (lambda m: m.nn.UpsamplingBilinear2d(scale_factor=2), (1, 2, 3, 4)),
    ],
)
def test_layers(make, shape):
    e_layer, t_layer = check_module(make, shape)
    assert repr(e_layer) == repr(t_layer)
    assert list(e_layer.state_dict()) == []


def test_upsample_attributes():
    e, t = ember.nn.Upsample(scale_factor=(2, 3)), torch.nn.Upsample(scale_factor=(2, 3))
    assert (e.name, e.size, e.scale_factor, e.mode) == (t.name, t.size, t.scale_factor, t.mode)
    assert (e.align_corners, e.recompute_scale_factor) == (None, None)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nearest_index_rules_exact(mode, dtype):
    """The source index of every output, over many sizes: float rounding as PyTorch's kernel."""
    for n_in in (2, 3, 7, 14, 18, 26, 39):
        x = np.arange(n_in, dtype=dtype).reshape(1, 1, n_in)
        for n_out in range(1, 70):
            e = interp(ember, ember.tensor(x), size=n_out, mode=mode)
            t = interp(torch, torch.tensor(x), size=n_out, mode=mode)
            np.testing.assert_array_equal(e.data, t.numpy(), err_msg=f"{n_in} -> {n_out}")
        for scale in (0.3, 0.77, 1.1, 1.3, 1.7, 2.7, 4.1):
            if int(n_in * scale) == 0:
                continue
            e = interp(ember, ember.tensor(x), scale_factor=scale, mode=mode)
            t = interp(torch, torch.tensor(x), scale_factor=scale, mode=mode)
            np.testing.assert_array_equal(e.data, t.numpy(), err_msg=f"{n_in} x {scale}")
