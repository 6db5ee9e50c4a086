"""DLPack, frombuffer, as_strided and friends, type queries, *_copy ops, histogramdd, low-rank
SVD/PCA vs PyTorch.
"""

import types
import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops import interop, interop_extras
from tests.helpers import DTYPES, assert_same, check_gradcheck, check_op

# ember with this family's functions, until the lead wires them into ember.ops.
E = types.SimpleNamespace(
    **{
        **{n: getattr(ember, n) for n in dir(ember) if not n.startswith("_")},
        **{n: getattr(interop, n) for n in interop.__all__},
        **{n: getattr(interop_extras, n) for n in interop_extras.__all__},
    }
)


def both(fn):
    """fn(m, *xs) with m = E (ember plus this family) for ember, torch for torch."""
    return lambda m, *xs: fn(E if m is ember else torch, *xs)


# -- as_strided -------------------------------------------------------------------------------
STRIDED = [
    ((10,), (3, 3), (2, 1), 1),  # overlapping windows: gradients add up
    ((10,), (2, 4), (1, 2), None),
    ((3, 4), (2, 2), (4, 1), 5),
    ((3, 4), (4, 3), (1, 4), 0),  # a transpose
    ((10,), (3,), (0,), 2),  # stride 0: one element three times
    ((10,), (0, 3), (1, 1), None),
    ((6,), (), (), 4),
]


@pytest.mark.parametrize("shape, size, stride, offset", STRIDED)
def test_as_strided(shape, size, stride, offset):
    check_op(both(lambda m, x: m.as_strided(x * 1, size, stride, offset)), shape)


def test_as_strided_of_leaf():
    check_op(both(lambda m, x: m.as_strided(x, (2, 2), (1, 3))), (3, 4))


@pytest.mark.parametrize(
    "view", [lambda x: x.T, lambda x: x[:, 1:], lambda x: x[1:, ::2], lambda x: x[2]]
)
def test_as_strided_of_a_view_keeps_its_offset(view):
    # Strides count the base's memory; storage_offset=None keeps the view's own offset.
    check_op(both(lambda m, x: m.as_strided(view(x * 1), (2, 2), (1, 2))), (4, 5))
    check_op(both(lambda m, x: m.as_strided(view(x), (3,), (2,), 1)), (4, 5))


def test_as_strided_shares_memory_and_version():
    for m in (E, torch):
        x = m.zeros(6)
        view = m.as_strided(x, (2, 2), (1, 3))
        view[1, 1] = 5.0  # writes x[4]
        x[3] = 7.0
        assert x.tolist() == [0, 0, 0, 7, 5, 0]
        assert view.tolist() == [[0, 7], [0, 5]]
        before = x._version if m is torch else x._version_value
        view.add_(1)
        after = x._version if m is torch else x._version_value
        assert after == before + 1
    assert E.as_strided(E.zeros(6), (2,), (2,), 1).storage_offset() == 1


def test_as_strided_inplace_autograd():
    def fn(m, x):
        y = x * 1
        m.as_strided(y, (2,), (3,), 1).mul_(3.0)
        return y

    check_op(both(fn), (2, 3))


def test_as_strided_gradcheck():
    check_gradcheck(lambda m, x: interop.as_strided(x * 1, (3, 3), (2, 1), 1), (10,))
    check_gradcheck(lambda m, x: interop.as_strided(x.T, (2, 3), (1, 2)), (3, 4))


@pytest.mark.parametrize(
    "size, stride, offset, match",
    [
        ((3,), (-1,), 0, r"Negative strides are not supported at the moment, got strides: \[-1\]"),
        (
            (4, 4),
            (3, 1),
            0,
            r"requiring a storage size of 52 are out of bounds for storage of size 48",
        ),
        ((3,), (1,), -1, "invalid storage offset -1"),
        ((2, 3), (1,), 0, "mismatch in length of strides and shape"),
        ((-2, 3), (1, 1), 0, "Storage size calculation overflowed"),
        ((3,), (1,), 10, "out of bounds for storage of size"),
    ],
)
def test_as_strided_errors(size, stride, offset, match):
    for m in (E, torch):
        x = m.arange(12.0).reshape(3, 4)
        with pytest.raises(RuntimeError, match=match):
            m.as_strided(x, size, stride, offset)


