import numpy as np
import pytest
import torch

import ember
from ember.ops import combine, norms, scan, selection
from tests.helpers import check_gradcheck, check_op


@pytest.fixture(autouse=True, scope="module")
def _ops_exported():
    """Expose selection/scan/norms as ember.* while these tests run (no leak to other modules).

    TODO(lead): drop once ember/ops/__init__.py star-imports selection, scan and norms.
    """
    with pytest.MonkeyPatch.context() as patch:
        for module in (selection, scan, norms):
            for name in module.__all__:
                if not hasattr(ember.ops, name):
                    patch.setattr(ember.ops, name, getattr(module, name), raising=False)
                    patch.setattr(ember, name, getattr(module, name), raising=False)
        yield


SHAPE = (3, 4, 5)


def _ties(shape, seed=0, high=3):
    """Small integers as floats: many ties in every slice."""
    return [np.random.default_rng(seed).integers(0, high, shape).astype(np.float32)]


def _distinct(shape, seed=0, dtype=np.float64):
    """A shuffled grid spaced 0.25 apart: no ties, robust to gradcheck's perturbations."""
    n = int(np.prod(shape))
    values = (np.random.default_rng(seed).permutation(n) - n / 2) * 0.25
    return [values.reshape(shape).astype(dtype)]


# -- amax / amin / max() / min() ----------------------------------------------------------
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), ()])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin(op, dim, keepdim):
    args = () if dim is None else (dim,)
    check_op(lambda m, x: getattr(m, op)(x, *args, keepdim=keepdim), SHAPE)
    check_op(lambda m, x: getattr(m, op)(x, *args, keepdim=keepdim), inputs=_ties(SHAPE))


@pytest.mark.parametrize("op", ["max", "min", "median", "nanmedian"])
def test_full_reduction_ties_share_gradient(op):
    check_op(lambda m, x: getattr(m, op)(x), inputs=_ties((4, 5)))
    check_op(lambda m, x: getattr(x.permute(1, 0)[1:], op)(), inputs=_ties((4, 5), seed=1))
    check_op(lambda m, x: getattr(m, op)(x), (7,))


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_integer_inputs(dtype):
    for call in (
        lambda m, x: m.amax(x, 1),
        lambda m, x: m.max(x),
        lambda m, x: m.min(x, 0),
        lambda m, x: m.argmax(x, 1),
        lambda m, x: m.aminmax(x),
        lambda m, x: m.median(x),
        lambda m, x: m.median(x, 1),
        lambda m, x: m.mode(x, 0),
        lambda m, x: m.kthvalue(x, 2, 1),
    ):
        check_op(call, (3, 4), dtype=dtype, low=0, high=50)
    check_op(lambda m, x: m.max(x, 0), (3, 4), dtype="bool", low=0, high=2)
    check_op(lambda m, x: m.amax(x), (3, 4), dtype="bool", low=0, high=2)


# -- max / min with dim: (values, indices) ------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dim, keepdim):
    check_op(lambda m, x: getattr(m, op)(x, dim, keepdim), SHAPE)
    check_op(lambda m, x: getattr(x, op)(dim=dim, keepdim=keepdim), inputs=_ties(SHAPE))


def test_max_min_dim_result_fields_and_noncontiguous():
    check_op(lambda m, x: x.permute(2, 0, 1)[1:].max(1).values, SHAPE)
    check_op(lambda m, x: x[:, 1:].min(dim=0).indices, SHAPE)
    check_op(lambda m, x: m.max(x, 0), ())
    out = ember.tensor([[1.0, 3.0], [5.0, 5.0]]).max(1)
    assert type(out).__name__ == "max" and out.indices.dtype == ember.int64


def test_max_min_with_other_tensor():
    if not hasattr(combine, "maximum"):
        pytest.skip("combine.maximum not in this checkout yet")
    check_op(lambda m, x, y: m.max(x, y) + m.min(x, y), (3, 4), (4,))


def test_max_min_nan():
    a = np.array([[1.0, np.nan, 3.0], [2.0, 0.0, 1.0]], np.float32)
    for call in (
        lambda m, x: m.max(x, 1),
        lambda m, x: m.min(x, 1),
        lambda m, x: m.amax(x, 1),
        lambda m, x: m.argmax(x),
        lambda m, x: m.argmin(x, 1),
    ):
        check_op(call, inputs=[a], grad=False)


# -- argmax / argmin / aminmax ------------------------------------------------------------
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argmax_argmin(op, dim, keepdim):
    check_op(lambda m, x: getattr(m, op)(x, dim, keepdim), SHAPE)
    check_op(lambda m, x: getattr(x, op)(dim=dim, keepdim=keepdim), inputs=_ties(SHAPE))
    check_op(lambda m, x: getattr(m, op)(x.permute(1, 0), dim), (3, 4))


@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_aminmax(dim, keepdim):
    check_op(lambda m, x: m.aminmax(x, dim=dim, keepdim=keepdim), SHAPE)
    check_op(lambda m, x: x.aminmax(dim=dim, keepdim=keepdim), inputs=_ties(SHAPE))
    out = ember.tensor([1.0, 2.0]).aminmax()
    assert (out.min.item(), out.max.item()) == (1.0, 2.0)


# -- median / nanmedian / mode / kthvalue -------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_dim(op, dim, keepdim):
    check_op(lambda m, x: getattr(m, op)(x, dim, keepdim), SHAPE)
    check_op(lambda m, x: getattr(x, op)(dim, keepdim=keepdim), inputs=_ties(SHAPE))
    check_op(lambda m, x: getattr(m, op)(x, dim), (4, 6))  # even length: the lower median
    check_op(lambda m, x: getattr(m, op)(x[:, 1:].permute(1, 0), dim), (4, 6))


