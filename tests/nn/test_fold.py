"""F.unfold / F.fold and the Unfold / Fold layers against PyTorch."""

# ruff: noqa: E501 (a table of PyTorch error messages)

import pytest
import torch

import ember
from tests.helpers import check_gradcheck, check_module, check_op

F = ember.nn.functional

UNFOLD = [
    # (input shape, kernel_size, kwargs)
    ((2, 3, 4, 4), 2, {}),
    ((2, 3, 6, 7), (2, 3), {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}),
    ((1, 2, 5, 5), 3, {"padding": (2, 0), "stride": 2}),
    ((3, 4, 4), 2, {"stride": 2}),  # unbatched
    ((2, 1, 3, 3), 3, {}),  # one block
]


@pytest.mark.parametrize(("shape", "kernel_size", "kwargs"), UNFOLD)
def test_unfold(shape, kernel_size, kwargs):
    check_op(lambda m, x: m.nn.functional.unfold(x, kernel_size, **kwargs), shape)


@pytest.mark.parametrize(("shape", "kernel_size", "kwargs"), UNFOLD)
def test_fold_inverts_the_layout_of_unfold(shape, kernel_size, kwargs):
    # fold(unfold(x)) sums each pixel once per window covering it: compare that with torch
    size = shape[-2:]
    check_op(
        lambda m, x: m.nn.functional.fold(
            m.nn.functional.unfold(x, kernel_size, **kwargs), size, kernel_size, **kwargs
        ),
        shape,
    )


FOLD = [
    # (input shape, output_size, kernel_size, kwargs)
    ((2, 12, 9), (4, 4), 2, {}),
    ((2, 18, 12), (5, 6), (2, 3), {"dilation": (1, 2), "padding": 1, "stride": (2, 1)}),
    ((12, 4), 4, 2, {"stride": 2}),  # unbatched, int output_size
    ((1, 9, 9), (5, 5), 3, {"padding": 1, "stride": 2}),
]


@pytest.mark.parametrize(("shape", "output_size", "kernel_size", "kwargs"), FOLD)
def test_fold(shape, output_size, kernel_size, kwargs):
    check_op(lambda m, x: m.nn.functional.fold(x, output_size, kernel_size, **kwargs), shape)


def test_fold_unfold_noncontiguous_and_dtypes():
    check_op(lambda m, x: m.nn.functional.unfold(x.transpose(2, 3)[:, 1:], 2), (2, 4, 5, 6))
    check_op(lambda m, x: m.nn.functional.fold(x.transpose(1, 2), (4, 4), 2), (2, 9, 12))
    for dtype in ("float64", "float16", "bfloat16"):
        check_op(lambda m, x: m.nn.functional.unfold(x, 2), (2, 3, 4, 4), dtype=dtype, grad=False)
        check_op(
            lambda m, x: m.nn.functional.fold(x, (4, 4), 2),
            (2, 12, 9),
            dtype=dtype,
            rtol=1e-2,
            atol=1e-2,
            grad=False,
        )


def test_fold_unfold_gradcheck():
    check_gradcheck(lambda m, x: m.nn.functional.unfold(x, 2, padding=1, stride=2), (1, 2, 3, 3))
    check_gradcheck(lambda m, x: m.nn.functional.fold(x, (4, 4), 2), (1, 8, 9))
    check_gradcheck(
        lambda m, x: m.nn.functional.fold(x, (3, 4), (2, 2), dilation=(1, 2), padding=1), (1, 4, 16)
    )


def test_fold_unfold_grad_fn_names():
    x = ember.zeros(1, 2, 3, 3, requires_grad=True)
    assert F.unfold(x, 2).grad_fn.name() == "Im2ColBackward0"
    assert F.fold(F.unfold(x, 2), (3, 3), 2).grad_fn.name() == "Col2ImBackward0"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4, 4), 2),
            r"Expected 3D or 4D \(batch mode\) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: \[2, 3, 4, 4, 4\]",
        ),
        (lambda m: m.nn.functional.unfold(m.zeros(2, 0, 4, 4), 2), r"but got: \[2, 0, 4, 4\]"),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), 5),
            r"Given input with spatial size \(4, 4\), kernel_size=\(5, 5\), dilation=\(1, 1\), padding=\(0, 0\), calculated shape of the array of sliding blocks as \(0, 0\), but its components must be at least one.",
        ),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), (2, 2, 2)),
            "It is expected kernel_size equals to 2, but got size 3",
        ),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), 2, padding=(1, 2, 3)),
            "It is expected padding equals to 2, but got size 3",
        ),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), 2, stride=0),
            "stride should be greater than zero, but got stride_height: 0 stride_width: 0",
        ),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), 2, dilation=0),
            "dilation should be greater than zero, but got dilation_height: 0 dilation_width: 0",
        ),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), 2, padding=-1),
            "padding should be non-negative, but got pad_height: -1 pad_width: -1",
        ),
        (
            lambda m: m.nn.functional.unfold(m.zeros(2, 3, 4, 4), 0),
            "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0",
        ),
        (
            lambda m: m.nn.functional.fold(m.zeros(2, 12, 9, 1), (4, 4), 2),
            r"Expected 2D or 3D \(batch mode\) tensor for input with possibly 0 batch size and non-zero dimensions for input, but got: \[2, 12, 9, 1\]",
        ),
        (
            lambda m: m.nn.functional.fold(m.zeros(2, 11, 9), (4, 4), 2),
            r"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got input.size\(1\)=11 and kernel_size=\(2, 2\).",
        ),
        (
            lambda m: m.nn.functional.fold(m.zeros(2, 12, 8), (4, 4), 2),
            r"Given output_size=\(4, 4\), kernel_size=\(2, 2\), dilation=\(1, 1\), padding=\(0, 0\), stride=\(1, 1\), expected size of input's dimension 2 to match the calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8.",
        ),
        (
            lambda m: m.nn.functional.fold(m.zeros(2, 12, 9), (1, 1), 2),
            r"calculated number of sliding blocks 0 \* 0 = 0, but got input.size\(2\)=9.",
        ),
        (
            lambda m: m.nn.functional.fold(m.zeros(2, 12, 9), (4, 4, 4), 2),
            "It is expected output_size equals to 2, but got size 3",
        ),
        (
            lambda m: m.nn.functional.fold(m.zeros(2, 12, 9), (4, 4), [2]),
            "It is expected kernel_size equals to 2, but got size 1",
        ),
    ],
)
def test_fold_unfold_errors(call, match):
    for m in (ember, torch):  # the same message from both
        with pytest.raises(RuntimeError, match=match):
            call(m)


def test_fold_unfold_layers():
    check_module(lambda m: m.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2), (2, 3, 6, 7))
    check_module(lambda m: m.nn.Fold((5, 6), (2, 3), padding=1, stride=(2, 1)), (2, 12, 18))
    check_module(lambda m: m.nn.Unfold(2), (3, 4, 4))  # unbatched


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.nn.Fold((4, 4), 2),
        lambda m: m.nn.Fold(
            output_size=(5, 6), kernel_size=(2, 3), dilation=2, padding=1, stride=(2, 1)
        ),
        lambda m: m.nn.Unfold(2, padding=1, stride=2),
        lambda m: m.nn.Unfold((2, 3), dilation=(1, 2)),
    ],
)
def test_fold_unfold_repr(make):
    assert repr(make(ember)) == repr(make(torch))
