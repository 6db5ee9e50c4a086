"""Embedding lookups: F.embedding and F.embedding_bag.

A lookup is one gather of weight rows (``Embedding``); its backward scatter-adds the gradient
rows into zeros of the weight's shape (``IndexPutZeros``, whose backward is the gather again),
after a multiply that zeroes the padding row and applies ``scale_grad_by_freq``. A bag is a
lookup followed by a sum, mean or max of the rows of each bag, all in Ember ops.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import no_grad
from ember.backend import Array, array_module
from ember.ops.creation import zeros
from ember.ops.indexing import ALL, IndexPutZeros
from ember.ops.scatter import scatter_reduce
from ember.ops.shape import reshape
from ember.tensor import Tensor

__all__ = ["embedding", "embedding_bag"]

_INDEX_DTYPES = frozenset(("int64", "int32"))


class Embedding(Function):
    """weight[indices]; backward adds each gradient row into its weight row."""

    @staticmethod
    def forward(
        ctx: Context, weight: Array, indices: Array, padding_idx: int, scale_grad_by_freq: bool
    ) -> Array:
        if ctx.needs_input_grad:
            ctx.shape, ctx.indices = weight.shape, indices
            ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        flat = ctx.indices.reshape(-1)
        rows = reshape(grad, (flat.size, ctx.shape[1]))  # (n, embedding_dim)
        factor = _row_factor(flat, ctx.padding_idx, ctx.scale_grad_by_freq, grad.data.dtype)
        if factor is not None:
            rows = rows * Tensor(factor)
        return IndexPutZeros.apply(rows, ctx.shape, ALL, (flat,)), None, None, None


def _row_factor(flat: Array, padding_idx: int, by_freq: bool, dtype: Any) -> Array | None:
    """Per-row gradient factor (n, 1): 0 at the padding index, 1/count with scale_grad_by_freq."""
    if padding_idx < 0 and not by_freq:
        return None
    xp = array_module(flat)
    factor = xp.ones((flat.size, 1), dtype=dtype)
    if by_freq:
        _, inverse, counts = xp.unique(flat, return_inverse=True, return_counts=True)
        factor[:, 0] /= counts[inverse.reshape(-1)]
    if padding_idx >= 0:
        factor[flat == padding_idx] = 0
    return factor


def _check_indices(indices: Tensor, op: str, arg: str = "#1 'indices'") -> Array:
    data = indices.data
    if data.dtype.name not in _INDEX_DTYPES:
        raise RuntimeError(
            f"Expected tensor for argument {arg} to have one of the following scalar types: "
            f"Long, Int; but got {indices.type()} instead (while "
            f"checking arguments for {op})"
        )
    return data


def _padding(padding_idx: int | None, rows: int, message: str) -> int:
    """Normalise padding_idx (negative counts from the end); -1 means none."""
    if padding_idx is None:
        return -1
    if padding_idx >= rows or padding_idx < -rows:
        raise AssertionError(message)
    return padding_idx + rows if padding_idx < 0 else padding_idx


def _renorm_(weight: Tensor, indices: Array, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and without recording, the looked-up rows whose norm exceeds max_norm.

    Mirrors ``torch.embedding_renorm_``: scale = max_norm / (norm + 1e-7).
    """
    xp = array_module(weight.data)
    rows = xp.unique(indices.reshape(-1))
    with no_grad():
        selected = weight.data[rows]
        norms = xp.linalg.norm(selected, ord=norm_type, axis=1)
        over = norms > max_norm
        if over.any():
            scale = max_norm / (norms[over] + 1e-7)
            weight.data[rows[over]] = selected[over] * scale[:, None].astype(selected.dtype)
            weight._version[0] += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of weight at the indices in input. Mirrors ``F.embedding``.

    The padding_idx row gets no gradient; ``scale_grad_by_freq`` divides each row's gradient
    by its count in input; ``max_norm`` renormalises the looked-up rows of weight in place
    first. Shapes: input (*) int64/int32, weight (num_embeddings, embedding_dim) ->
    (*, embedding_dim). Differences from PyTorch: ``sparse=True`` gives a dense gradient.
    """
    padding = _padding(padding_idx, weight.shape[0], "Padding_idx must be within num_embeddings")
    indices = _check_indices(input, "embedding")
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices, padding, scale_grad_by_freq)


def _bags(xp: Any, input: Tensor, offsets: Tensor | None, include_last: bool) -> tuple:
    """(flat indices, bag of each index or -1 when outside every bag, number of bags)."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}"
            )
        batch, length = input.shape
        return input.data.reshape(-1), xp.arange(batch * length) // max(length, 1), batch
    if input.dim() != 1:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}"
        )
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    starts = _check_indices(offsets, "embedding_bag", "#2 'offsets'").astype(xp.int64)
    n = input.data.size
    if starts.size and starts[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {int(starts[0])}"
        )
    if starts.size and starts[-1] > n:
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
            f"{int(starts[-1])}"
        )
    num_bags = starts.size - 1 if include_last else starts.size
    bag = xp.searchsorted(starts[:num_bags], xp.arange(n), side="right") - 1
    if include_last and starts.size:
        bag[starts[-1] :] = -1
    return input.data, bag, num_bags


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sum, average or max the embeddings of each bag of indices. Mirrors ``F.embedding_bag``.

    Bags are the rows of a 2-D input, or the slices of a 1-D input that start at ``offsets``
    (with ``include_last_offset`` the last offset ends the last bag). Indices equal to
    ``padding_idx`` are left out of their bag; an empty bag gives zeros. Shapes: weight
    (num_embeddings, embedding_dim) -> (num_bags, embedding_dim). Differences from PyTorch:
    ``sparse=True`` gives a dense gradient; in 'max' mode tied maxima share the gradient.
    """
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})"
        )
    if weight.dim() != 2:
        raise ValueError(
            f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}"
        )
    xp = array_module(weight.data)
    flat, bag, num_bags = _bags(xp, input, offsets, include_last_offset)
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    indices = _check_indices(input, "embedding_bag")
    rows = weight.shape[0]
    bad = (flat < 0) | (flat >= rows)
    if bad.any():
        i = int(xp.argmax(bad))
        raise RuntimeError(
            f"Index {i} of input takes value {int(flat[i])} which is not in the valid range "
            f"[0, {rows})"
        )
    if max_norm is not None:
        _renorm_(weight, indices, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub."
        )
    padding = _padding(padding_idx, rows, "padding_idx must be within num_embeddings")
    keep = bag >= 0
    if padding >= 0:
        keep &= flat != padding
    positions = xp.nonzero(keep)[0]
    vectors = Embedding.apply(weight, flat[positions], -1, scale_grad_by_freq)  # (k, D)
    return _reduce_bags(vectors, bag[positions], num_bags, mode, per_sample_weights, positions)


def _reduce_bags(
    vectors: Tensor,
    bag: Array,
    num_bags: int,
    mode: str,
    per_sample_weights: Tensor | None,
    positions: Array,
) -> Tensor:
    """Reduce the rows of vectors (k, D) into num_bags rows by bag id."""
    dim = vectors.shape[1]
    if mode == "max":
        index = Tensor(array_module(bag).broadcast_to(bag[:, None], (bag.size, dim)))
        base = zeros(num_bags, dim, dtype=vectors.dtype)
        return scatter_reduce(base, 0, index, vectors, "amax", include_self=False)
    if per_sample_weights is not None:
        sample = reshape(per_sample_weights, (-1,))[Tensor(positions)]
        vectors = vectors * sample.unsqueeze(1)
    out = IndexPutZeros.apply(vectors, (num_bags, dim), ALL, (bag,))
    if mode == "mean":
        xp = array_module(bag)
        counts = xp.bincount(bag, minlength=num_bags)[:, None]
        out = out / Tensor(xp.maximum(counts, 1).astype(out.data.dtype))
    return out
