"""Shape, view, join/split and rearranging ops against PyTorch (ember/ops/shape.py, strided.py,
join.py, rearrange.py): values, dtypes, gradients, views, errors."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from tests.helpers import assert_same, check_gradcheck, check_op

# -- values, dtypes and gradients against PyTorch -------------------------------------------
# (id, fn(m, *xs), input shapes); every case also runs under gradcheck below.
CASES = [
    ("reshape", lambda m, x: x.reshape(4, -1), [(2, 3, 4)]),
    ("reshape_noncontig", lambda m, x: m.reshape(x.transpose(0, 2), (-1,)), [(2, 3, 4)]),
    ("reshape_sliced", lambda m, x: x[:, 1:].reshape(2, 2, 3), [(2, 3, 3)]),
    ("view", lambda m, x: x.view(2, 12), [(2, 3, 4)]),
    ("view_infer", lambda m, x: x.view(-1, 4).view(-1), [(2, 3, 4)]),
    ("view_transposed_ok", lambda m, x: x.transpose(1, 2).view(2, 4, 3, 1), [(2, 3, 4)]),
    ("view_as", lambda m, x, y: x.view_as(y) * y, [(2, 6), (3, 4)]),
    ("reshape_as", lambda m, x, y: x.T.reshape_as(y) * y, [(2, 6), (3, 4)]),
    ("flatten", lambda m, x: m.flatten(x), [(2, 3, 4)]),
    ("flatten_start", lambda m, x: x.flatten(1), [(2, 3, 4)]),
    ("flatten_neg", lambda m, x: x.flatten(-3, -2), [(2, 3, 4)]),
    ("flatten_noncontig", lambda m, x: x.transpose(0, 2).flatten(1), [(2, 3, 4)]),
    ("flatten_same", lambda m, x: m.flatten(x, 1, 1), [(2, 3)]),
    ("flatten_0d", lambda m, x: x.flatten(), [()]),
    ("ravel", lambda m, x: m.ravel(x.T), [(3, 4)]),
    ("unflatten", lambda m, x: x.unflatten(1, (3, -1)), [(2, 12)]),
    ("unflatten_neg", lambda m, x: m.unflatten(x, -1, (2, 1, 2)), [(3, 4)]),
    ("squeeze_all", lambda m, x: x.squeeze(), [(2, 1, 3, 1)]),
    ("squeeze_dim", lambda m, x: x.squeeze(-1), [(2, 1, 3, 1)]),
    ("squeeze_noop", lambda m, x: x.squeeze(0), [(2, 1, 3, 1)]),
    ("squeeze_tuple", lambda m, x: m.squeeze(x, (1, 3, 0)), [(2, 1, 3, 1)]),
    ("squeeze_0d", lambda m, x: x.squeeze(0), [()]),
    ("unsqueeze", lambda m, x: x.unsqueeze(1), [(2, 3)]),
    ("unsqueeze_neg", lambda m, x: m.unsqueeze(x.T, -1), [(2, 3)]),
    ("unsqueeze_0d", lambda m, x: x.unsqueeze(0), [()]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute_neg", lambda m, x: m.permute(x, (-1, 0, -2)), [(2, 3, 4)]),
    ("transpose", lambda m, x: x.transpose(0, -1), [(2, 3, 4)]),
    ("transpose_0d", lambda m, x: x.transpose(0, -1), [()]),
    ("swapaxes", lambda m, x: m.swapaxes(x, 0, 1), [(2, 3, 4)]),
    ("swapdims", lambda m, x: x.swapdims(-1, 1), [(2, 3, 4)]),
    ("t_2d", lambda m, x: x.t(), [(2, 3)]),
    ("t_1d", lambda m, x: m.t(x), [(3,)]),
    ("T_mT", lambda m, x: x[0].T + x.mT.transpose(1, 2)[1], [(2, 3, 3)]),
    ("movedim", lambda m, x: x.movedim(0, -1), [(2, 3, 4)]),
    ("movedim_tuple", lambda m, x: m.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("moveaxis", lambda m, x: m.moveaxis(x, -1, 0), [(2, 3, 4)]),
    ("expand", lambda m, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_keep", lambda m, x: x.expand(-1, 5), [(3, 1)]),
    ("expand_as", lambda m, x, y: x.expand_as(y) * y, [(1, 4), (3, 4)]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(4,)]),
    ("broadcast_to_same", lambda m, x: m.broadcast_to(x, (3,)), [(3,)]),
    ("broadcast_tensors", lambda m, x, y: m.broadcast_tensors(x, y), [(3, 1), (4,)]),
    ("narrow", lambda m, x: x.narrow(1, 1, 2), [(2, 4)]),
    ("narrow_neg", lambda m, x: m.narrow(x.T, -1, -2, 2), [(3, 4)]),
    ("narrow_tensor_start", lambda m, x: x.narrow(0, m.tensor(1), 2), [(4, 2)]),
    ("narrow_empty", lambda m, x: x.narrow(0, 4, 0), [(4, 2)]),
    ("unfold", lambda m, x: x.unfold(1, 3, 1), [(2, 5)]),
    ("unfold_step", lambda m, x: x.unfold(-1, 2, 3), [(2, 3, 8)]),
    ("unfold_noncontig", lambda m, x: x.T.unfold(0, 2, 2), [(3, 5)]),
    ("unfold_empty", lambda m, x: x.unfold(0, 0, 1), [(3,)]),
    ("unfold_0d", lambda m, x: x.unfold(0, 1, 1), [()]),
    ("diagonal", lambda m, x: x.diagonal(), [(3, 4)]),
    ("diagonal_offset", lambda m, x: m.diagonal(x, 1, -1, 0), [(2, 3, 4)]),
    ("diagonal_neg_offset", lambda m, x: x.diagonal(-1, 1, 2), [(2, 3, 4)]),
    ("diagonal_out_of_range", lambda m, x: x.diagonal(5), [(3, 4)]),
    ("diagonal_noncontig", lambda m, x: x[:, 1:].diagonal(), [(3, 5)]),
    ("sum_to_size", lambda m, x: x.sum_to_size(2, 1, 4), [(2, 3, 4)]),
    ("sum_to_size_lead", lambda m, x: x.sum_to_size((3, 1)), [(2, 3, 4)]),
    ("atleast_1d", lambda m, x: m.atleast_1d(x), [()]),
    ("atleast_2d", lambda m, x, y: m.atleast_2d(x, y), [(3,), (2, 3)]),
    ("atleast_3d", lambda m, x, y, z: m.atleast_3d([x, y, z]), [(), (3,), (2, 3)]),
    # joins and splits
    ("cat", lambda m, x, y: m.cat([x, y], dim=1), [(2, 3), (2, 4)]),
    ("cat_neg", lambda m, x, y: m.cat((x.T, y), -2), [(2, 3), (4, 2)]),
    ("cat_skip_empty", lambda m, x, y: m.cat([x, y[:0], x]), [(2, 3), (4,)]),
    ("concat", lambda m, x, y: m.concat([x, y]), [(2, 3), (1, 3)]),
    ("concatenate", lambda m, x, y: m.concatenate([x, y], axis=1), [(2, 3), (2, 1)]),
    ("stack", lambda m, x, y: m.stack([x, y], -1), [(2, 3), (2, 3)]),
    ("hstack", lambda m, x, y: m.hstack([x, y]), [(2, 3), (2, 1)]),
    ("hstack_1d", lambda m, x, y: m.hstack([x, y]), [(3,), ()]),
    ("vstack", lambda m, x, y: m.vstack([x, y]), [(3,), (2, 3)]),
    ("dstack", lambda m, x, y: m.dstack([x, y]), [(2, 3), (2, 3, 2)]),
    ("column_stack", lambda m, x, y, z: m.column_stack([x, y, z]), [(3,), (3, 2), (3,)]),
    ("split", lambda m, x: x.split(2), [(5, 3)]),
    ("split_sizes", lambda m, x: m.split(x, [1, 0, 2], dim=-1), [(2, 3)]),
    ("split_one_used", lambda m, x: x.split(2, 1)[1], [(2, 5)]),
    ("chunk", lambda m, x: x.chunk(3), [(5, 2)]),
    ("chunk_dim", lambda m, x: m.chunk(x.T, 4, dim=1), [(6, 2)]),
    ("tensor_split_int", lambda m, x: x.tensor_split(3, 1), [(2, 7)]),
    ("tensor_split_idx", lambda m, x: m.tensor_split(x, [1, 5, -1], dim=1), [(2, 7)]),
    ("tensor_split_tensor", lambda m, x: x.tensor_split(m.tensor([1, 3]), 0), [(5,)]),
    ("tensor_split_0d", lambda m, x: x.tensor_split(m.tensor(2)), [(5,)]),
    ("hsplit", lambda m, x: m.hsplit(x, 2), [(3, 4)]),
    ("hsplit_1d", lambda m, x: m.hsplit(x, [1, 3]), [(4,)]),
    ("vsplit", lambda m, x: m.vsplit(x, [1]), [(3, 4)]),
    ("dsplit", lambda m, x: m.dsplit(x, 2), [(1, 2, 4)]),
    ("unbind", lambda m, x: x.unbind(1), [(2, 3)]),
    ("unbind_used", lambda m, x: m.unbind(x, -1)[0], [(2, 3)]),
    # copies
    ("repeat", lambda m, x: x.repeat(2, 1, 3), [(2, 3)]),
    ("repeat_noncontig", lambda m, x: x.T.repeat(2, 2), [(2, 3)]),
    ("repeat_0d", lambda m, x: x.repeat(2, 3), [()]),
    ("repeat_zero", lambda m, x: x.repeat(0, 2), [(2, 3)]),
    ("tile", lambda m, x: x.tile((2,)), [(2, 3)]),
    ("tile_more", lambda m, x: m.tile(x, (2, 1, 2)), [(2, 3)]),
    ("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=1), [(2, 3)]),
    ("repeat_interleave_flat", lambda m, x: m.repeat_interleave(x.T, 3), [(2, 3)]),
    (
        "repeat_interleave_tensor",
        lambda m, x: x.repeat_interleave(m.tensor([1, 0, 3]), dim=-2),
        [(3, 2)],
    ),
    (
        "repeat_interleave_size",
        lambda m, x: x.repeat_interleave(m.tensor([2]), dim=0, output_size=6),
        [(3, 2)],
    ),
    ("flip", lambda m, x: x.flip(0, -1), [(2, 3, 4)]),
    ("flip_list", lambda m, x: m.flip(x.T, [1]), [(2, 3)]),
    ("flip_empty_dims", lambda m, x: m.flip(x, []), [(2, 3)]),
    ("fliplr", lambda m, x: m.fliplr(x), [(2, 3)]),
    ("flipud", lambda m, x: x.flipud(), [(2, 3)]),
    ("roll", lambda m, x: x.roll(1, 0), [(3, 4)]),
    ("roll_multi", lambda m, x: m.roll(x, (2, -1), (1, -1)), [(2, 3, 4)]),
    ("roll_flat", lambda m, x: m.roll(x.T, 5), [(3, 4)]),
    ("rot90", lambda m, x: m.rot90(x), [(2, 3)]),
    ("rot90_k2", lambda m, x: m.rot90(x, 2, (1, 2)), [(2, 3, 4)]),
    ("rot90_k3", lambda m, x: m.rot90(x, 3, [0, 2]), [(2, 3, 4)]),
    ("rot90_neg", lambda m, x: m.rot90(x, -1, (1, 0)), [(2, 3)]),
    ("rot90_k0", lambda m, x: m.rot90(x, 4), [(2, 3)]),
    ("tril", lambda m, x: x.tril(), [(3, 4)]),
    ("tril_batched", lambda m, x: m.tril(x, -1), [(2, 3, 4)]),
    ("triu", lambda m, x: m.triu(x.T, 1), [(3, 4)]),
    ("triu_batched", lambda m, x: x.triu(-2), [(2, 4, 3)]),
    ("diag_1d", lambda m, x: m.diag(x), [(3,)]),
    ("diag_1d_offset", lambda m, x: x.diag(-2), [(3,)]),
    ("diag_2d", lambda m, x: m.diag(x, 1), [(3, 4)]),
    ("diag_embed", lambda m, x: m.diag_embed(x), [(2, 3)]),
    ("diag_embed_dims", lambda m, x: x.diag_embed(1, 0, 2), [(2, 3)]),
    ("diag_embed_neg", lambda m, x: m.diag_embed(x, -1, -1, 1), [(2, 3)]),
]


@pytest.mark.parametrize(("fn", "shapes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_against_torch(fn, shapes):
    check_op(fn, *shapes)


GRADCHECK_SKIP = {"flatten_0d", "transpose_0d", "squeeze_0d", "unfold_0d", "unfold_empty"}


@pytest.mark.parametrize(
    ("fn", "shapes"),
    [c[1:] for c in CASES if c[0] not in GRADCHECK_SKIP],
    ids=[c[0] for c in CASES if c[0] not in GRADCHECK_SKIP],
)
def test_gradcheck(fn, shapes):
    check_gradcheck(fn, *shapes)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float64", "float16"])
@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: x.T.reshape(-1),
        lambda m, x: x.unsqueeze(0).expand(2, 3, 4).permute(2, 0, 1),
        lambda m, x: x.unfold(1, 2, 1).diagonal(),
        lambda m, x: m.cat([x, x.flip(0)], 1).roll(1, 1),
        lambda m, x: m.stack([x.repeat(1, 2), x.tile((1, 2))]).tril(),
        lambda m, x: x.repeat_interleave(2, 0).triu(1).narrow(0, 1, 2),
        lambda m, x: m.diag_embed(x).split(2, 1)[0],
        lambda m, x: m.rot90(x).chunk(2, 1),
        lambda m, x: m.diag(x, 1).tensor_split(2),
    ],
)
def test_dtypes_pass_through(fn, dtype):
    check_op(fn, (3, 4), dtype=dtype, low=-5, high=5)


@pytest.mark.parametrize(
    ("dtypes", "expected"),
    [
        (("int32", "float32"), "float32"),
        (("int32", "bool"), "int32"),
        (("float16", "bfloat16"), "float32"),
        (("int64", "float64"), "float64"),
    ],
)
def test_cat_promotes(dtypes, expected):
    x = np.arange(6).reshape(2, 3)
    e = ember.cat([ember.tensor(x).to(getattr(ember, d)) for d in dtypes])
    t = torch.cat([torch.tensor(x).to(getattr(torch, d)) for d in dtypes])
    assert_same(e, t)
    assert str(e.dtype).endswith(expected)


def test_cat_skips_empty_but_promotes():
    def fn(m):
        return m.cat([m.ones(2, 3, dtype=m.int32), m.zeros(0, dtype=m.float64)])

    assert_same(fn(ember), fn(torch))


def test_cat_and_stack_grad_mixed_dtypes():
    check_op(lambda m, x, y: m.cat([x, y.double()]), (2, 3), (1, 3))
    check_op(lambda m, x, y: m.stack([x.half(), y]), (2, 3), (2, 3), rtol=1e-3, atol=1e-3)


def test_repeat_interleave_repeats_only():
    for m in (ember, torch):
        out = m.repeat_interleave(m.tensor([2, 0, 3]))
        assert out.tolist() == [0, 0, 2, 2, 2] and str(out.dtype).endswith("int64")


def test_broadcast_shapes_ints():
    assert ember.broadcast_shapes(2, (3, 1)) == torch.broadcast_shapes(2, (3, 1))
    assert isinstance(ember.broadcast_shapes((2, 3)), ember.Size)


# -- views share memory and version counters; copies do not ---------------------------------
VIEWS = [
    lambda x: x.view(4, 6),
    lambda x: x.reshape(2, 12),
    lambda x: x.flatten(),
    lambda x: x.flatten(0, 1),
    lambda x: x.ravel(),
    lambda x: x.unflatten(2, (2, 2)),
    lambda x: x.transpose(0, 1),
    lambda x: x.permute(2, 0, 1),
    lambda x: x.movedim(0, 2),
    lambda x: x[0].t(),
    lambda x: x.unsqueeze(1),
    lambda x: x.unsqueeze(0).squeeze(0),
    lambda x: x[:1].expand(3, 3, 4),
    lambda x: x.narrow(2, 1, 2),
    lambda x: x.diagonal(0, 1, 2),
    lambda x: x.diagonal(-1).diagonal(),
    lambda x: x.unfold(2, 2, 1),
    lambda x: x.unfold(1, 2, 1).transpose(0, 1),
    lambda x: x.split(1, 1)[1],
    lambda x: x.chunk(2, 2)[1],
    lambda x: x.tensor_split([1], 2)[0],
    lambda x: x.unbind(1)[2],
    lambda x: ember.atleast_3d(x[0, 0]),
    lambda x: x.view(ember.int32),
]


@pytest.mark.parametrize("fn", VIEWS)
def test_views_share_memory(fn):
    base = ember.tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    x = base * 1  # a non-leaf
    y = fn(x)
    assert np.shares_memory(y.data, x.data)
    before = y.data.copy()
    x.add_(1)
    assert y._version is x._version
    assert not np.array_equal(y.data, before)


def test_view_chain_sees_writes_through_base():
    x = ember.zeros(3, 4)
    y = x.diagonal()
    z = y.unsqueeze(0)
    x.add_(2)
    assert z.tolist() == [[2.0, 2.0, 2.0]]
    assert z._version is x._version


def test_writes_through_diagonal_view():
    x = ember.zeros(3, 3)
    x.diagonal().fill_(1.0)
    t = torch.zeros(3, 3)
    t.diagonal().fill_(1.0)
    assert_same(x, t)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: x.flip(0),
        lambda m, x: x.roll(1, 0),
        lambda m, x: x.repeat(1, 1, 1),
        lambda m, x: x.tile((1,)),
        lambda m, x: m.cat([x]),
        lambda m, x: m.stack([x]),
        lambda m, x: x.tril(),
        lambda m, x: m.rot90(x, 4),
        lambda m, x: x.repeat_interleave(1, 0),
        lambda m, x: x.T.reshape(-1),
        lambda m, x: m.diag_embed(x),
    ],
)
def test_copies_do_not_alias(fn):
    x = ember.tensor(np.arange(24.0, dtype=np.float32).reshape(2, 3, 4))
    y = fn(ember, x)
    assert not np.shares_memory(y.data, x.data)


def test_view_refuses_copy_and_reshape_copies():
    x = ember.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    y = x.T.reshape(-1)
    assert not np.shares_memory(y.data, x.data)
    t = torch.arange(6.0).reshape(2, 3)
    assert_same(y, t.T.reshape(-1))


# -- errors: same type and message as PyTorch ------------------------------------------------
ERRORS = [
    (lambda m, x: x.transpose(0, 1).view(-1), RuntimeError, "view size is not compatible with"),
    (lambda m, x: x.view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    (lambda m, x: x.view(5, 5), RuntimeError, "shape '[5, 5]' is invalid for input of size 24"),
    (lambda m, x: x.reshape(-1, 5), RuntimeError, "shape '[-1, 5]' is invalid for input of size"),
    (lambda m, x: x.reshape(2, -2), RuntimeError, "invalid shape dimension -2 at index 1"),
    (
        lambda m, x: m.zeros(0, 3).view(-1, 0),
        RuntimeError,
        "cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified",
    ),
    (lambda m, x: x.flatten(2, 0), RuntimeError, "start_dim cannot come after end_dim"),
    (lambda m, x: x.flatten(5), IndexError, "expected to be in range of [-3, 2], but got 5"),
    (lambda m, x: x.unflatten(1, (4, 1)), RuntimeError, "unflatten: Provided sizes [4, 1] don't"),
    (lambda m, x: x.unflatten(1, ()), RuntimeError, "unflatten: sizes must be non-empty"),
    (lambda m, x: x.squeeze(5), IndexError, "Dimension out of range"),
    (lambda m, x: x.squeeze((0, -3)), RuntimeError, "dim 0 appears multiple times"),
    (lambda m, x: x.unsqueeze(4), IndexError, "range of [-4, 3], but got 4"),
    (lambda m, x: x.t(), RuntimeError, "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    (lambda m, x: x.permute(0, 1), RuntimeError, "input.dim() = 3 is not equal to len(dims) = 2"),
    (lambda m, x: x.permute(0, 1, 1), RuntimeError, "permute(): duplicate dims are not allowed."),
    (lambda m, x: x.transpose(0, 3), IndexError, "but got 3"),
    (lambda m, x: x.movedim((0, 1), (2,)), RuntimeError, "movedim: Invalid source or destination"),
    (lambda m, x: x.movedim((0, 0), (1, 2)), RuntimeError, "movedim: repeated dim in `source`"),
    (
        lambda m, x: x.movedim((0, 1), (1, 1)),
        RuntimeError,
        "repeated dim in `destination` ([1, 1])",
    ),
    (lambda m, x: x.expand(3, 4), RuntimeError, "the number of sizes provided (2) must be greater"),
    (
        lambda m, x: x.expand(2, 3, 5),
        RuntimeError,
        "The expanded size of the tensor (5) must match the existing size (4) at non-singleton "
        "dimension 2.  Target sizes: [2, 3, 5].  Tensor sizes: [2, 3, 4]",
    ),
    (lambda m, x: x.expand(-1, 2, 3, 4), RuntimeError, "isn't allowed in a leading, non-existing"),
    (lambda m, x: m.broadcast_to(x, (3, 4)), RuntimeError, "the number of sizes provided (2)"),
    (
        lambda m, x: m.broadcast_shapes((2, 1), (3,), (4,)),
        RuntimeError,
        "Attempting to broadcast a dimension of length 4 at -1! Mismatching argument at index 2 "
        "had (4,); but expected shape should be broadcastable to [2, 3]",
    ),
    (lambda m, x: m.broadcast_shapes((2, -1)), ValueError, "dimension with negative length!"),
    (
        lambda m, x: m.broadcast_tensors(x, m.zeros(5)),
        RuntimeError,
        "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 2",
    ),
    (
        lambda m, x: m.broadcast_tensors(m.zeros(5, 2, 1), m.zeros(3, 1), x),
        RuntimeError,
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1",
    ),
    (lambda m, x: x.sum_to_size(1, 2, 3, 4), RuntimeError, "size {[1, 2, 3, 4]} is not expandable"),
    (lambda m, x: x.sum_to_size(3, 3), RuntimeError, "is not expandable to size {[2, 3, 4]}."),
    (lambda m, x: x.narrow(0, 1, 2), RuntimeError, "start (1) + length (2) exceeds dimension size"),
    (lambda m, x: x.narrow(0, 3, 0), IndexError, "start out of range (expected to be in range of"),
    (lambda m, x: x.narrow(0, 1, -1), RuntimeError, "narrow(): length must be non-negative."),
    (lambda m, x: x.narrow(0, m.tensor([1]), 1), RuntimeError, "start must be an 0-dim integral"),
    (lambda m, x: x.sum().narrow(0, 0, 1), RuntimeError, "cannot be applied to a 0-dim tensor"),
    (lambda m, x: x.unfold(2, 5, 1), RuntimeError, "maximum size for tensor at dimension 2 is 4"),
    (lambda m, x: x.unfold(2, 2, 0), RuntimeError, "step is 0 but must be > 0"),
    (lambda m, x: x.unfold(1, -1, 1), RuntimeError, "size is -1 but must be >= 0"),
    (lambda m, x: x.diagonal(0, 0, -3), RuntimeError, "diagonal dimensions cannot be identical"),
    (lambda m, x: m.zeros(3).diagonal(), IndexError, "range of [-1, 0], but got 1"),
    (lambda m, x: x.sum().unbind(), IndexError, "Dimension specified as 0 but tensor has no dim"),
    # joins and splits
    (lambda m, x: m.cat([x, m.zeros(2, 4, 4)]), RuntimeError, "Sizes of tensors must match except"),
    (
        lambda m, x: m.cat([x, m.zeros(2, 4, 4)], 2),
        RuntimeError,
        "Sizes of tensors must match except in dimension 2. Expected size 3 but got size 4 for "
        "tensor number 1 in the list.",
    ),
    (
        lambda m, x: m.cat([x, m.zeros(2, 3)]),
        RuntimeError,
        "same number of dimensions: got 3 and 2",
    ),
    (lambda m, x: m.cat([]), ValueError, "expected a non-empty list of Tensors"),
    (lambda m, x: m.cat([x.sum()]), RuntimeError, "zero-dimensional tensor (at position 0) cannot"),
    (lambda m, x: m.cat([x], 3), IndexError, "but got 3"),
    (lambda m, x: m.stack([x, m.zeros(1)]), RuntimeError, "stack expects each tensor to be equal"),
    (lambda m, x: m.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (lambda m, x: m.hstack([]), RuntimeError, "hstack expects a non-empty TensorList"),
    (lambda m, x: m.vstack([]), RuntimeError, "vstack expects a non-empty TensorList"),
    (lambda m, x: m.dstack([]), RuntimeError, "dstack expects a non-empty TensorList"),
    (lambda m, x: m.column_stack([]), RuntimeError, "column_stack expects a non-empty TensorList"),
    (lambda m, x: x.chunk(0), RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    (lambda m, x: x.sum().chunk(1), RuntimeError, "chunk expects at least a 1-dimensional tensor"),
    (lambda m, x: x.sum().split(1), RuntimeError, "split expects at least a 1-dimensional tensor"),
    (lambda m, x: x.split(0), RuntimeError, "split_size can only be 0 if dimension size is 0"),
    (lambda m, x: x.split(-1), RuntimeError, "split expects split_size be non-negative, but got"),
    (lambda m, x: x.split([1, 1], 1), RuntimeError, "expects split_sizes to sum exactly to 3"),
    (lambda m, x: x.split([2, -1, 2], 1), RuntimeError, "have only non-negative entries"),
    (lambda m, x: x.tensor_split(0), RuntimeError, "number of sections must be larger than 0"),
    (lambda m, x: x.tensor_split(m.tensor([[1]]), 1), RuntimeError, "but got a tensor with 2 dims"),
    (lambda m, x: x.tensor_split(m.tensor([1.0])), RuntimeError, "dtype of long, but got Float"),
    (lambda m, x: m.hsplit(x, 5), RuntimeError, "the size of the dimension 3 is not divisible by"),
    (lambda m, x: m.hsplit(x.sum(), 2), RuntimeError, "requires a tensor with at least 1 dim"),
    (lambda m, x: m.vsplit(m.zeros(3), 1), RuntimeError, "vsplit requires a tensor with at least"),
    (lambda m, x: m.dsplit(m.zeros(2, 2), 2), RuntimeError, "dsplit requires a tensor with at"),
    # copies
    (lambda m, x: x.repeat(2), RuntimeError, "Number of dimensions of repeat dims can not be"),
    (lambda m, x: x.repeat(-1, 1, 1), RuntimeError, "negative dimension -2: [-2, 3, 4]"),
    (lambda m, x: x.flip(0, 0), RuntimeError, "dim 0 appears multiple times in the list of dims"),
    (lambda m, x: x.flip(3), IndexError, "but got 3"),
    (lambda m, x: m.zeros(3).fliplr(), RuntimeError, "Input must be >= 2-d."),
    (lambda m, x: x.sum().flipud(), RuntimeError, "Input must be >= 1-d."),
    (lambda m, x: x.roll(1, (0, 1)), RuntimeError, "shifts and dimensions must align. shifts: 1"),
    (lambda m, x: x.roll((1, 2)), RuntimeError, "must align. shifts: 2, dims:0"),
    (lambda m, x: x.roll(1, 3), IndexError, "but got 3"),
    (lambda m, x: m.rot90(x, 1, (0, 0)), RuntimeError, "expected rotation dims to be different"),
    (lambda m, x: m.rot90(x, 1, (0,)), RuntimeError, "expected total rotation dims == 2, but got"),
    (
        lambda m, x: m.rot90(m.zeros(3)),
        RuntimeError,
        "expected total dims >= 2, but got total dims",
    ),
    (lambda m, x: m.tril(m.zeros(3)), RuntimeError, "tril: input tensor must have at least 2"),
    (lambda m, x: m.triu(x.sum()), RuntimeError, "triu: input tensor must have at least 2"),
    (lambda m, x: m.diag(x), RuntimeError, "diag(): Supports 1D or 2D tensors. Got 3D"),
    (lambda m, x: m.diag(x.sum()), RuntimeError, "diag(): Supports 1D or 2D tensors. Got 0D"),
    (
        lambda m, x: m.diag_embed(x, 0, 0, 0),
        RuntimeError,
        "diagonal dimensions cannot be identical",
    ),
    (lambda m, x: m.diag_embed(m.zeros(2, 3), 1, 0, 3), IndexError, "but got 3"),
    (lambda m, x: x.repeat_interleave(-1), RuntimeError, "Repeats must be non-negative"),
    (
        lambda m, x: x.repeat_interleave(m.tensor([1, 2, 3]), 0),
        RuntimeError,
        "repeats must have the same size as input along dim, but got repeats.size(0) = 3 and "
        "input.size(0) = 2",
    ),
    (lambda m, x: x.repeat_interleave(m.tensor([-1, 2]), 0), RuntimeError, "can not be negative"),
    (lambda m, x: x.repeat_interleave(m.tensor([[1]]), 0), RuntimeError, "be 0-dim or 1-dim"),
    (
        lambda m, x: x.repeat_interleave(2, 1, output_size=5),
        RuntimeError,
        "repeat_interleave: Invalid output_size, expected 6 but got 5",
    ),
    (lambda m, x: m.repeat_interleave(m.tensor([[1]])), RuntimeError, "only accept 1D vector"),
]


@pytest.mark.parametrize(("fn", "exc", "message"), ERRORS)
def test_errors_match_torch(fn, exc, message):
    for m in (ember, torch):
        x = m.zeros(2, 3, 4)
        with pytest.raises(exc, match=re.escape(message)):
            fn(m, x)


def test_expand_error_names_the_tensor_type():
    with pytest.raises(RuntimeError, match=re.escape("expand(ember.FloatTensor{[2, 3]}, size=[3]")):
        ember.zeros(2, 3).expand(3)


def test_view_dtype_other_size_unsupported():
    with pytest.raises(NotImplementedError, match="element size"):
        ember.zeros(2, 3).view(ember.float16)


# -- hypothesis: broadcasting against torch ------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4, max_side=3))
def test_broadcast_shapes_and_tensors_hypothesis(shapes):
    inputs, result = shapes
    assert tuple(ember.broadcast_shapes(*inputs)) == tuple(torch.broadcast_shapes(*inputs))
    assert tuple(ember.broadcast_shapes(*inputs)) == result
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in inputs]
    e = ember.broadcast_tensors(*(ember.tensor(a) for a in arrays))
    t = torch.broadcast_tensors(*(torch.tensor(a) for a in arrays))
    assert_same(e, t)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=3), min_size=2, max_size=3),
)
def test_broadcast_shapes_errors_hypothesis(shapes):
    shapes = [tuple(s) for s in shapes]
    try:
        expected = torch.broadcast_shapes(*shapes)
    except RuntimeError as err:
        with pytest.raises(RuntimeError, match=re.escape(str(err))):
            ember.broadcast_shapes(*shapes)
    else:
        assert tuple(ember.broadcast_shapes(*shapes)) == tuple(expected)


def test_view_agrees_with_torch_on_strided_layouts():
    """view succeeds exactly when torch's does (permuted, sliced, expanded), and never copies."""
    rng = np.random.default_rng(0)
    for _ in range(150):
        shape = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(1, 4)))
        a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
        perm = tuple(int(d) for d in rng.permutation(len(shape)))
        pair = [ember.tensor(a).permute(perm), torch.tensor(a).permute(perm)]
        if rng.random() < 0.3 and shape[perm[0]] > 1:
            pair = [v[1:] for v in pair]
        if rng.random() < 0.3:
            pair = [v.unsqueeze(1).expand(v.shape[0], 2, *v.shape[1:]) for v in pair]
        e, t = pair
        dims = list(t.shape)
        for target in [(-1,), tuple(dims[::-1]), (dims[0], -1), (*dims, 1), (1, *dims)]:
            try:
                expected = t.view(target)
            except RuntimeError:
                with pytest.raises(RuntimeError, match="view size is not compatible"):
                    e.view(target)
                continue
            out = e.view(target)
            assert np.shares_memory(out.data, e.data)
            assert_same(out, expected)


def test_repeat_interleave_float_repeats_error():
    for m in (ember, torch):
        with pytest.raises(
            NotImplementedError, match="repeat_interleave_cpu\" not implemented for 'Float'"
        ):
            m.repeat_interleave(m.ones(2), m.tensor([1.0, 2.0]))
