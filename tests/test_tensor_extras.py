"""Tensor methods added from torch's list: in-place twins, metadata, new_*, select, resize_, ...

Every case runs in Ember and in PyTorch and compares values, dtype, version bumps, gradients
and error messages.
"""

import warnings

import numpy as np
import pytest
import torch

import ember
from ember.ops import tensor_extras as ex
from tests.helpers import assert_same, check_gradcheck, check_op

RNG = np.random.default_rng(0)
X = RNG.uniform(0.2, 1.5, (3, 4)).astype("float32")
Y = RNG.uniform(0.2, 1.5, (3, 4)).astype("float32")
SQ = RNG.uniform(0.2, 1.5, (3, 3)).astype("float32")
A = RNG.uniform(-1, 1, (3, 5)).astype("float32")
B = RNG.uniform(-1, 1, (5, 4)).astype("float32")
V = RNG.uniform(-1, 1, (4,)).astype("float32")
BA = RNG.uniform(-1, 1, (2, 3, 5)).astype("float32")
BB = RNG.uniform(-1, 1, (2, 5, 4)).astype("float32")


def lib(m, a):
    return m.tensor(a)


# (name, fn(m, x)) applying the in-place method to x, a float32 (3, 4) tensor in (0.2, 1.5).
CASES = [
    ("acos_", lambda m, x: x.mul_(0.5).acos_()),
    ("arccos_", lambda m, x: x.mul_(0.5).arccos_()),
    ("acosh_", lambda m, x: x.add_(1).acosh_()),
    ("arccosh_", lambda m, x: x.add_(1).arccosh_()),
    ("asin_", lambda m, x: x.mul_(0.5).asin_()),
    ("arcsin_", lambda m, x: x.mul_(0.5).arcsin_()),
    ("asinh_", lambda m, x: x.asinh_()),
    ("arcsinh_", lambda m, x: x.arcsinh_()),
    ("atan_", lambda m, x: x.atan_()),
    ("arctan_", lambda m, x: x.arctan_()),
    ("atanh_", lambda m, x: x.mul_(0.5).atanh_()),
    ("arctanh_", lambda m, x: x.mul_(0.5).arctanh_()),
    ("atan2_", lambda m, x: x.atan2_(lib(m, Y))),
    ("arctan2_", lambda m, x: x.arctan2_(lib(m, Y)[0])),
    ("cosh_", lambda m, x: x.cosh_()),
    ("sinh_", lambda m, x: x.sinh_()),
    ("tan_", lambda m, x: x.tan_()),
    ("hypot_", lambda m, x: x.hypot_(lib(m, Y))),
    ("erf_", lambda m, x: x.erf_()),
    ("erfc_", lambda m, x: x.erfc_()),
    ("erfinv_", lambda m, x: x.mul_(0.5).erfinv_()),
    ("exp2_", lambda m, x: x.exp2_()),
    ("expm1_", lambda m, x: x.expm1_()),
    ("log10_", lambda m, x: x.log10_()),
    ("log1p_", lambda m, x: x.log1p_()),
    ("log2_", lambda m, x: x.log2_()),
    ("logit_", lambda m, x: x.mul_(0.5).logit_()),
    ("logit_eps", lambda m, x: x.mul_(0.5).logit_(0.3)),
    ("fix_", lambda m, x: x.mul_(3).fix_()),
    ("sgn_", lambda m, x: x.sub_(0.8).sgn_()),
    ("absolute_", lambda m, x: x.sub_(0.8).absolute_()),
    ("negative_", lambda m, x: x.negative_()),
    ("floor_divide_", lambda m, x: x.floor_divide_(0.3)),
    ("true_divide_", lambda m, x: x.true_divide_(lib(m, Y))),
    ("divide_", lambda m, x: x.divide_(lib(m, Y), rounding_mode="trunc")),
    ("multiply_", lambda m, x: x.multiply_(lib(m, Y))),
    ("subtract_", lambda m, x: x.subtract_(lib(m, Y), alpha=2)),
    ("cumsum_", lambda m, x: x.cumsum_(1)),
    ("cumprod_", lambda m, x: x.cumprod_(0)),
    ("addmm_", lambda m, x: x.addmm_(lib(m, A), lib(m, B), beta=0.5, alpha=2)),
    ("addmv_", lambda m, x: x[0].addmv_(lib(m, B).T, lib(m, A)[0, :5])),
    ("addbmm_", lambda m, x: x.addbmm_(lib(m, BA), lib(m, BB))),
    ("baddbmm_", lambda m, x: x.unsqueeze(0).baddbmm_(lib(m, BA)[:1], lib(m, BB)[:1], alpha=0.5)),
    ("fill_diagonal_", lambda m, x: x.fill_diagonal_(-2.0)),
    ("fill_diagonal_wrap", lambda m, x: x.T.fill_diagonal_(3.0, wrap=True)),
    (
        "index_put_",
        lambda m, x: x.index_put_((m.tensor([0, 2]), m.tensor([1, 3])), lib(m, Y)[0, :2]),
    ),
    (
        "index_put_acc",
        lambda m, x: x.index_put_((m.tensor([0, 0, 2]),), lib(m, Y)[:3], accumulate=True),
    ),
]

