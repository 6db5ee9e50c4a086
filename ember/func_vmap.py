"""``vmap`` and ``stack_module_state`` for ``ember.func``, written as an honest Python loop.

PyTorch's ``vmap`` batches by rewriting every op to work on a hidden batch dimension. Ember has
no batching rules: its ``vmap`` slices each mapped input along its ``in_dim``, calls the
function once per example and stacks the outputs along ``out_dims``. The values, the argument
conventions and the errors are ``torch.func.vmap``'s; the cost is one Python call per example.
Slicing and stacking are ordinary differentiable ops, so ``vmap`` composes with ``grad``,
``functional_call``, ``backward`` and itself (nested ``vmap``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from ember.backend.random import default_generator
from ember.ops.dims import stack, unbind
from ember.tensor import Tensor

__all__ = ["stack_module_state", "vmap"]

_RANDOMNESS = ("error", "different", "same")


# -- pytrees: tuple, list, namedtuple and dict are containers, everything else a leaf ----------
def _is_node(tree: Any) -> bool:
    return isinstance(tree, (tuple, list, dict))


def _children(tree: Any) -> list:
    return list(tree.values()) if isinstance(tree, dict) else list(tree)


def _flatten(tree: Any) -> list:
    if not _is_node(tree):
        return [tree]
    return [leaf for child in _children(tree) for leaf in _flatten(child)]


def _rebuild(tree: Any, leaves: Iterable) -> Any:
    """A tree shaped like ``tree`` whose leaves are taken, in order, from the iterator."""
    if not _is_node(tree):
        return next(leaves)
    items = [_rebuild(child, leaves) for child in _children(tree)]
    if isinstance(tree, dict):
        return type(tree)(zip(tree.keys(), items))
    if hasattr(tree, "_fields"):  # namedtuple (torch.return_types-like results)
        return type(tree)(*items)
    return type(tree)(items)


def _structure(tree: Any) -> str:
    """A short text form of a tree's structure, leaves as ``*``."""
    if not _is_node(tree):
        return "*"
    if isinstance(tree, dict):
        inner = ", ".join(f"{key!r}: {_structure(v)}" for key, v in tree.items())
        return "{" + inner + "}"
    inner = ", ".join(_structure(child) for child in tree)
    return f"{type(tree).__name__}({inner})"


def _broadcast_prefix(prefix: Any, tree: Any) -> list | None:
    """Flatten ``prefix`` against ``tree``: a leaf of prefix covers a whole subtree.

    Returns None when prefix is not a prefix of tree's structure (``torch.utils._pytree``'s
    ``_broadcast_to_and_flatten``).
    """
    if not _is_node(prefix):
        return [prefix] * len(_flatten(tree))
    if type(prefix) is not type(tree) or len(prefix) != len(tree):
        return None
    if isinstance(prefix, dict):
        if set(prefix) != set(tree):
            return None
        pairs = [(prefix[key], tree[key]) for key in tree]
    else:
        pairs = list(zip(prefix, tree))
    out = []
    for sub_prefix, sub_tree in pairs:
        flat = _broadcast_prefix(sub_prefix, sub_tree)
        if flat is None:
            return None
        out.extend(flat)
    return out


def _name(func: Callable) -> str:
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return repr(func)


# -- inputs ------------------------------------------------------------------------------------
def _flat_in_dims(func: Callable, in_dims: Any, args: tuple) -> tuple[list, list, int]:
    """Validate in_dims against args: (flat args, flat non-negative in_dims, batch size)."""
    head = f"vmap({_name(func)}, in_dims={in_dims}, ...)(<inputs>): "
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(
            f"{head}expected `in_dims` to be int or a (potentially nested) tuple matching the "
            f"structure of inputs, got: {type(in_dims)}."
        )
    if not args:
        raise ValueError(
            f"vmap({_name(func)})(<inputs>): got no inputs. Maybe you forgot to add inputs, or "
            "you are trying to vmap over a function with no inputs. The latter is unsupported."
        )
    flat_args = _flatten(args)
    flat_dims = _broadcast_prefix(in_dims, args)
    if flat_dims is None:
        raise ValueError(
            f"{head}in_dims is not compatible with the structure of `inputs`. in_dims has "
            f"structure {_structure(in_dims)} but inputs has structure {_structure(args)}."
        )
    sizes = []
    for i, (arg, dim) in enumerate(zip(flat_args, flat_dims)):
        if dim is None:
            continue
        if not isinstance(dim, int):
            raise ValueError(
                f"{head}Got in_dim={dim} for an input but in_dim must be either an integer "
                "dimension or None."
            )
        if not isinstance(arg, Tensor):
            raise ValueError(
                f"{head}Got in_dim={dim} for an input but the input is of type {type(arg)}. We "
                "cannot vmap over non-Tensor arguments, please use None as the respective in_dim"
            )
        ndim = arg.dim()
        if not -ndim <= dim < ndim:
            raise ValueError(
                f"{head}Got in_dim={dim} for some input, but that input is a Tensor of "
                f"dimensionality {ndim} so expected in_dim to satisfy -{ndim} <= in_dim < {ndim}."
            )
        flat_dims[i] = dim % ndim
        sizes.append(arg.shape[flat_dims[i]])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension"
        )
    return flat_args, flat_dims, sizes[0]


def _examples(flat_args: list, flat_dims: list, batch_size: int) -> list[list]:
    """Per example, the flat arguments with each mapped input replaced by its slice."""
    if batch_size == 0:
        # NOTE: nothing to loop over; call func once on a zero example to learn the output
        # shapes, and return empty stacks of those (torch knows the shapes without a call).
        return [
            [
                a if d is None else a.detach().new_zeros(a.shape[:d] + a.shape[d + 1 :])
                for a, d in zip(flat_args, flat_dims)
            ]
        ]
    columns = [a if d is None else unbind(a, d) for a, d in zip(flat_args, flat_dims)]
    return [
        [col if d is None else col[i] for col, d in zip(columns, flat_dims)]
        for i in range(batch_size)
    ]


