"""Gradient checkpointing: trade compute for memory. Mirrors ``torch.utils.checkpoint``.

``checkpoint(function, *args)`` runs ``function`` under ``no_grad``, so none of its
intermediate values are kept, and records a single node. Its backward restores the random
state of the forward (so dropout draws the same masks), runs ``function`` again with grad
enabled, and differentiates that fresh graph.

Parameters reach the gradient in two ways. Those of a ``Module`` passed as ``function`` (or
the module of a bound method, or the modules given to ``checkpoint_sequential``) become inputs
of the node, so ``backward()`` and ``autograd.grad`` treat them exactly as without
checkpointing. Any other leaf that the recomputed graph reaches (a parameter captured by a
closure) gets its gradient accumulated into ``.grad`` during the backward, as PyTorch's
reentrant variant does; ``autograd.grad`` cannot ask for such a leaf.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from ember.autograd.engine import _accumulate
from ember.autograd.engine import grad as _engine_grad
from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ember.backend.random import default_generator
from ember.tensor import Tensor

__all__ = ["CheckpointError", "checkpoint", "checkpoint_sequential", "noop_context_fn"]

_DETERMINISM_CHECKS = ("default", "none")


class CheckpointError(RuntimeError):
    """The recomputation differed from the forward. Mirrors ``torch.utils.checkpoint``'s."""


def noop_context_fn() -> tuple[
    contextlib.AbstractContextManager, contextlib.AbstractContextManager
]:
    """Return two do-nothing contexts (forward, recompute). Mirrors ``torch.utils.checkpoint``'s."""
    return contextlib.nullcontext(), contextlib.nullcontext()


class _Run:
    """What the recomputation needs: the function, its arguments and the forward's state."""

    def __init__(self, function: Callable, args: list, kwargs: dict, params: list) -> None:
        self.function = function
        self.args = args
        self.kwargs = kwargs
        self.params = params
        self.tensor_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.tensor_keys = [k for k, a in kwargs.items() if isinstance(a, Tensor)]
        self.rng_state: Any = None
        self.contexts: tuple = ()
        self.check = True
        self.spec: Any = None
        self.meta: list = []

    def inputs(self) -> list[Tensor]:
        return [self.args[i] for i in self.tensor_slots] + [
            self.kwargs[k] for k in self.tensor_keys
        ]

    def call(self, inputs: list[Tensor]) -> Any:
        args, kwargs = list(self.args), dict(self.kwargs)
        for i, t in zip(self.tensor_slots, inputs):
            args[i] = t
        for k, t in zip(self.tensor_keys, inputs[len(self.tensor_slots) :]):
            kwargs[k] = t
        return self.function(*args, **kwargs)


def _flatten(outputs: Any) -> tuple[list[Tensor], Any]:
    """The Tensors among the outputs, and a spec to put the structure back together."""
    if isinstance(outputs, Tensor):
        return [outputs], None
    if isinstance(outputs, (tuple, list)):
        flat = [o for o in outputs if isinstance(o, Tensor)]
        return flat, (type(outputs), [isinstance(o, Tensor) for o in outputs], list(outputs))
    return [], ("other", outputs)


def _unflatten(tensors: tuple, spec: Any) -> Any:
    if spec is None:
        return tensors[0]
    if spec[0] == "other":
        return spec[1]
    kind, is_tensor, items = spec
    it = iter(tensors)
    out = [next(it) if flag else item for flag, item in zip(is_tensor, items)]
    return kind(out) if kind in (tuple, list) else kind(*out)