def test_as_strided_needs_a_contiguous_memory_block():
    x = ember.tensor(np.arange(12.0).reshape(3, 4).T)  # owns non-C-contiguous memory
    with pytest.raises(RuntimeError, match=r"as_strided: Ember needs the tensor's memory"):
        interop.as_strided(x, (2,), (1,))


def test_as_strided_():
    for m in (E, torch):
        x = m.arange(6.0)
        before = x._version if m is torch else x._version_value
        out = (interop.as_strided_ if m is E else torch.Tensor.as_strided_)(x, (2, 2), (1, 2), 1)
        assert out is x
        assert x.tolist() == [[1.0, 3.0], [2.0, 4.0]]
        assert tuple(x.stride()) == (1, 2)
        assert (x._version if m is torch else x._version_value) == before + 1


def test_as_strided_inplace_records_the_graph():
    def fn(m, x):
        y = x * 1
        (interop.as_strided_ if m is E else torch.Tensor.as_strided_)(y, (2, 2), (1, 3), 1)
        return y

    check_op(both(fn), (2, 3))


# -- as_strided_scatter, empty_strided --------------------------------------------------------
SCATTER = [
    ((3, 3), (3,), (3,), (4,), None, lambda x: x),
    ((3, 4), (2, 2), (2, 2), (4, 1), 5, lambda x: x),
    ((3, 4), (3,), (3,), (1,), 0, lambda x: x.T),  # geometry in the transposed memory
]
# torch's gradients are right only for src of a contiguous input (see the tests below).
CONTIGUOUS_SCATTER = SCATTER[:2]


@pytest.mark.parametrize("shape, src, size, stride, offset, view", SCATTER)
def test_as_strided_scatter_values(shape, src, size, stride, offset, view):
    check_op(
        both(lambda m, x, s: m.as_strided_scatter(view(x), s, size, stride, offset)),
        shape,
        src,
        grad=False,
    )


@pytest.mark.parametrize("shape, src, size, stride, offset, view", CONTIGUOUS_SCATTER)
def test_as_strided_scatter(shape, src, size, stride, offset, view):
    # Values and src's gradient vs torch (torch's input gradient is wrong: see the next test).
    check_op(
        both(lambda m, x, s: m.as_strided_scatter(view(x.detach()), s, size, stride, offset)),
        shape,
        src,
    )


@pytest.mark.parametrize("shape, src, size, stride, offset, view", SCATTER)
def test_as_strided_scatter_input_grad_zeroes_the_window(shape, src, size, stride, offset, view):
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    s = ember.ones(src)
    out = interop.as_strided_scatter(view(x), s, size, stride, offset)
    g = rng.standard_normal(shape).astype(np.float32)
    (grad,) = ember.autograd.grad(out, [x], view(ember.tensor(g)))
    # Expected: the upstream gradient with the window zeroed, mapped back through view (torch's
    # forward, which is right, builds the window).
    t = torch.as_strided_scatter(view(torch.tensor(g)), torch.zeros(src), size, stride, offset)
    assert_same(grad, view(t))


def test_as_strided_scatter_casts_src_and_gradchecks():
    check_op(
        both(lambda m, x: m.as_strided_scatter(x, m.ones(3, dtype=m.float64), (3,), (4,))),
        (3, 3),
        grad=False,
    )
    check_gradcheck(
        lambda m, x, s: interop.as_strided_scatter(x, s, (2, 2), (3, 1), 1), (3, 3), (2, 2)
    )
    check_gradcheck(lambda m, x, s: interop.as_strided_scatter(x.T, s, (3,), (1,)), (3, 4), (3,))


def test_as_strided_scatter_errors():
    for m in (E, torch):
        with pytest.raises(RuntimeError, match=r"src size = \[2\], slice size = \[3\]"):
            m.as_strided_scatter(m.zeros(3, 3), m.ones(2), (3,), (4,))
        with pytest.raises(RuntimeError, match="storage offset 5, and itemsize 4 requiring"):
            m.as_strided_scatter(m.zeros(3, 3), m.ones(3), (3,), (4,), 5)


