"""x[index], x[index] = v, index_put, masks, take and nonzero against PyTorch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import indexing
from tests.helpers import assert_same, check_gradcheck, check_op

MASK_3 = np.array([True, False, True])
MASK_45 = np.random.default_rng(3).random((4, 5)) > 0.5

# Index builders: each returns the index for module m (ember or torch); x has shape (3, 4, 5).
GETITEM = {
    "int": lambda m: 1,
    "neg_int": lambda m: -1,
    "all_ints": lambda m: (2, 3, 4),
    "slices": lambda m: (slice(1, None), slice(None, None, 2)),
    "ellipsis_none": lambda m: (Ellipsis, None, slice(1, 4)),
    "none_int_ellipsis": lambda m: (None, 0, Ellipsis, -2),
    "bool_true": lambda m: True,
    "list": lambda m: [0, 2, 0],
    "int64_tensor": lambda m: m.tensor([1, 1, 0]),
    "int32_tensor_2d": lambda m: m.tensor([[0, 2], [2, 2]], dtype=m.int32),
    "zero_d_tensor": lambda m: (slice(None), m.tensor(3)),
    "int_slice_adv": lambda m: (0, slice(None), [0, 1, 1]),
    "adv_slice_adv": lambda m: ([0, 2], slice(None), [1, 1]),
    "adv_middle": lambda m: (slice(None), m.tensor([3, 0, 3])),
    "adv_broadcast": lambda m: (m.tensor([[0], [2]]), m.tensor([1, 3, 3])),
    "mask_dim0": lambda m: m.tensor(MASK_3),
    "mask_dims12": lambda m: (slice(None), m.tensor(MASK_45)),
    "mask_and_int": lambda m: (m.tensor(MASK_3), 2),
    "list_of_bools": lambda m: (slice(None), [True, False, True, True]),
}


@pytest.mark.parametrize("name", sorted(GETITEM))
def test_getitem_matches_torch(name):
    make = GETITEM[name]
    check_op(lambda m, x: x[make(m)] * 1, (3, 4, 5))


@pytest.mark.parametrize("name", ["slices", "list", "adv_broadcast", "mask_dims12", "int"])
def test_getitem_noncontiguous(name):
    make = GETITEM[name]
    check_op(lambda m, x: x.permute(2, 0, 1)[1:].permute(1, 2, 0)[make(m)], (3, 4, 6))


def test_getitem_repeated_indices_accumulate():
    check_op(lambda m, x: x[m.tensor([0, 0, 2, 0])], (3, 2))
    check_op(lambda m, x: x[[1, 1], [0, 0]], (3, 2))


def test_getitem_integer_dtype_tensor():
    data = np.arange(12).reshape(3, 4)
    check_op(lambda m, x: x[1:, [0, 0]], inputs=[data], dtype="int64")


def test_basic_index_is_a_view_sharing_the_version_counter():
    x = ember.zeros(3, 4)
    for index in (1, (1, 2), (slice(None), 0), (Ellipsis, None)):
        y = x[index]
        assert y._version is x._version
        assert np.shares_memory(y.data, x.data)
    x[1, 2] = 7.0
    assert x[1, 2].item() == 7.0
    assert not np.shares_memory(x[[0, 1]].data, x.data)


def test_getitem_gradcheck_basic_and_advanced():
    check_gradcheck(lambda m, x: x[1:, ::2], (3, 4))
    check_gradcheck(lambda m, x: x[m.tensor([0, 2, 0]), 1:], (3, 4))
    check_gradcheck(lambda m, x: x[m.tensor(MASK_3)] * x[0], (3, 4))


@pytest.mark.parametrize(
    ("index", "error", "match"),
    [
        (5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
        ((0, -6), IndexError, "index -6 is out of bounds for dimension 1 with size 4"),
        (slice(None, None, -1), ValueError, "step must be greater than zero"),
        (slice(None, None, 0), ValueError, "slice step cannot be zero"),
        ((0, 0, 0, 0), IndexError, "too many indices for tensor of dimension 3"),
        ([0, 3], IndexError, "index 3 is out of bounds for dimension 0 with size 3"),
        (1.5, IndexError, "only integers, slices"),
    ],
)
def test_getitem_errors(index, error, match):
    for m in (ember, torch):
        with pytest.raises(error, match=match):
            m.zeros(3, 4, 5)[index]


def test_getitem_tensor_index_errors():
    x = ember.zeros(3, 4)
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[ember.tensor([0.0])]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[ember.tensor([0], dtype=ember.int16)]
    with pytest.raises(IndexError, match=r"The shape of the mask \[2\] at index 0 does not match"):
        x[:, ember.tensor([True, False])]
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        x[:, ember.tensor([0, 4])]
    # PyTorch accepts a second Ellipsis (as an empty one); Ember refuses it, as NumPy does.
    with pytest.raises(IndexError, match="an index can only have a single ellipsis"):
        x[..., 0, ...]


# -- setitem / index_put_value ---------------------------------------------------------------
SETITEM = [
    (lambda m: 1, lambda m, v: 5.0),
    (lambda m: (slice(None), 0), lambda m, v: v[0]),
    (lambda m: (slice(1, None), slice(None, 2)), lambda m, v: v[:2]),
    (lambda m: m.tensor([[True, False, True, False]] * 3), lambda m, v: -1.0),
    (lambda m: ([0, 2], slice(1, 3)), lambda m, v: v[:2].reshape(1, 2)),
    (lambda m: (m.tensor([0, 0]), m.tensor([1, 3])), lambda m, v: v[0]),
    (lambda m: (Ellipsis, -1), lambda m, v: v.reshape(1, 1, 3)),
]


@pytest.mark.parametrize("case", range(len(SETITEM)))
def test_setitem_on_plain_tensor(case):
    make_index, make_value = SETITEM[case]

    def fn(m, x, v):
        y = x.detach().clone()
        y[make_index(m)] = make_value(m, v.detach())
        return y

    check_op(fn, (3, 4), (3,), grad=False)


@pytest.mark.parametrize("case", range(len(SETITEM)))
def test_setitem_in_graph_gradients(case):
    make_index, make_value = SETITEM[case]

    def fn(m, x, v):
        y = x * 2
        y[make_index(m)] = make_value(m, v * 3)
        return y * x

    check_op(fn, (3, 4), (3,))


def test_setitem_int_and_dtype_cast():
    e = ember.zeros(3, dtype=ember.int64)
    t = torch.zeros(3, dtype=torch.int64)
    for y in (e, t):
        y[1] = 2.7
        y[ember.tensor([0]) if y is e else torch.tensor([0])] = 5
    assert_same(e, t)
    e, t = ember.zeros(3), torch.zeros(3)
    e[:2] = ember.tensor([1.0, 2.0], dtype=ember.float64)
    t[:2] = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert_same(e, t)


def test_setitem_list_value():
    e, t = ember.zeros(2, 3), torch.zeros(2, 3)
    e[0] = [1.0, 2.0, 3.0]
    t[0] = torch.tensor([1.0, 2.0, 3.0])
    e[:, 1] = np.array([7, 8])
    t[:, 1] = torch.tensor([7, 8])
    assert_same(e, t)


def test_setitem_leaf_requiring_grad_refuses():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 1.0
    assert not x.data.any()


def test_setitem_shape_errors():
    x = ember.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(3\) must match"):
        x[0] = ember.ones(2)
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[4\] cannot"):
        x[[0, 1]] = ember.ones(4)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1] = 1.0
    assert not x.data.any()


def test_index_put_value_gradcheck():
    check_gradcheck(lambda m, x, v: indexing.index_put_value(x, (slice(None), 1), v), (3, 4), (3,))
    check_gradcheck(lambda m, x, v: indexing.index_put_value(x, [2, 0], v), (3, 4), (4,))


# -- index_put -------------------------------------------------------------------------------
@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put(accumulate):
    def fn(m, x, v):
        return m.index_put(x, (m.tensor([0, 2, 0]), m.tensor([1, 1, 1])), v * 2, accumulate)

    check_op(fn, (3, 4), (1,) if not accumulate else (3,))
    check_op(lambda m, x, v: m.index_put(x, (m.tensor(MASK_3),), v, accumulate), (3, 4), (4,))


def test_index_put_gradcheck():
    check_gradcheck(
        lambda m, x, v: m.index_put(x, (m.tensor([0, 0, 2]),), v, accumulate=True), (3, 2), (3, 2)
    )


def test_index_put_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="Index put requires the source and destination"):
            m.index_put(x, (m.tensor([0]),), m.ones(3, dtype=m.float64))
        with pytest.raises(RuntimeError, match="shape mismatch: value tensor of shape"):
            m.index_put(x, (m.tensor([0]),), m.ones(2))
        with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0"):
            m.index_put(x, (m.tensor([2]),), m.ones(3))
        with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
            m.index_put(x, (m.tensor([1]),) * 3, m.tensor(1.0))
        with pytest.raises(TypeError, match="must be Tensor, not float"):
            m.index_put(x, (m.tensor([1]),), 1.0)


# -- masks -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (3, 1)])
def test_masked_fill(mask_shape):
    mask = np.random.default_rng(1).random(mask_shape) > 0.4
    check_op(lambda m, x: m.masked_fill(x.T.T, m.tensor(mask), -1.5), (3, 4))
    check_op(lambda m, x, v: m.masked_fill(x, m.tensor(mask), v[0] * 2), (3, 4), (1,))


def test_masked_fill_broadcasts_input_and_keeps_dtype():
    mask = np.random.default_rng(1).random((2, 3)) > 0.4
    check_op(lambda m, x: m.masked_fill(x, m.tensor(mask), 1.0), (3,))
    ints = [np.arange(6).reshape(2, 3)]
    check_op(lambda m, x: m.masked_fill(x, m.tensor(mask), 2.7), inputs=ints, dtype="int64")


def test_masked_fill_gradcheck():
    check_gradcheck(lambda m, x: m.masked_fill(x, m.tensor(MASK_3), 0.5) * x, (4, 3))
    check_gradcheck(lambda m, x, v: m.masked_fill(x, m.tensor(MASK_3), v.sum()), (4, 3), (2,))


def test_masked_fill_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="masked_fill_ only supports boolean masks"):
            m.masked_fill(x, m.ones(3), 1.0)
        with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
            m.masked_fill(x, m.ones(3, dtype=m.bool), m.ones(1))
        with pytest.raises(RuntimeError, match=r"size of tensor a \(2\) must match the size of"):
            m.masked_fill(x, m.ones(2, dtype=m.bool), 1.0)


@pytest.mark.parametrize("mask_shape", [(3, 4), (4,), (2, 3, 4)])
def test_masked_select(mask_shape):
    mask = np.random.default_rng(2).random(mask_shape) > 0.5
    check_op(lambda m, x: m.masked_select(x.T[:, :3].T, m.tensor(mask)), (5, 4))


def test_masked_select_gradcheck():
    check_gradcheck(lambda m, x: m.masked_select(x, m.tensor(MASK_3)), (2, 3))


def test_masked_scatter():
    mask = np.random.default_rng(4).random((3, 4)) > 0.5
    check_op(lambda m, x, s: m.masked_scatter(x, m.tensor(mask), s), (3, 4), (4, 4))
    check_op(lambda m, x, s: m.masked_scatter(x, m.tensor(mask[0]), s), (3, 4), (13,))
    check_gradcheck(lambda m, x, s: m.masked_scatter(x, m.tensor(mask), s), (3, 4), (3, 5))


def test_mask_select_scatter_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(RuntimeError, match="masked_select: expected BoolTensor for mask"):
            m.masked_select(x, m.ones(3))
        with pytest.raises(RuntimeError, match="must match the size of tensor b"):
            m.masked_select(x, m.ones(2, dtype=m.bool))
        with pytest.raises(RuntimeError, match="Number of elements of source < number of ones"):
            m.masked_scatter(x, m.ones(3, dtype=m.bool), m.ones(5))
        with pytest.raises(RuntimeError, match="masked_scatter: expected self and source to have"):
            m.masked_scatter(x, m.ones(3, dtype=m.bool), m.ones(6, dtype=m.float64))
        with pytest.raises(RuntimeError, match="masked_scatter_ only supports boolean masks"):
            m.masked_scatter(x, m.ones(3), m.ones(6))


# -- take, nonzero ---------------------------------------------------------------------------
def test_take():
    check_op(lambda m, x: m.take(x.T, m.tensor([[0, 5], [5, -1], [11, 0]])), (3, 4))
    check_gradcheck(lambda m, x: m.take(x, m.tensor([0, 3, 3, -2])), (2, 3))


def test_take_errors():
    for m in (ember, torch):
        x = m.zeros(2, 3)
        with pytest.raises(IndexError, match="out of range: tried to access index 6 on a tensor"):
            m.take(x, m.tensor([6]))
        with pytest.raises(IndexError, match="tried to access index -7"):
            m.take(x, m.tensor([-7]))
        with pytest.raises(RuntimeError, match="take\\(\\): Expected a long tensor for index"):
            m.take(x, m.tensor([0], dtype=m.int32))


@pytest.mark.parametrize("shape", [(3, 4), (5,), (), (2, 0)])
def test_nonzero_and_argwhere(shape):
    data = (np.random.default_rng(5).random(shape) > 0.5).astype(np.float32)
    check_op(lambda m, x: m.nonzero(x), inputs=[data], grad=False)
    check_op(lambda m, x: m.nonzero(x, as_tuple=True), inputs=[data], grad=False)
    check_op(lambda m, x: m.argwhere(x), inputs=[data], grad=False)
    check_op(lambda m, x: m.nonzero(x), inputs=[data.astype(bool)], dtype="bool", grad=False)