def test_median_nanmedian_with_nans():
    a = np.array([[1.0, np.nan, 3.0, np.nan], [np.nan, 5, 1, 2], [4.0, 2.0, 0.0, 1.0]], np.float32)
    for call in (
        lambda m, x: m.median(x, 1),
        lambda m, x: m.nanmedian(x, 1),
        lambda m, x: m.median(x),
        lambda m, x: m.nanmedian(x),
        lambda m, x: m.nanmedian(x[2:]),
        lambda m, x: m.nanmedian(x, 0, keepdim=True),
    ):
        check_op(call, inputs=[a])


def test_nanmedian_all_nan_slice():
    # PyTorch's index for an all-NaN slice depends on its nth_element: compare values only.
    a = np.full((2, 5), np.nan, np.float32)
    a[1] = [3, 1, 2, np.nan, 0]
    e, t = ember.tensor(a).nanmedian(1), torch.tensor(a).nanmedian(1)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    assert e.indices.tolist()[1] == t.indices.tolist()[1]
    assert np.isnan(ember.nanmedian(ember.tensor(a[:1])).item())


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode(dim, keepdim):
    check_op(lambda m, x: m.mode(x, dim, keepdim), inputs=_ties(SHAPE))
    check_op(lambda m, x: x.mode(dim, keepdim), inputs=_ties(SHAPE, seed=3, high=6))
    check_op(lambda m, x: m.mode(x), (3, 4))  # all distinct: the smallest
    check_op(lambda m, x: m.mode(x.permute(1, 0)[1:], 0), inputs=_ties((4, 5), seed=2))


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue(k, dim, keepdim):
    check_op(lambda m, x: m.kthvalue(x, k, dim, keepdim), (4, 4, 5))
    check_op(lambda m, x: x.permute(2, 0, 1)[1:].kthvalue(k, dim=dim), (4, 4, 5))


def test_kthvalue_ties_values():
    # Among ties PyTorch's index depends on its quickselect: compare values, and check ours.
    (a,) = _ties((4, 6))
    e = ember.tensor(a).kthvalue(3, 1)
    t = torch.tensor(a).kthvalue(3, 1)
    np.testing.assert_array_equal(e.values.numpy(), t.values.numpy())
    np.testing.assert_array_equal(
        np.take_along_axis(a, e.indices.numpy()[:, None], 1)[:, 0], e.values.numpy()
    )


def test_zero_dim():
    for call in (
        lambda m, x: m.median(x, 0),
        lambda m, x: m.kthvalue(x, 1),
        lambda m, x: m.mode(x),
        lambda m, x: m.argmax(x, 0, True),
        lambda m, x: m.amax(x, 0),
    ):
        check_op(call, ())


# -- errors -------------------------------------------------------------------------------
def test_errors():
    empty = ember.tensor(np.zeros((0, 3), np.float32))
    with pytest.raises(RuntimeError, match=r"max\(\): Expected reduction dim to be specified"):
        ember.tensor(np.zeros(0, np.float32)).max()
    with pytest.raises(RuntimeError, match=r"amax\(\): Expected reduction dim to be specified"):
        empty.amax()
    with pytest.raises(IndexError, match=r"amax\(\): Expected reduction dim 0 to have non-zero"):
        empty.amax(0)
    with pytest.raises(IndexError, match=r"min\(\): Expected reduction dim 0 to have non-zero"):
        empty.min(0)
    with pytest.raises(IndexError, match=r"argmax\(\): Expected reduction dim to be specified"):
        ember.tensor(np.zeros(0, np.float32)).argmax()
    with pytest.raises(IndexError, match=r"median\(\): Expected reduction dim 0"):
        empty.median(0)
    with pytest.raises(RuntimeError, match=r"aminmax\(\): cannot compute aminmax over an empty"):
        empty.aminmax()
    x = ember.tensor(np.ones((2, 3), np.float32))
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range"):
        x.kthvalue(4, 1)
    with pytest.raises(RuntimeError, match=r"kthvalue\(\): selected number k out of range"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        x.max(2)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got -3"):
        x.argmin(-3)
    with pytest.raises(TypeError, match=r"max\(\): argument 'dim' must be int"):
        x.max(dim=(0, 1))
    with pytest.raises(RuntimeError, match=r"argmax\(\): does not support bool input"):
        ember.tensor([True, False]).argmax()


def test_empty_median_is_nan():
    check_op(lambda m, x: m.median(x), (0, 3), grad=False)
    check_op(lambda m, x: m.max(x, 1), (0, 3))


# -- gradcheck (float64, no ties) ---------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: m.amax(x, (0, 2)),
        lambda m, x: m.amin(x, 1, keepdim=True),
        lambda m, x: m.max(x),
        lambda m, x: m.max(x, 1).values,
        lambda m, x: m.min(x, -1, keepdim=True).values,
        lambda m, x: m.aminmax(x, dim=0).max,
        lambda m, x: m.median(x),
        lambda m, x: m.median(x, 1).values,
        lambda m, x: m.nanmedian(x, 2).values,
        lambda m, x: m.kthvalue(x, 2, 1).values,
        lambda m, x: m.mode(x, 0).values,
    ],
)
def test_gradcheck(fn):
    check_gradcheck(fn, inputs=_distinct((3, 4, 2)))