@pytest.mark.parametrize(
    "size, stride", [((2, 3), (1, 2)), ((2, 3), (3, 1)), ((2, 3, 4), (1, 8, 2)), ((0, 3), (3, 1))]
)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_empty_strided(size, stride, dtype):
    e_dtype, t_dtype = DTYPES[dtype]
    e = interop.empty_strided(size, stride, dtype=e_dtype)
    t = torch.empty_strided(size, stride, dtype=t_dtype)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.dtype is e_dtype
    e.fill_(1)  # every element is addressable
    assert e.sum().item() == e.numel()


def test_empty_strided_defaults_and_errors():
    e = interop.empty_strided((2, 2), (1, 2), requires_grad=True)
    assert e.dtype is ember.float32 and e.requires_grad
    for m in (E, torch):
        with pytest.raises(RuntimeError, match=r"dimensionality of sizes \(2\) must match"):
            m.empty_strided((2, 3), (1, 2, 3))
        with pytest.raises(RuntimeError, match=r"negative dimension -3: \[2, -3\]"):
            m.empty_strided((2, -3), (1, 2))
    with pytest.raises(RuntimeError, match="CUDA backend is not available yet"):
        interop.empty_strided((2,), (1,), device="cuda")


# -- DLPack and buffers -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_from_dlpack_shares_torch_memory(dtype):
    t = torch.zeros(2, 3, dtype=DTYPES[dtype][1])
    e = interop.from_dlpack(t)
    assert e.dtype is DTYPES[dtype][0] and tuple(e.shape) == (2, 3)
    t[1, 2] = 1
    assert e.tolist()[1][2] == t.tolist()[1][2]
    e.data[0, 0] = 1  # and back
    assert t[0, 0].item() == 1


def test_from_dlpack_of_a_noncontiguous_view():
    t = torch.arange(12.0).reshape(3, 4).T[1:]
    e = interop.from_dlpack(t)
    assert_same(e, t)
    assert e.stride() == t.stride()


def test_torch_from_dlpack_of_an_ember_tensor_shares_memory():
    e = ember.arange(6.0).reshape(2, 3)
    t = torch.from_dlpack(e)
    t[0, 1] = 9.0
    assert e.tolist() == [[0.0, 9.0, 2.0], [3.0, 4.0, 5.0]]
    assert e.__dlpack_device__() == t.__dlpack_device__()


def test_capsule_round_trip():
    e = ember.arange(4.0)
    back = interop.from_dlpack(interop.to_dlpack(e))
    back.data[0] = 5.0
    assert e.tolist() == [5.0, 1.0, 2.0, 3.0]
    t = torch.utils.dlpack.from_dlpack(interop.to_dlpack(e))  # ember -> torch by capsule
    t[1] = 6.0
    assert e.tolist() == [5.0, 6.0, 2.0, 3.0]
    e2 = interop.from_dlpack(torch.utils.dlpack.to_dlpack(t))  # torch -> ember by capsule
    assert_same(e2, t)


def test_from_dlpack_of_numpy_and_ember():
    a = np.arange(3.0)
    e = interop.from_dlpack(a)
    a[0] = 4.0
    assert e.tolist() == [4.0, 1.0, 2.0]
    same = interop.from_dlpack(e)  # a new tensor over the same memory, as torch
    assert same is not e and same.data_ptr() == e.data_ptr()
    copied = interop.from_dlpack(e, copy=True)
    assert copied.data_ptr() != e.data_ptr() and copied.tolist() == e.tolist()
    with pytest.raises(RuntimeError, match="CUDA backend is not available yet"):
        interop.from_dlpack(e, device="cuda")


def test_dlpack_refuses_tensors_that_require_grad():
    for export in (interop.to_dlpack, lambda x: x.__dlpack__()):
        with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
            export(ember.ones(2, requires_grad=True))
    with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
        torch.ones(2, requires_grad=True).__dlpack__()


