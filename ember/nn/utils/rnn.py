"""Variable-length sequences for the recurrent layers. Mirrors ``torch.nn.utils.rnn``.

A ``PackedSequence`` stores the rows of all sequences at step 0, then at step 1, ..., longest
sequences first, with ``batch_sizes[t]`` rows at step t. Packing and padding are each one
gather (a single indexing op) over index tables built on the input's device, so both are
differentiable and cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any, NamedTuple

from ember.backend import array_module
from ember.ops.creation import full
from ember.ops.indexing import getitem
from ember.ops.join import cat
from ember.ops.shape import transpose
from ember.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """Rows of sequences, packed step by step. Mirrors ``torch.nn.utils.rnn.PackedSequence``.

    Fields: ``data`` (sum(lengths), *), ``batch_sizes`` (max_length,) int64, and
    ``sorted_indices`` / ``unsorted_indices`` (B,) int64 (None when the batch came sorted).
    Build one with ``pack_padded_sequence`` or ``pack_sequence``.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """Return a copy with ``data.to(*args, **kwargs)``; the index tensors are unchanged."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def float(self) -> PackedSequence:
        """Return a copy with float32 data."""
        return self.to(dtype=_dtype("float32"))

    def double(self) -> PackedSequence:
        """Return a copy with float64 data."""
        return self.to(dtype=_dtype("float64"))

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on a CUDA device."""
        return self.data.is_cuda


def _dtype(name: str) -> Any:
    from ember.backend import dtypes

    return getattr(dtypes, name)


def _invert(permutation: Tensor) -> Tensor:
    xp = array_module(permutation.data)
    inverse = xp.empty_like(permutation.data)
    inverse[permutation.data] = xp.arange(permutation.data.shape[0], dtype=inverse.dtype)
    return Tensor(inverse)


def _lengths_list(lengths: Any) -> list[int]:
    if isinstance(lengths, Tensor):
        return [int(n) for n in lengths.data.reshape(-1).tolist()]
    return [int(n) for n in lengths]


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch of sequences. Mirrors ``torch.nn.utils.rnn.pack_padded_sequence``.

    Shapes: input (T, B, *) or (B, T, *) with batch_first; lengths (B,) -> data
    (sum(lengths), *). With ``enforce_sorted=False`` the batch is sorted by length first
    (stable, longest first) and the permutation is kept in the result.
    """
    sizes = _lengths_list(lengths)
    batch = input.data.shape[0 if batch_first else 1]
    if len(sizes) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(sizes)} "
            f"(batch_size={batch})"
        )
    if any(n <= 0 for n in sizes):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    steps = input.data.shape[1 if batch_first else 0]
    if max(sizes) > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length ({max(sizes)}) exceeds the padded length ({steps})"
        )
    xp = array_module(input.data)
    if enforce_sorted:
        if any(a < b for a, b in pairwise(sizes)):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX exportability."
            )
        order, sorted_indices = list(range(batch)), None
    else:
        order = sorted(range(batch), key=lambda b: -sizes[b])
        sorted_indices = Tensor(xp.asarray(order, dtype=xp.int64))
    sorted_sizes = xp.asarray([sizes[b] for b in order], dtype=xp.int64)
    longest = int(sorted_sizes[0])
    valid = xp.arange(longest)[:, None] < sorted_sizes[None, :]  # (T, B): row t of sequence j
    t_idx, j_idx = xp.nonzero(valid)  # in packed order: step by step, longest first
    b_idx = xp.asarray(order, dtype=xp.int64)[j_idx]
    data = getitem(input, (b_idx, t_idx) if batch_first else (t_idx, b_idx))
    batch_sizes = Tensor(valid.sum(1).astype(xp.int64))
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Unpack into a padded batch. Mirrors ``torch.nn.utils.rnn.pad_packed_sequence``.

    Returns (padded (T, B, *) or (B, T, *), lengths (B,) int64), in the batch order the
    sequences had before packing.
    """
    data, batch_sizes, _, unsorted_indices = sequence
    xp = array_module(data.data)
    sizes = xp.asarray(batch_sizes.data, dtype=xp.int64)
    steps, batch, rows = sizes.shape[0], int(sizes[0]), data.data.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    sizes = xp.concatenate([sizes, xp.zeros(steps - sizes.shape[0], dtype=xp.int64)])
    starts = xp.cumsum(sizes) - sizes
    j = xp.arange(batch)
    valid = j[None, :] < sizes[:, None]  # (T, B)
    index = xp.where(valid, starts[:, None] + j[None, :], rows)  # row `rows` is the padding
    lengths = valid.sum(0)
    if unsorted_indices is not None:
        index, lengths = index[:, unsorted_indices.data], lengths[unsorted_indices.data]
    pad_row = full((1, *data.data.shape[1:]), padding_value, dtype=data.dtype)
    padded = getitem(cat([data, pad_row]), Tensor(index.T if batch_first else index))
    return padded, Tensor(lengths.astype(xp.int64))


def _check_sequences(sequences: list) -> None:
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    ref = sequences[0].data.shape
    for s in sequences[1:]:
        shape = s.data.shape
        if len(shape) != len(ref):
            raise RuntimeError(
                f"pad_sequence: sequences have {len(ref)} and {len(shape)} dimensions"
            )
        for d in range(1, len(ref)):
            if shape[d] != ref[d]:
                raise RuntimeError(
                    f"The size of tensor a ({ref[d]}) must match the size of tensor b "
                    f"({shape[d]}) at non-singleton dimension {d}"
                )


def pad_sequence(
    sequences: Tensor | Iterable[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences padded to the longest. Mirrors ``torch.nn.utils.rnn.pad_sequence``.

    Shapes: sequences (L_i, *) -> (T, B, *), or (B, T, *) with batch_first; padding goes
    after each sequence (``padding_side='right'``) or before it ('left').
    """
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    sequences = list(sequences)
    _check_sequences(sequences)
    xp = array_module(sequences[0].data)
    lengths = xp.asarray([s.data.shape[0] for s in sequences], dtype=xp.int64)
    steps, rows = int(lengths.max()), int(lengths.sum())
    starts = xp.cumsum(lengths) - lengths
    t = xp.arange(steps)[:, None]  # (T, 1)
    shift = 0 if padding_side == "right" else steps - lengths[None, :]
    pos = t - shift  # position inside each sequence, (T, B)
    index = xp.where((pos >= 0) & (pos < lengths[None, :]), starts[None, :] + pos, rows)
    pad_row = full((1, *sequences[0].data.shape[1:]), padding_value, dtype=sequences[0].dtype)
    joined = cat([*sequences, pad_row])
    return getitem(joined, Tensor(index.T if batch_first else index))


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of variable-length sequences. Mirrors ``torch.nn.utils.rnn.pack_sequence``."""
    lengths = [s.data.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False
) -> list[Tensor]:
    """Split a padded batch into its sequences. Mirrors ``torch.nn.utils.rnn.unpad_sequence``."""
    if not batch_first:
        padded_sequences = transpose(padded_sequences, 0, 1)  # (B, T, *)
    return [padded_sequences[b, :n] for b, n in enumerate(_lengths_list(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """Split a PackedSequence into its sequences. Mirrors ``torch.nn.utils.rnn.unpack_sequence``."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