COMPARISONS = [
    ("eq_", lambda m, x: x.eq_(lib(m, Y))),
    ("ne_", lambda m, x: x.ne_(0.5)),
    ("not_equal_", lambda m, x: x.not_equal_(lib(m, X))),
    ("lt_", lambda m, x: x.lt_(lib(m, Y))),
    ("less_", lambda m, x: x.less_(1.0)),
    ("le_", lambda m, x: x.le_(lib(m, Y)[0])),
    ("less_equal_", lambda m, x: x.less_equal_(1.0)),
    ("gt_", lambda m, x: x.gt_(lib(m, Y))),
    ("greater_", lambda m, x: x.greater_(1.0)),
    ("ge_", lambda m, x: x.ge_(lib(m, Y))),
    ("greater_equal_", lambda m, x: x.greater_equal_(0.8)),
    ("logical_and_", lambda m, x: x.sub_(0.8).floor_().logical_and_(lib(m, Y))),
    ("logical_or_", lambda m, x: x.sub_(0.8).floor_().logical_or_(lib(m, Y) - lib(m, Y))),
    ("logical_xor_", lambda m, x: x.sub_(0.8).floor_().logical_xor_(lib(m, Y))),
    ("logical_not_", lambda m, x: x.sub_(0.8).floor_().logical_not_()),
]


@pytest.mark.parametrize("name, fn", CASES + COMPARISONS, ids=[c[0] for c in CASES + COMPARISONS])
def test_inplace_values_and_version(name, fn):
    e, t = ember.tensor(X), torch.tensor(X)
    e_out, t_out = fn(ember, e), fn(torch, t)
    assert_same(e_out, t_out)
    assert_same(e, t)
    assert e._version[0] == t._version


@pytest.mark.parametrize("name, fn", CASES + COMPARISONS, ids=[c[0] for c in CASES + COMPARISONS])
def test_inplace_gradient_through_non_leaf(name, fn):
    g = RNG.standard_normal((3, 4)).astype("float32")
    grads = []
    for m in (ember, torch):
        leaf = m.tensor(X, requires_grad=True)
        h = leaf * 1.5
        fn(m, h)
        assert h.requires_grad
        try:
            (h * m.tensor(g)).sum().backward()
        except (NotImplementedError, RuntimeError) as err:  # torch lacks some (acosh_, ...)
            assert m is torch and "derivative" in str(err)
            pytest.skip("torch has no derivative for this in-place op")
        grads.append(leaf.grad if m is ember else torch.zeros_like(leaf) + leaf.grad)
    assert_same(grads[0], grads[1])


@pytest.mark.parametrize("name, fn", CASES[:6], ids=[c[0] for c in CASES[:6]])
def test_inplace_on_leaf_requiring_grad_raises(name, fn):
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            fn(m, m.tensor(X, requires_grad=True))


def test_inplace_through_view_updates_base():
    for m in (ember, torch):
        leaf = m.tensor(X, requires_grad=True)
        h = leaf * 2.0
        h[1:].mul_(0.25).acos_()
        (h * h).sum().backward()
        if m is ember:
            e_h, e_g = h, leaf.grad
        else:
            assert_same(e_h, h)
            assert_same(e_g, leaf.grad)