@pytest.mark.parametrize(
    "dtype, count, offset", [("float32", -1, 0), ("int16", 2, 2), ("uint8", -1, 3), ("int64", 1, 0)]
)
def test_frombuffer(dtype, count, offset):
    raw = bytearray(np.arange(16, dtype=np.uint8).tobytes())
    e = interop.frombuffer(raw, dtype=DTYPES[dtype][0], count=count, offset=offset)
    t = torch.frombuffer(bytearray(raw), dtype=DTYPES[dtype][1], count=count, offset=offset)
    assert_same(e, t)
    e.data[0] = 0  # shares the buffer
    assert raw[offset] == 0


def test_frombuffer_requires_grad_and_array():
    e = interop.frombuffer(bytearray(8), dtype=ember.float32, requires_grad=True)
    assert e.requires_grad and e.shape == (2,)
    a = np.array([1, 2, 3], dtype=np.int32)
    assert interop.frombuffer(a, dtype=ember.int32).tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dtype": "float32"}, r"buffer length \(10 bytes\) after offset \(0 bytes\) must be a"),
        ({"dtype": "int16", "count": 6}, r"requested buffer length \(6 \* 2 bytes\)"),
        ({"dtype": "int16", "offset": 11}, r"offset \(11 bytes\) must be non-negative"),
        ({"dtype": "int16", "count": 0}, r"both buffer length \(10\) and count \(0\)"),
        ({"dtype": "int16", "offset": 1}, r"buffer length \(9 bytes\) after offset \(1 bytes\)"),
    ],
)
def test_frombuffer_errors(kwargs, match):
    for m in (E, torch):
        args = {**kwargs, "dtype": DTYPES[kwargs["dtype"]][0 if m is E else 1]}
        with pytest.raises(ValueError, match=match):
            m.frombuffer(bytearray(10), **args)


def test_frombuffer_non_buffer_and_readonly():
    for m in (E, torch):
        with pytest.raises(ValueError, match="does not implement Python buffer protocol"):
            m.frombuffer(3, dtype=m.int16)
    with pytest.warns(UserWarning, match="The given buffer is not writable"):
        e = interop.frombuffer(bytes(4), dtype=ember.int16)
    assert e.tolist() == [0, 0]


# -- Type and mode queries --------------------------------------------------------------------
def test_can_cast_table():
    for a, (e_a, t_a) in DTYPES.items():
        for b, (e_b, t_b) in DTYPES.items():
            assert interop.can_cast(e_a, e_b) == torch.can_cast(t_a, t_b), (a, b)


def test_typename_and_is_storage():
    for name, (e_dtype, t_dtype) in DTYPES.items():
        e, t = ember.ones(1, dtype=e_dtype), torch.ones(1, dtype=t_dtype)
        assert interop.typename(e) == torch.typename(t).replace("torch.", "ember."), name
    for obj in (3, len, "s", np.ndarray, warnings.warn, test_can_cast_table):
        assert interop.typename(obj) == torch.typename(obj)
    assert interop.typename(ember.nn.Linear) == "ember.nn.linear.Linear"
    assert interop.is_storage(ember.ones(1)) is torch.is_storage(torch.ones(1)) is False


def test_is_inference_mode_enabled_outside_a_block():
    assert interop.is_inference_mode_enabled() is torch.is_inference_mode_enabled() is False


# -- *_copy ops -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args", [(0,), (1, 1), (0, 1, 3), (1, -3, None, 2), (0, -100, 2), (1, 3, 1), (-1, 0, 100, 3)]
)
def test_slice_copy(args):
    check_op(both(lambda m, x: m.slice_copy(x.T, *args)), (5, 4))


def test_copies_do_not_share_memory():
    x = ember.arange(6.0).reshape(2, 3)
    for out in (
        interop_extras.slice_copy(x, 1, 0, 2),
        interop_extras.unfold_copy(x, 1, 2, 1),
        *interop_extras.split_with_sizes_copy(x, [1, 2], 1),
    ):
        out.data[...] = -1
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_slice_copy_errors():
    for m in (E, torch):
        x = m.ones(4, 5)
        with pytest.raises(RuntimeError, match="slice step must be positive"):
            m.slice_copy(x, 0, step=0)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.slice_copy(x, 2)