class _Checkpoint(Function):
    """A recorded checkpoint: forward without a graph, backward by recomputation."""

    @staticmethod
    def forward(ctx: Context, run: _Run, *arrays: Any) -> tuple:
        with no_grad(), run.contexts[0]:
            outputs = run.call(run.inputs())
        flat, run.spec = _flatten(outputs)
        run.meta = [(tuple(t.shape), t.dtype) for t in flat]
        if ctx.needs_input_grad:
            ctx.run = run
        return tuple(t.data for t in flat)

    @staticmethod
    def backward(ctx: Context, *grads: Tensor) -> tuple:
        run = ctx.run
        needs = ctx.needs_input_grad
        originals = run.inputs()
        create_graph = is_grad_enabled()
        n_in = len(originals)
        inputs = [_recompute_input(t, needs[1 + k], create_graph) for k, t in enumerate(originals)]
        flat = _recompute(run, inputs)
        targets = [t for k, t in enumerate(inputs) if needs[1 + k]]
        params = [p for k, p in enumerate(run.params) if needs[1 + n_in + k]]
        pairs = [(o, g) for o, g in zip(flat, grads) if o.requires_grad and g is not None]
        result: list = [None] * len(needs)
        if not pairs:
            return tuple(result)
        known = targets + params
        others = _other_leaves([o for o, _ in pairs], known, inputs)
        found = _engine_grad(
            [o for o, _ in pairs],
            known + others,
            [g for _, g in pairs],
            create_graph=create_graph,
            allow_unused=True,
        )
        for leaf, g in zip(others, found[len(known) :]):
            if g is not None:
                _accumulate(leaf, g, create_graph)
        it = iter(found[: len(known)])
        for k in range(n_in + len(run.params)):
            if needs[1 + k]:
                result[1 + k] = next(it)
        return tuple(result)


def _recompute_input(t: Tensor, needed: bool, create_graph: bool) -> Tensor:
    """A fresh input for the recomputation: an alias of t when a graph must reach it."""
    if needed and create_graph:
        with enable_grad():
            return t.view_as(t)
    out = t.detach()
    return out.requires_grad_(True) if needed else out


def _recompute(run: _Run, inputs: list[Tensor]) -> list[Tensor]:
    """Run the function again with grad enabled and the forward's random state."""
    saved = None
    if run.rng_state is not None:
        saved = default_generator.get_state()
        default_generator.set_state(run.rng_state)
    try:
        with enable_grad(), run.contexts[1]:
            outputs = run.call(inputs)
    finally:
        if saved is not None:
            default_generator.set_state(saved)
    flat, _ = _flatten(outputs)
    if run.check and [(tuple(t.shape), t.dtype) for t in flat] != run.meta:
        raise CheckpointError(
            "ember.utils.checkpoint: Recomputed values have different metadata than during "
            f"the forward pass: forward gave {_describe(run.meta)}, recomputation gave "
            f"{_describe([(tuple(t.shape), t.dtype) for t in flat])}."
        )
    return flat


def _describe(meta: list) -> str:
    return ", ".join(f"{dtype}{list(shape)}" for shape, dtype in meta) or "no tensors"


def _other_leaves(outputs: list[Tensor], known: list[Tensor], inputs: list[Tensor]) -> list:
    """Leaves requiring grad that the recomputed graph reaches, beyond the node's own inputs."""
    stop = {id(t.grad_fn if t.grad_fn is not None else t) for t in known + inputs}
    seen: set = set()
    leaves = []
    stack = [o.grad_fn if o.grad_fn is not None else o for o in outputs]
    while stack:
        node = stack.pop()
        if id(node) in seen or id(node) in stop:
            continue
        seen.add(id(node))
        if type(node) is Context:
            stack.extend(edge[0] for edge in node.next_edges if edge is not None)
        elif node.requires_grad:
            leaves.append(node)
    return leaves


def _module_parameters(function: Any) -> list:
    """The parameters of function when it is a Module (or a Module's bound method)."""
    from ember.nn.module import Module  # function level: utils must not import nn at load

    owner = function if isinstance(function, Module) else getattr(function, "__self__", None)
    return list(owner.parameters()) if isinstance(owner, Module) else []


def _run_checkpoint(
    function: Callable,
    args: tuple,
    kwargs: dict,
    params: list,
    preserve_rng_state: bool,
    context_fn: Callable,
    determinism_check: str,
) -> Any:
    run = _Run(function, list(args), kwargs, [])
    inputs = run.inputs()
    seen = {id(t) for t in inputs}
    run.params = [p for p in params if id(p) not in seen and not seen.add(id(p))]
    run.contexts = context_fn()
    run.check = determinism_check == "default"
    grad_on = is_grad_enabled()
    if grad_on and not any(t.requires_grad for t in inputs + run.params):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None", stacklevel=3
        )
    if preserve_rng_state and grad_on:
        run.rng_state = default_generator.get_state()
    outputs = _Checkpoint.apply(run, *inputs, *run.params)
    return _unflatten(outputs, run.spec)


