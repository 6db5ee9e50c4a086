"""PyTorch's top-level aliases: numel, row_stack, the ``is_*`` predicates and ``*_copy``.

The top-level twins of ``nn.functional`` (``torch.conv2d``, ``torch.dropout``, the losses with
an integer ``reduction``, ...) live in ``nn_aliases.py``.
"""

from __future__ import annotations

from typing import Any

from ember.ops import dims as dm
from ember.ops import join
from ember.ops import shape as sh
from ember.ops import strided as st
from ember.ops.elementwise import clone
from ember.ops.inplace import fill_
from ember.ops.tensor_extras import select
from ember.tensor import Tensor

__all__ = [
    "alias_copy",
    "conj",
    "conj_physical",
    "detach",
    "detach_",
    "detach_copy",
    "diagonal_copy",
    "expand_copy",
    "fill",
    "get_device",
    "is_complex",
    "is_conj",
    "is_floating_point",
    "is_inference",
    "is_neg",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "is_tensor",
    "narrow_copy",
    "numel",
    "permute_copy",
    "real",
    "resolve_conj",
    "resolve_neg",
    "row_stack",
    "select_copy",
    "split_copy",
    "split_with_sizes",
    "squeeze_copy",
    "t_copy",
    "transpose_copy",
    "unbind_copy",
    "unsafe_chunk",
    "unsafe_split",
    "unsafe_split_with_sizes",
    "unsqueeze_copy",
    "view_copy",
]


# -- plain aliases ------------------------------------------------------------------------------
def numel(input: Tensor) -> int:
    """Return the number of elements. Mirrors ``torch.numel``."""
    if not isinstance(input, Tensor):
        raise TypeError(
            f"numel(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return input.data.size


def is_tensor(obj: Any) -> bool:
    """Return whether obj is an Ember tensor. Mirrors ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """Return whether the dtype is floating. Mirrors ``torch.is_floating_point``."""
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    """Return False: Ember has no complex dtypes yet. Mirrors ``torch.is_complex``."""
    return input.is_complex()


def is_signed(input: Tensor) -> bool:
    """Return whether the dtype is signed. Mirrors ``torch.is_signed``."""
    return input.is_signed()


def is_nonzero(input: Tensor) -> bool:
    """Return the truth of a one-element tensor. Mirrors ``torch.is_nonzero``."""
    return input.is_nonzero()


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Return whether both have the same shape. Mirrors ``torch.is_same_size``."""
    return input.is_same_size(other)


def is_inference(input: Tensor) -> bool:
    """Return False: Ember has no inference tensors. Mirrors ``torch.is_inference``."""
    return input.is_inference()


def is_conj(input: Tensor) -> bool:
    """Return False: real tensors carry no conjugate bit. Mirrors ``torch.is_conj``."""
    return False


def is_neg(input: Tensor) -> bool:
    """Return False: Ember tensors carry no negative bit. Mirrors ``torch.is_neg``."""
    return False


def get_device(input: Tensor) -> int:
    """Return the CUDA device index, or -1 on the CPU. Mirrors ``torch.get_device``."""
    return input.get_device()


def real(input: Tensor) -> Tensor:
    """Return input: the real part of a real tensor. Mirrors ``torch.real``."""
    return input


def conj(input: Tensor) -> Tensor:
    """Return input: the conjugate of a real tensor. Mirrors ``torch.conj``."""
    return input


conj_physical = resolve_conj = resolve_neg = conj


def detach(input: Tensor) -> Tensor:
    """Return a tensor sharing data, cut from the graph. Mirrors ``torch.detach``."""
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    """Cut input from the graph in place. Mirrors ``torch.detach_``."""
    return input.detach_()


def fill(input: Tensor, value: Any) -> Tensor:
    """Return a copy of input filled with value (a 0-d tensor value is differentiable).

    Mirrors ``torch.fill``.
    """
    return fill_(clone(input), value)


def row_stack(tensors: Any) -> Tensor:
    """Stack tensors row-wise (``vstack``). Mirrors ``torch.row_stack``."""
    return join.vstack(tensors)


def split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of the given sizes along dim. Mirrors ``torch.split_with_sizes``."""
    split_sizes = [int(n) for n in split_sizes]
    total = sum(split_sizes)
    size = input.size(dim)
    if total != size or any(n < 0 for n in split_sizes):
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
            f"at dimension {dim}), but got split_sizes={split_sizes}"
        )
    return tuple(join.split(input, split_sizes, dim))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into chunks (views). Mirrors ``torch.unsafe_chunk``."""
    return tuple(join.chunk(input, chunks, dim))


def unsafe_split(input: Tensor, split_size: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of split_size (views). Mirrors ``torch.unsafe_split``."""
    return tuple(join.split(input, split_size, dim))


def unsafe_split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of the given sizes. Mirrors ``torch.unsafe_split_with_sizes``."""
    return split_with_sizes(input, split_sizes, dim)


# -- the *_copy functions: the view op, then a copy --------------------------------------------
def alias_copy(input: Tensor) -> Tensor:
    """Return a copy of input. Mirrors ``torch.alias_copy``."""
    return clone(input)


def detach_copy(input: Tensor) -> Tensor:
    """Return a detached copy. Mirrors ``torch.detach_copy``."""
    return clone(input.detach())


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Return a copy of ``narrow``. Mirrors ``torch.narrow_copy``."""
    return clone(st.narrow(input, dim, start, length))


def permute_copy(input: Tensor, dims: Any) -> Tensor:
    """Return a copy of ``permute``. Mirrors ``torch.permute_copy``."""
    return clone(sh.permute(input, dims))


def expand_copy(input: Tensor, size: Any, *, implicit: bool = False) -> Tensor:
    """Return a copy of ``expand``. Mirrors ``torch.expand_copy``."""
    return clone(sh.expand(input, size))


def transpose_copy(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Return a copy of ``transpose``. Mirrors ``torch.transpose_copy``."""
    return clone(sh.transpose(input, dim0, dim1))


def t_copy(input: Tensor) -> Tensor:
    """Return a copy of ``t``. Mirrors ``torch.t_copy``."""
    return clone(sh.t(input))


def diagonal_copy(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """Return a copy of ``diagonal``. Mirrors ``torch.diagonal_copy``."""
    return clone(st.diagonal(input, offset, dim1, dim2))


def select_copy(input: Tensor, dim: int, index: int) -> Tensor:
    """Return a copy of ``select``. Mirrors ``torch.select_copy``."""
    return clone(select(input, dim, index))


def squeeze_copy(input: Tensor, dim: Any = None) -> Tensor:
    """Return a copy of ``squeeze``. Mirrors ``torch.squeeze_copy``."""
    return clone(dm.squeeze(input) if dim is None else dm.squeeze(input, dim))


def unsqueeze_copy(input: Tensor, dim: int) -> Tensor:
    """Return a copy of ``unsqueeze``. Mirrors ``torch.unsqueeze_copy``."""
    return clone(dm.unsqueeze(input, dim))


def view_copy(input: Tensor, size: Any) -> Tensor:
    """Return a copy of ``view``. Mirrors ``torch.view_copy``."""
    return clone(sh.view(input, size))


def unbind_copy(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Return copies of ``unbind``'s slices. Mirrors ``torch.unbind_copy``."""
    return tuple(clone(t) for t in dm.unbind(input, dim))


def split_copy(input: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Return copies of ``split``'s pieces. Mirrors ``torch.split_copy``."""
    return tuple(clone(t) for t in join.split(input, split_size, dim))