@pytest.mark.parametrize("sizes, dim", [([1, 3, 1], 0), ([2, 2], -1), ([0, 5], 0)])
def test_split_with_sizes_copy(sizes, dim):
    check_op(both(lambda m, x: m.split_with_sizes_copy(x[:, :4], sizes, dim)), (5, 6))


def test_split_with_sizes_copy_error():
    for m in (E, torch):
        with pytest.raises(RuntimeError, match=r"split_sizes to sum exactly to 5 .*\[2, 2\]"):
            m.split_with_sizes_copy(m.ones(5), [2, 2])


@pytest.mark.parametrize("args", [(0, 2, 1), (1, 3, 2), (-1, 1, 1)])
def test_unfold_copy(args):
    check_op(both(lambda m, x: m.unfold_copy(x.T, *args)), (5, 4))


def test_max_pool1d_with_indices():
    check_op(both(lambda m, x: m.max_pool1d_with_indices(x, 3, 2, 1)), (2, 3, 9))


# -- deprecated norms -------------------------------------------------------------------------
@pytest.mark.parametrize("dim, keepdim", [((0, 1), False), (0, True), (-1, False)])
def test_frobenius_norm(dim, keepdim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_op(both(lambda m, x: m.frobenius_norm(x, dim, keepdim)), (3, 4))


@pytest.mark.parametrize("args", [(), (True,), ((0, 1),), ((1, 2), True)])
def test_nuclear_norm(args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        shape = (2, 3, 4) if args and args[0] == (1, 2) else (3, 4)
        check_op(both(lambda m, x: m.nuclear_norm(x, *args)), shape, rtol=1e-3, atol=1e-4)


def test_deprecated_norms_warn():
    with pytest.warns(UserWarning, match="frobenius_norm is deprecated"):
        interop_extras.frobenius_norm(ember.ones(2, 2), (0, 1))
    with pytest.warns(UserWarning, match="nuclear_norm is deprecated"):
        interop_extras.nuclear_norm(ember.ones(2, 2))


# -- histogramdd ------------------------------------------------------------------------------
POINTS = np.random.default_rng(1).uniform(-1.0, 2.0, (40, 3)).astype(np.float32)


@pytest.mark.parametrize(
    "bins, kwargs",
    [
        (4, {}),
        ([2, 3, 5], {}),
        ([3, 3, 2], {"range": [0.0, 1.0, -1.0, 1.0, 0.0, 2.0]}),
        (3, {"density": True}),
        ([2, 2, 3], {"weight": True}),
        ("tensors", {}),
    ],
)
def test_histogramdd(bins, kwargs):
    weight = np.random.default_rng(2).uniform(0, 1, 40).astype(np.float32)
    edges = [np.array(e, dtype=np.float32) for e in ([-1, 0, 2], [-0.5, 0.5, 1, 2], [0, 1])]

    def fn(m, x):
        b = [m.tensor(e) for e in edges] if bins == "tensors" else bins
        kw = dict(kwargs)
        if kw.get("weight"):
            kw["weight"] = m.tensor(weight)
        hist, bin_edges = m.histogramdd(x, b, **kw)
        return hist, list(bin_edges)

    check_op(both(fn), inputs=[POINTS], grad=False)


def test_histogramdd_batched_points():
    check_op(both(lambda m, x: m.histogramdd(x.reshape(4, 10, 3), 3)[0]), (40, 3), grad=False)


def test_histogramdd_errors():
    for m in (E, torch):
        with pytest.raises(NotImplementedError, match="\"histogramdd\" not implemented for 'Long'"):
            m.histogramdd(m.ones(2, 2, dtype=m.int64), 2)
        with pytest.raises(RuntimeError, match="The size of bins must be equal to the innermost"):
            m.histogramdd(m.ones(4, 2), [2, 3, 4])


# -- low-rank SVD / PCA -----------------------------------------------------------------------
def low_rank(m, n, rank, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))).astype(np.float32)