# -- outputs -----------------------------------------------------------------------------------
def _flat_out_dims(func: Callable, out_dims: Any, output: Any) -> list:
    head = f"vmap({_name(func)}, ..., out_dims={out_dims})"
    if any(not (d is None or isinstance(d, int)) for d in _flatten(out_dims)):
        raise ValueError(
            f"{head}: `out_dims` must be an int, None or a python collection of ints "
            "representing where in the outputs the vmapped dimension should appear."
        )
    if isinstance(output, Tensor):
        # A lone Tensor also accepts a 1-tuple of out_dims, as in torch.
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None if isinstance(out_dims, tuple) else [out_dims]
    else:
        flat = _broadcast_prefix(out_dims, output)
    if flat is None:
        raise ValueError(
            f"{head}(<inputs>): out_dims is not compatible with the structure of `outputs`. "
            f"out_dims has structure {_structure(out_dims)} but outputs has structure "
            f"{_structure(output)}."
        )
    return flat


def _stack_outputs(func: Callable, out_dims: Any, outputs: list, batch_size: int) -> Any:
    name = _name(func)
    flat_dims = _flat_out_dims(func, out_dims, outputs[0])
    per_example = [_flatten(out) for out in outputs]
    stacked = []
    for k, dim in enumerate(flat_dims):
        first = per_example[0][k]
        if dim is None:
            stacked.append(first)  # torch requires such an output not to depend on the batch
            continue
        if not isinstance(first, Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(first)}. "
                "Did you mean to set out_dims= to None for output?"
            )
        if batch_size == 0:
            shape = list(first.shape)
            shape.insert(dim % (first.dim() + 1), 0)
            stacked.append(first.detach().new_zeros(tuple(shape)))
        else:
            stacked.append(stack([leaves[k] for leaves in per_example], dim))
    return _rebuild(outputs[0], iter(stacked))


def vmap(
    func: Callable,
    in_dims: int | tuple = 0,
    out_dims: int | tuple | None = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """Return func mapped over a dimension of its inputs. Mirrors ``torch.func.vmap``.

    ``vmap(f)(x)`` equals ``stack([f(x[0]), f(x[1]), ...])``. ``in_dims`` is an int, None (do
    not map) or a tuple nested like the positional arguments (a leaf covers a whole tuple, list
    or dict argument); keyword arguments are never mapped. ``out_dims`` gives, per output (nested
    like the outputs), where the mapped dimension goes, or None for an output that does not
    depend on the mapped inputs.

    Differences from PyTorch: Ember's vmap is a Python loop, one call of func per example (plus
    one slicing op per mapped input and one stack per output), not a batched rewrite of each op:
    use it for convenience (per-example gradients, ensembles), not for speed. Because func sees
    ordinary tensors, code that torch's vmap rejects works here: ``.item()``, data-dependent
    control flow, in-place ops writing a per-example value into an unmapped tensor (each example
    overwrites it in turn). ``randomness="error"`` cannot detect random ops cheaply and behaves
    as ``"different"``; ``"same"`` rewinds Ember's default generator before each example, so every
    example sees the same draws. ``chunk_size`` is validated and otherwise ignored. An output
    with ``out_dims=None`` is taken from the first example. With a batch of size 0, func is
    called once on zero inputs to find the output shapes.

    Args:
        func: A function of Tensors (or tuples/lists/dicts of them) returning Tensors.
        in_dims: Where the mapped dimension is in each input.
        out_dims: Where the mapped dimension goes in each output.
        randomness: ``"error"``, ``"different"`` or ``"same"``.
        chunk_size: None or a positive int (no effect).

    Returns:
        The mapped function.
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        flat_args, flat_dims, batch_size = _flat_in_dims(func, in_dims, args)
        outputs = []
        # "same": every example starts from the generator state the first one saw.
        state = default_generator.engine.bit_generator.state if randomness == "same" else None
        for example in _examples(flat_args, flat_dims, batch_size):
            if state is not None:
                default_generator.engine.bit_generator.state = state
            outputs.append(func(*_rebuild(args, iter(example)), **kwargs))
        return _stack_outputs(func, out_dims, outputs, batch_size)

    return wrapped


def stack_module_state(models: Any) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Stack the parameters and buffers of models. Mirrors ``torch.func.stack_module_state``.

    For model ensembling: ``vmap(lambda p, b, x: functional_call(base, (p, b), (x,)))``. Stacked
    parameters are new leaves that require grad when the models' parameters do.

    Args:
        models: A sequence of modules of the same class and mode.

    Returns:
        ``(params, buffers)``: dicts from name to the tensors of all models stacked on dim 0.
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({m.training for m in models}) != 1:
        raise RuntimeError(
            "stack_module_state: Expected all models to have the same training/eval mode."
        )
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked(named: list[dict[str, Tensor]]) -> dict[str, Tensor]:
        out = {}
        for key in named[0]:
            tensors = [entries[key] for entries in named]
            flags = {t.requires_grad for t in tensors}
            if len(flags) != 1:
                raise RuntimeError(
                    f"Expected {key} from each model to have the same .requires_grad"
                )
            result = stack(tensors)
            out[key] = result.detach().requires_grad_() if flags == {True} else result
        return out

    params = stacked([dict(m.named_parameters()) for m in models])
    buffers = stacked([dict(m.named_buffers()) for m in models])
    return params, buffers