@pytest.mark.parametrize(
    "name, dtype, fn",
    [
        ("eq_int", "int64", lambda m, x: x.eq_(2)),
        ("lt_int_float", "int64", lambda m, x: x.lt_(1.5)),
        ("bitwise_and_", "int32", lambda m, x: x.bitwise_and_(6)),
        ("bitwise_or_", "int64", lambda m, x: x.bitwise_or_(m.tensor([1, 2, 4, 8]))),
        ("bitwise_xor_", "int16", lambda m, x: x.bitwise_xor_(3)),
        ("bitwise_not_", "int64", lambda m, x: x.bitwise_not_()),
        ("bitwise_left_shift_", "int64", lambda m, x: x.bitwise_left_shift_(2)),
        ("bitwise_right_shift_", "int64", lambda m, x: x.bitwise_right_shift_(1)),
        ("logical_not_bool", "bool", lambda m, x: x.logical_not_()),
        ("floor_divide_int", "int64", lambda m, x: x.floor_divide_(2)),
        ("cumsum_int", "int64", lambda m, x: x.cumsum_(0)),
    ],
)
def test_inplace_integer_dtypes(name, dtype, fn):
    a = np.array([[1, 2, 3, 4], [0, 5, 2, 7]]).astype(dtype)
    e, t = ember.tensor(a), torch.tensor(a)
    fn(ember, e)
    fn(torch, t)
    assert_same(e, t)


def test_inplace_dtype_errors():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired"):
            m.tensor([1, 2]).true_divide_(2)
        with pytest.raises(RuntimeError, match="the base given to float_power_ has dtype Float"):
            m.tensor([1.0, 2.0]).float_power_(2)
    e, t = (
        ember.tensor([1.0, 2.0], dtype=ember.float64),
        torch.tensor([1.0, 2.0], dtype=torch.float64),
    )
    assert_same(e.float_power_(3), t.float_power_(3))


def test_function_forms_match_methods():
    e = ember.tensor(X)
    ex.cosh_(e)
    assert_same(e, torch.cosh_(torch.tensor(X)))
    e = ember.tensor(X)
    ex.eq_(e, 1.0)
    assert_same(e, torch.tensor(X).eq_(1.0))


# -- metadata in-place (squeeze_, unsqueeze_, transpose_, t_, swapaxes_, resize_) --------------
SHAPE_CASES = [
    ("squeeze_", (3, 1, 4), lambda m, x: x.squeeze_()),
    ("squeeze_dim", (3, 1, 4), lambda m, x: x.squeeze_(1)),
    ("squeeze_dims", (1, 3, 1), lambda m, x: x.squeeze_((0, 2))),
    ("unsqueeze_", (3, 4), lambda m, x: x.unsqueeze_(-1)),
    ("transpose_", (2, 3, 4), lambda m, x: x.transpose_(0, 2)),
    ("swapaxes_", (2, 3, 4), lambda m, x: x.swapaxes_(1, 2)),
    ("swapdims_", (2, 3, 4), lambda m, x: x.swapdims_(0, 1)),
    ("t_", (3, 4), lambda m, x: x.t_()),
    ("t_1d", (4,), lambda m, x: x.t_()),
]