@pytest.mark.parametrize("shape", [(12, 7), (6, 11)])
def test_svd_lowrank_recovers_a_low_rank_matrix(shape):
    a = low_rank(*shape, rank=3)
    ember.manual_seed(0)
    U, S, V = interop_extras.svd_lowrank(ember.tensor(a), q=4)
    tU, tS, tV = torch.svd_lowrank(torch.tensor(a), q=4)
    assert tuple(U.shape) == tuple(tU.shape) and tuple(V.shape) == tuple(tV.shape)
    assert S.dtype is ember.float32 and tuple(S.shape) == tuple(tS.shape)
    exact = torch.linalg.svdvals(torch.tensor(a))[:4].numpy()
    np.testing.assert_allclose(S.data[:3], exact[:3], rtol=1e-4)
    recon = U.data @ np.diag(S.data) @ V.data.T
    np.testing.assert_allclose(recon, a, atol=1e-4)
    np.testing.assert_allclose(U.data.T @ U.data, np.eye(4), atol=1e-5)


def test_svd_lowrank_approximates_the_top_singular_values():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((30, 20)) * np.logspace(0, -3, 20)  # decaying spectrum
    a = a.astype(np.float64)
    _, S, _ = interop_extras.svd_lowrank(ember.tensor(a), q=8, niter=4)
    exact = np.linalg.svd(a, compute_uv=False)[:3]
    np.testing.assert_allclose(S.data[:3], exact, rtol=1e-3)


def test_svd_lowrank_with_M_and_batches():
    a = np.stack([low_rank(8, 5, 2, seed=s) for s in range(3)])  # (3, 8, 5)
    mean = a.mean(axis=-2, keepdims=True)
    U, S, V = interop_extras.svd_lowrank(ember.tensor(a + mean), q=3, M=ember.tensor(mean))
    assert tuple(U.shape) == (3, 8, 3) and tuple(S.shape) == (3, 3) and tuple(V.shape) == (3, 5, 3)
    recon = U.data @ (S.data[..., None] * np.swapaxes(V.data, -1, -2))
    np.testing.assert_allclose(recon, a, atol=1e-4)


def test_pca_lowrank_matches_centred_svd():
    a = low_rank(15, 6, 3, seed=4) + 5.0
    U, S, V = interop_extras.pca_lowrank(ember.tensor(a), q=3)
    _, tS, _ = torch.pca_lowrank(torch.tensor(a), q=3)
    np.testing.assert_allclose(S.data, tS.numpy(), rtol=1e-3)
    centred = a - a.mean(axis=0)
    np.testing.assert_allclose(U.data @ np.diag(S.data) @ V.data.T, centred, atol=1e-4)
    U, S, V = interop_extras.pca_lowrank(ember.tensor(a))  # q = min(6, m, n)
    assert tuple(S.shape) == tuple(torch.pca_lowrank(torch.tensor(a))[1].shape)


def test_svd_lowrank_is_differentiable():
    a = torch.tensor(low_rank(6, 4, 4, seed=5), dtype=torch.float64)
    x = ember.tensor(a.numpy(), requires_grad=True)
    _, S, _ = interop_extras.svd_lowrank(x, q=4)  # full rank: S are exact singular values
    (g,) = ember.autograd.grad(S.sum(), [x])
    ta = a.clone().requires_grad_()
    (tg,) = torch.autograd.grad(torch.linalg.svdvals(ta).sum(), [ta])
    np.testing.assert_allclose(g.data, tg.numpy(), atol=1e-6)


def test_pca_lowrank_errors():
    for m in (E, torch):
        with pytest.raises(ValueError, match=r"q\(=7\) must be non-negative integer and not"):
            m.pca_lowrank(m.ones(5, 6), q=7)
        with pytest.raises(ValueError, match=r"niter\(=-1\) must be non-negative integer"):
            m.pca_lowrank(m.ones(5, 6), niter=-1)