def checkpoint(
    function: Callable,
    *args: Any,
    use_reentrant: bool | None = None,
    context_fn: Callable[[], tuple] = noop_context_fn,
    determinism_check: str = "default",
    debug: bool = False,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """Run function(*args, **kwargs) without keeping its graph; recompute it in backward.

    Mirrors ``torch.utils.checkpoint.checkpoint``.

    Differences from PyTorch: both values of ``use_reentrant`` run the same mechanism
    (``None`` acts as ``False`` and does not warn); ``use_reentrant=True`` still rejects
    keyword arguments, ``context_fn`` and ``debug`` as PyTorch does. ``debug=True`` records no
    operator log. The determinism check compares the shapes and dtypes of the outputs. A
    parameter that the function captures in a closure (rather than one of a Module passed as
    ``function``) gets its gradient by accumulation into ``.grad``, so ``autograd.grad``
    cannot request it (PyTorch's reentrant variant shares that limit). When grad mode is on and
    neither an input nor a tracked parameter requires grad, it warns as PyTorch's reentrant
    variant does ("None of the inputs have requires_grad=True"): a closure's parameters would
    get no gradient.

    Args:
        function: What to run; a Module's parameters are tracked as inputs of the node.
        *args: Its positional arguments (Tensors or anything else).
        use_reentrant: Accepted for compatibility (see above).
        context_fn: Returns two context managers, entered around the forward and the
            recomputation.
        determinism_check: "default" (check the recomputed outputs' metadata) or "none".
        debug: Accepted for compatibility.
        preserve_rng_state: Whether the recomputation sees the forward's random state.
        **kwargs: Its keyword arguments.

    Returns:
        What function returns.
    """
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(
            f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got "
            f"{determinism_check}"
        )
    params = _module_parameters(function)
    return _run_checkpoint(
        function, args, kwargs, params, preserve_rng_state, context_fn, determinism_check
    )


def checkpoint_sequential(
    functions: Any,
    segments: int,
    input: Tensor,
    use_reentrant: bool | None = None,
    **kwargs: Any,
) -> Tensor:
    """Run a sequence of modules in segments, checkpointing all but the last segment.

    Mirrors ``torch.utils.checkpoint.checkpoint_sequential``: ``len(functions) // segments``
    modules per segment, the last segment taking the rest and running normally.

    Differences from PyTorch: ``segments`` outside 1..len(functions) raises ValueError (PyTorch
    fails with ZeroDivisionError or a range() error).

    Args:
        functions: An ``nn.Sequential`` or a list of modules / functions, run in order.
        segments: The number of chunks.
        input: The input of the first function.
        use_reentrant: Accepted for compatibility.
        **kwargs: ``preserve_rng_state`` only.

    Returns:
        The output of the last function.
    """
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if hasattr(functions, "children") and hasattr(functions, "_modules"):
        functions = list(functions.children())
    functions = list(functions)
    if isinstance(segments, bool) or not isinstance(segments, int):
        raise TypeError(f"checkpoint_sequential: segments must be an int, got {segments!r}")
    if not 1 <= segments <= max(len(functions), 1):
        raise ValueError(
            f"checkpoint_sequential: segments must be between 1 and the number of functions "
            f"({len(functions)}), got {segments}"
        )
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        chunk = functions[start : end + 1]
        input = _run_checkpoint(
            _Segment(chunk), (input,), {}, _parameters(chunk), preserve, noop_context_fn, "default"
        )
    return _Segment(functions[end + 1 :])(input)


class _Segment:
    """Run a list of functions one after the other."""

    def __init__(self, functions: list) -> None:
        self.functions = functions

    def __call__(self, input: Any) -> Any:
        for fn in self.functions:
            input = fn(input)
        return input


def _parameters(functions: Iterable) -> list:
    params: list = []
    for fn in functions:
        params.extend(_module_parameters(fn))
    return params