@pytest.mark.parametrize("name, shape, fn", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_metadata_inplace(name, shape, fn):
    a = RNG.standard_normal(shape).astype("float32")
    e, t = ember.tensor(a), torch.tensor(a)
    assert fn(ember, e) is e
    fn(torch, t)
    assert_same(e, t)
    assert e.stride() == t.stride()
    assert e._version[0] == t._version
    e.add_(1)  # still the same memory as a view would be: writes land in e
    t.add_(1)
    assert_same(e, t)


@pytest.mark.parametrize("name, shape, fn", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_metadata_inplace_gradient(name, shape, fn):
    a = RNG.standard_normal(shape).astype("float32")
    out = []
    for m in (ember, torch):
        leaf = m.tensor(a, requires_grad=True)
        h = leaf * 2.0
        fn(m, h)
        g = m.tensor(np.arange(h.numel(), dtype="float32").reshape(tuple(h.shape)))
        (h * g).sum().backward()
        out.append(leaf.grad)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            fn(m, m.tensor(a, requires_grad=True))
    assert_same(*out)


def test_metadata_inplace_errors():
    for m in (ember, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.ones(2, 3).squeeze_(5)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.ones(2, 3).transpose_(0, 5)
        with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions"):
            m.ones(2, 3, 4).t_()


@pytest.mark.parametrize(
    "make, sizes",
    [
        (lambda m: m.arange(12.0).reshape(3, 4), (4, 3)),
        (lambda m: m.arange(12.0).reshape(3, 4), ((2, 6),)),
        (lambda m: m.arange(12.0).reshape(3, 4), (5,)),
        (lambda m: m.arange(12.0).reshape(3, 4)[1:], (2, 2)),
        (lambda m: m.arange(12.0).reshape(3, 4).t(), (12,)),
    ],
)
def test_resize_within_storage(make, sizes):
    e, t = make(ember), make(torch)
    assert e.resize_(*sizes) is e
    t.resize_(*sizes)
    assert_same(e, t)


def test_resize_grow_and_resize_as():
    e, t = ember.arange(6.0), torch.arange(6.0)
    e.resize_(2, 4)
    t.resize_(2, 4)
    assert e.shape == (2, 4)
    assert_same(e.reshape(-1)[:6], t.reshape(-1)[:6])  # torch leaves the rest uninitialised
    e2, t2 = ember.arange(6.0), torch.arange(6.0)
    e2.resize_as_(ember.ones(3, 2))
    t2.resize_as_(torch.ones(3, 2))
    assert_same(e2, t2)
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            m.ones(3, requires_grad=True).resize_(2)
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            (m.ones(3, requires_grad=True) * 2).resize_(2)


# -- select, fill_diagonal_, index_put ------------------------------------------------------
@pytest.mark.parametrize("dim, index", [(0, 1), (1, -1), (-1, 2), (2, 0)])
def test_select(dim, index):
    check_op(lambda m, x: x.select(dim, index), (2, 3, 4))
    check_op(lambda m, x: x.transpose(0, 2).select(dim, index), (4, 3, 2))


def test_select_is_a_view_and_gradcheck():
    e = ember.zeros(2, 3)
    e.select(1, 1).fill_(5.0)
    assert e[:, 1].tolist() == [5.0, 5.0]
    check_gradcheck(lambda m, x: x.select(1, 0), (2, 3))


def test_select_errors():
    for m in (ember, torch):
        with pytest.raises(
            IndexError,
            match=r"select\(\): index 5 out of range for tensor of size \[2, 3\] at dimension 1",
        ):
            m.ones(2, 3).select(1, 5)
        with pytest.raises(IndexError, match=r"index -4 out of range"):
            m.ones(2, 3).select(-1, -4)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.ones(2, 3).select(2, 0)
        with pytest.raises(IndexError, match=r"select\(\) cannot be applied to a 0-dim tensor"):
            m.ones(()).select(0, 0)


@pytest.mark.parametrize(
    "shape, wrap",
    [
        ((3, 3), False),
        ((7, 3), False),
        ((7, 3), True),
        ((3, 7), True),
        ((3, 3, 3), False),
        ((2, 2, 2, 2), False),
    ],
)
def test_fill_diagonal_shapes(shape, wrap):
    a = RNG.standard_normal(shape).astype("float32")
    e, t = ember.tensor(a), torch.tensor(a)
    e.fill_diagonal_(9.0, wrap=wrap)
    t.fill_diagonal_(9.0, wrap=wrap)
    assert_same(e, t)


def test_fill_diagonal_errors_and_int():
    for m in (ember, torch):
        with pytest.raises(RuntimeError, match="dimensions must larger than 1"):
            m.ones(3).fill_diagonal_(1)
        with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
            m.ones(2, 3, 4).fill_diagonal_(1)
    assert_same(
        ember.zeros(3, 3, dtype=ember.int64).fill_diagonal_(4),
        torch.zeros(3, 3, dtype=torch.int64).fill_diagonal_(4),
    )


def test_index_put_method_and_gradcheck():
    idx = np.array([0, 2, 0])
    check_op(lambda m, x, v: x.index_put((m.tensor(idx),), v, accumulate=True), (3, 4), (3, 4))
    check_op(lambda m, x, v: x.index_put((m.tensor(idx[:2]),), v), (3, 4), (4,))
    check_gradcheck(
        lambda m, x, v: x.index_put((m.tensor(idx),), v, accumulate=True), (3, 2), (3, 2)
    )


# -- other methods that delegate to existing ops -------------------------------------------
def test_delegating_methods():
    check_op(lambda m, x: x.add(1.5).arccosh(), (3, 4), low=0, high=2)
    check_op(lambda m, x: x.arcsinh(), (3, 4))
    check_op(lambda m, x: x.mul(0.4).arctanh(), (3, 4))
    check_op(lambda m, x: x.trace(), (3, 4))
    check_op(lambda m, x, y: x.cross(y, dim=1), (2, 3), (2, 3))
    check_op(lambda m, x, y: x.vdot(y), (5,), (5,))
    check_op(lambda m, x: x.hardshrink(0.3), (3, 4))
    check_op(lambda m, x, w: x.prelu(w), (2, 3, 4), (3,))
    check_op(lambda m, x: x.narrow_copy(1, 1, 2), (3, 4))
    check_op(lambda m, x: x.split_with_sizes([1, 3], 1), (3, 4))
    check_op(lambda m, x: x.unsafe_split(2, 1), (3, 4))
    check_op(lambda m, x: x.unsafe_chunk(3, 0), (3, 4))


# -- metadata queries ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "int8", "uint8", "bool"])
def test_is_signed(dtype):
    assert (
        ember.zeros(2, dtype=getattr(ember, dtype)).is_signed()
        == torch.zeros(2, dtype=getattr(torch, dtype)).is_signed()
    )


def test_flags_and_pointers():
    e, t = ember.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for attr in ("is_cpu", "is_meta", "is_sparse", "is_quantized", "is_cuda"):
        assert getattr(e, attr) == getattr(t, attr), attr
    assert e.get_device() == t.get_device() == -1
    assert e.is_inference() == t.is_inference()
    assert e.data_ptr() == e.data.ctypes.data
    assert e[1:].data_ptr() == e.data_ptr() + 4 * 4
    for view in (lambda x: x[1:], lambda x: x[1:, 2:], lambda x: x[2], lambda x: x.t()[1:]):
        assert view(e).storage_offset() == view(t).storage_offset()
    assert e.storage_offset() == 0
    assert e.is_same_size(ember.ones(3, 4)) and not e.is_same_size(ember.ones(4, 3))
    assert e.is_set_to(e) and t.is_set_to(t)
    assert not e.is_set_to(e[:]) or e[:].shape == e.shape
    assert not e.is_set_to(e.clone())
    assert not e.is_set_to(e.t())
    assert e.is_shared() == t.is_shared() is False
    assert e.share_memory_() is e and e.is_shared()
    assert e.pin_memory() is e and not e.is_pinned()


def test_is_nonzero():
    for m in (ember, torch):
        assert m.tensor([1.5]).is_nonzero() and not m.tensor(0).is_nonzero()
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one"):
            m.ones(3).is_nonzero()
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values"):
            m.ones(0).is_nonzero()


# -- new_* -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: x.new_zeros(2, 3),
        lambda m, x: x.new_zeros((2, 3), dtype=m.int64),
        lambda m, x: x.new_ones((4,)),
        lambda m, x: x.new_ones(2, dtype=m.float64, requires_grad=True),
        lambda m, x: x.new_full((2, 2), 7),
        lambda m, x: x.new_full([3], 2.5, dtype=m.float16),
        lambda m, x: x.new_tensor([[1, 2], [3, 4]]),
        lambda m, x: x.new_tensor([1.5, 2.5], dtype=m.int32),
        lambda m, x: x.new_empty(2, 3).zero_(),
        lambda m, x: x.new_empty_strided((2, 3), (3, 1)).zero_(),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "int16"])
def test_new_factories(fn, dtype):
    e = fn(ember, ember.ones(1, dtype=getattr(ember, dtype)))
    t = fn(torch, torch.ones(1, dtype=getattr(torch, dtype)))
    assert_same(e.detach(), t.detach())
    assert e.requires_grad == t.requires_grad
    assert e.device == ember.ones(1).device


def test_new_tensor_from_tensor_warns_and_copies():
    src = ember.ones(3)
    with pytest.warns(UserWarning, match="recommended to use sourceTensor.detach"):
        out = src.new_tensor(src)
    out.add_(1)
    assert src.tolist() == [1.0, 1.0, 1.0]


# -- apply_ / map_ ---------------------------------------------------------------------------
def test_apply_and_map():
    for dtype in ("float32", "int64"):
        a = np.arange(6).reshape(2, 3).astype(dtype)
        e, t = ember.tensor(a), torch.tensor(a)
        assert e.apply_(lambda v: v * 2 + 1) is e
        t.apply_(lambda v: v * 2 + 1)
        assert_same(e, t)
        b = np.array([10, 20, 30]).astype(dtype)
        e.map_(ember.tensor(b), lambda x, y: x - y)
        t.map_(torch.tensor(b), lambda x, y: x - y)
        assert_same(e, t)
        assert e._version[0] == 2  # torch leaves the version alone; Ember bumps it (safer)
    e, t = ember.arange(6.0).reshape(2, 3).t(), torch.arange(6.0).reshape(2, 3).t()
    e.apply_(lambda v: v * v)
    t.apply_(lambda v: v * v)
    assert_same(e, t)


def test_apply_and_map_errors():
    for m in (ember, torch):
        with pytest.raises(
            RuntimeError, match=r"Can't call apply_\(\) on Variable that requires grad"
        ):
            m.ones(2, requires_grad=True).apply_(lambda v: v)
        with pytest.raises(
            RuntimeError, match=r"Can't call map_\(\) on Variable that requires grad"
        ):
            m.ones(2, requires_grad=True).map_(m.ones(2), lambda a, b: a)
        with pytest.raises(TypeError, match="must be real number, not str"):
            m.ones(2).apply_(lambda v: "x")
        with pytest.raises(
            TypeError, match=r"map_\(\): argument 'other' \(position 1\) must be Tensor, not list"
        ):
            m.ones(2).map_([1, 2], lambda a, b: a)
        with pytest.raises(
            TypeError, match=r"map_: expected \w+\.FloatTensor for 'other' \(got \w+\.LongTensor\)"
        ):
            m.ones(2).map_(m.ones(2, dtype=m.int64), lambda a, b: a)
        with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
            m.ones(2).map_(m.ones(3), lambda a, b: a)


# -- register_post_accumulate_grad_hook -------------------------------------------------------
def test_post_accumulate_grad_hook_registration():
    e = ember.ones(2, requires_grad=True)
    calls = []
    handle = e.register_post_accumulate_grad_hook(calls.append)
    assert e._post_accumulate_grad_hooks == [calls.append]
    handle.remove()
    assert e._post_accumulate_grad_hooks == []
    for m in (ember, torch):
        with pytest.raises(
            RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"
        ):
            m.ones(2).register_post_accumulate_grad_hook(print)
        with pytest.raises(
            RuntimeError,
            match="post accumulate grad hooks cannot be registered on non-leaf tensors",
        ):
            (m.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


def test_post_accumulate_grad_hook_runs_after_accumulation():
    seen = {}
    for m in (ember, torch):

        def hook(p, m=m):
            seen[m] = p.grad.clone()

        leaf = m.tensor([1.0, 2.0], requires_grad=True)
        leaf.register_post_accumulate_grad_hook(hook)
        (leaf * leaf).sum().backward()
        bad = m.tensor([1.0], requires_grad=True)
        bad.register_post_accumulate_grad_hook(lambda p: 1)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            (bad * 2).sum().backward()
    assert_same(seen[ember], seen[torch])


def test_no_warning_from_new_methods():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.ones(2).new_zeros(3)


SKIP_GC = (
    "index_put",
    "fix_",
    "sgn_",
    "floor_div",
    "add",
    "badd",
)  # add*mm_: below, float64 operands
GRADCHECK = [c for c in CASES if not c[0].startswith(SKIP_GC)]


@pytest.mark.parametrize("name, fn", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_inplace_gradcheck(name, fn):
    """First and second order through the in-place op on a non-leaf (float64)."""
    check_gradcheck(lambda m, x: fn(m, x * 1.0), (3, 4), low=0.2, high=1.5)


def test_inplace_matmul_family_gradcheck():
    check_gradcheck(
        lambda m, x, a, b: (x * 1.0).addmm_(a, b, beta=0.5, alpha=2), (2, 3), (2, 4), (4, 3)
    )
    check_gradcheck(lambda m, x, a, v: (x * 1.0).addmv_(a, v), (2,), (2, 3), (3,))
    check_gradcheck(lambda m, x, a, b: (x * 1.0).addbmm_(a, b), (2, 3), (2, 2, 4), (2, 4, 3))
    check_gradcheck(lambda m, x, a, b: (x * 1.0).baddbmm_(a, b), (2, 2, 3), (2, 2, 4), (2, 4, 3))


def test_view_of_leaf_and_float_bitwise_errors():
    for m in (ember, torch):
        leaf = m.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            leaf[0].unsqueeze_(0)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            leaf[0].acos_()
        with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
            m.ones(3).bitwise_and_(1)