# -- Tensor methods (need the lead's wiring of ember.ops) --------------------------------------
def test_tensor_methods():
    for m in (ember, torch):
        x = m.arange(12.0).reshape(3, 4)
        view = x.as_strided((2, 2), (1, 4), 1)
        assert view.tolist() == [[1.0, 5.0], [2.0, 6.0]]
        out = x.as_strided_scatter(m.zeros(2), (2,), (5,))
        assert out.tolist()[0][0] == out.tolist()[1][1] == 0.0
        assert x.clone().as_strided_((3,), (4,)).tolist() == [0.0, 4.0, 8.0]
    assert ember.from_dlpack is interop.from_dlpack and ember.histogramdd is not None
    a = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    e, t = ember.tensor(a), torch.tensor(a)
    assert_same(tuple(e.geqrf()), tuple(t.geqrf()))
    h, tau = t.geqrf()
    eh, etau = ember.tensor(h.contiguous().numpy()), ember.tensor(tau.numpy())
    assert_same(eh.ormqr(etau, e[:, :2]), h.ormqr(tau, t[:, :2]))
    assert_same(e.nonzero_static(size=2), t.nonzero_static(size=2))


# -- Tensor metadata extras (tensor.py) -------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.ones(2, 1, 3),
        lambda m: m.ones(1, 1).t(),
        lambda m: m.ones(3, 1, 2).permute(1, 0, 2),
        lambda m: m.ones(2, 3, 4).permute(2, 0, 1),
        lambda m: m.ones(4, 5)[:, 1:].T,
        lambda m: m.ones(()),
    ],
)
def test_dim_order(make):
    assert make(ember).dim_order() == make(torch).dim_order()


def test_backend_and_layout_queries():
    e, t = ember.ones(2, 3), torch.ones(2, 3)
    for name in "is_mps is_xpu is_xla is_ipu is_maia is_mtia is_vulkan is_sparse_csr".split():
        assert getattr(e, name) is getattr(t, name) is False, name
    assert e.is_distributed() is t.is_distributed() is False
    assert (e.dense_dim(), e.sparse_dim()) == (t.dense_dim(), t.sparse_dim())
    assert e.to_dense() is e and t.to_dense() is t
    assert e.to_dense(ember.float64).dtype is ember.float64
    assert e.const_data_ptr() == e.data_ptr() == e[0].const_data_ptr()


def test_imag_of_a_real_tensor_raises():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-comp"):
            _ = m.ones(2).imag


@pytest.mark.parametrize("size, fill_value", [(3, -1), (1, -1), (0, 0), (6, 7)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_nonzero_static(size, fill_value, dtype):
    data = np.array([[0, 1, 2], [3, 0, 0]]).astype(dtype)
    check_op(
        both(lambda m, x: m.nonzero_static(x, size=size, fill_value=fill_value)),
        inputs=[data],
        dtype=dtype,
        grad=False,
    )


def test_nonzero_static_errors():
    for m in (E, torch):
        with pytest.raises(RuntimeError, match="'size' must be an non-negative integer"):
            m.nonzero_static(m.ones(3), size=-1)


@pytest.mark.parametrize(
    "size, layout", [((2, 3, 4), (2, 0, 1)), ((2, 3, 4, 5), (0, 2, 3, 1)), ((3, 1, 2), (1, 0, 2))]
)
def test_empty_permuted(size, layout):
    e = interop.empty_permuted(size, layout, dtype=ember.float64, requires_grad=True)
    t = torch.empty_permuted(size, layout, dtype=torch.float64)
    assert tuple(e.shape) == tuple(t.shape) and e.stride() == t.stride()
    assert e.dtype is ember.float64 and e.requires_grad


@pytest.mark.parametrize(
    "layout, match",
    [
        ((0,), r"len\(size\) = 2 is not equal to len\(physical_layout\) = 1"),
        ((0, 0), "Duplicate dim not allowed"),
        ((0, 2), r"expected to be between 0 and 1, but got 2 at index 1"),
    ],
)
def test_empty_permuted_errors(layout, match):
    for m in (E, torch):
        with pytest.raises(RuntimeError, match=match):
            m.empty_permuted((2, 3), layout)


def test_as_strided_copy():
    check_op(both(lambda m, x: m.as_strided_copy(x.T, (2, 2), (1, 4), 1)), (3, 4))
    out = interop.as_strided_copy(ember.arange(6.0), (2, 2), (1, 2))
    assert out.is_contiguous() and out._base is None


# -- geqrf / ormqr ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (1, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_geqrf(shape, dtype):
    check_op(both(lambda m, x: tuple(m.geqrf(x.mT))), shape, dtype=dtype, grad=False)


def test_geqrf_backward_raises_and_errors():
    a, _ = interop_extras.geqrf(ember.randn(3, 3, requires_grad=True))
    with pytest.raises(RuntimeError, match="the derivative for 'geqrf' is not implemented"):
        a.sum().backward()
    for m in (E, torch):
        with pytest.raises(RuntimeError, match="geqrf: input must have at least 2 dimensions"):
            m.geqrf(m.ones(3))
        with pytest.raises(NotImplementedError, match="\"geqrf_cpu\" not implemented for 'Long'"):
            m.geqrf(m.ones(3, 3, dtype=m.int64))


ORMQR = [
    ((4, 3), (4, 2), True, False),
    ((4, 3), (4, 2), True, True),
    ((4, 3), (2, 4), False, False),
    ((4, 3), (2, 4), False, True),
    ((3, 5), (3, 2), True, False),  # a wide matrix: min(m, n) = 3 reflectors
    ((2, 4, 4), (2, 4, 3), True, True),
]


@pytest.mark.parametrize("a_shape, c_shape, left, transpose", ORMQR)
def test_ormqr(a_shape, c_shape, left, transpose):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    c = rng.standard_normal(c_shape).astype(np.float32)
    h, tau = (x.numpy() for x in torch.geqrf(torch.tensor(a)))  # LAPACK's form, as input
    check_op(
        both(lambda m, x, t, o: m.ormqr(x, t, o, left, transpose)),
        inputs=[h, tau, c],
        rtol=1e-4,
        atol=1e-5,
    )


def test_ormqr_gradcheck():
    # C-ordered copies: torch's geqrf result is column-major.
    h, tau = (x.contiguous().numpy() for x in torch.geqrf(torch.randn(4, 3, dtype=torch.float64)))
    c = np.random.default_rng(1).standard_normal((4, 2))
    check_gradcheck(lambda m, x, t, o: interop_extras.ormqr(x, t, o), inputs=[h, tau, c])


@pytest.mark.parametrize(
    "args, match",
    [
        (((3,), (3,), (4, 2)), "input must have at least 2 dimensions"),
        (((4, 3), (3,), (4,)), "other must have at least 2 dimensions"),
        (((4, 3), (4,), (4, 2)), r"tau.shape\[-1\] must be equal to min"),
        (((4, 3), (3,), (5, 2)), r"must be equal to"),
        (((4, 3), (1, 3), (4, 2)), "Expected tau to have one dimension less than input"),
    ],
)
def test_ormqr_errors(args, match):
    for m in (E, torch):
        tensors = [m.ones(*s) for s in args]
        with pytest.raises(RuntimeError, match=match):
            m.ormqr(*tensors)
    for m in (E, torch):
        with pytest.raises(RuntimeError, match="Expected input and other to have the same dtype"):
            m.ormqr(m.ones(4, 3), m.ones(3), m.ones(4, 2, dtype=m.float64))


def test_is_inference_mode_enabled_tracks_blocks_and_decorators():
    def states(m):
        seen = [m.is_inference_mode_enabled()]
        with m.inference_mode():
            seen += [m.is_inference_mode_enabled(), m.is_grad_enabled()]
            with m.inference_mode(False):
                seen.append(m.is_inference_mode_enabled())
            seen.append(m.is_inference_mode_enabled())

        @m.inference_mode()
        def inside():
            return m.is_inference_mode_enabled(), m.is_grad_enabled()

        return [*seen, inside(), m.is_inference_mode_enabled(), m.is_grad_enabled()]

    assert states(ember) == states(torch)
