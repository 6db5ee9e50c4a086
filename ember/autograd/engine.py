"""The backward sweep: ``backward()`` and ``grad()``.

Nodes are the ``Context`` of each recorded op; a leaf that requires grad is its own node. The
sweep orders the nodes reachable from the roots (reverse DFS post-order), then walks them once,
summing the gradients that reach each node before running its backward.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from ember.autograd.function import _FREED, Context
from ember.autograd.grad_mode import set_grad_enabled
from ember.backend import array_module
from ember.tensor import Tensor

# Switches flipped by anomaly_mode: plain globals, one load per backward step when off.
_anomaly = False
_check_nan = True
# The backward calls running now, innermost last: [order, needed, set of order or None].
_graph_tasks: list = []


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate gradients of tensors into the leaves' ``grad``.

    Mirrors ``torch.autograd.backward``.
    """
    roots, grads = _roots(tensors, grad_tensors)
    targets = None
    if inputs is not None:
        targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        if not targets:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    retain = create_graph if retain_graph is None else retain_graph
    _run(roots, grads, retain, create_graph, targets, accumulate=True)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching ``.grad``. Mirrors ``torch.autograd.grad``."""
    roots, grads = _roots(outputs, grad_outputs)
    targets = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for t in targets:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    found = _run(roots, grads, retain, create_graph, targets, accumulate=False)
    result = []
    for t, g in zip(targets, found):
        if g is None:
            if materialize_grads:
                g = _zeros(t.data.shape, t.dtype, t.data)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        result.append(g)
    return tuple(result)


def _roots(tensors: Any, grad_tensors: Any) -> tuple[list[Tensor], list[Tensor]]:
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grads = [None] * len(roots)
    elif isinstance(grad_tensors, Tensor):
        grads = [grad_tensors]
    else:
        grads = list(grad_tensors)
    if len(grads) != len(roots):
        raise RuntimeError(
            f"grad_tensors has {len(grads)} entries but there are {len(roots)} tensors"
        )
    out = []
    for root, g in zip(roots, grads):
        if not root._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if g is None:
            if root.data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = Tensor(array_module(root.data).ones_like(root.data))
        elif not isinstance(g, Tensor):
            g = Tensor(root.data.dtype.type(g) if not hasattr(g, "shape") else g)
        if tuple(g.shape) != tuple(root.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and "
                f"output[0] has a shape of {list(root.shape)}."
            )
        out.append(g)
    return roots, out


def _topological_order(starts: list) -> list:
    """Nodes reachable from starts, each before every node it sends gradients to."""
    order: list = []
    seen: set = set()
    stack = [(node, False) for node in starts]
    push, pop, add, append = stack.append, stack.pop, seen.add, order.append
    while stack:
        node, expanded = pop()
        if expanded:
            append(node)
            continue
        if node in seen:
            continue
        add(node)
        push((node, True))
        if type(node) is Context:
            for edge in node.next_edges:
                if edge is not None and edge[0] not in seen:
                    push((edge[0], False))
    order.reverse()
    return order


def _needed(order: list, targets: list[Tensor]) -> set:
    """The nodes that lie on a path to one of the targets (the rest need not run)."""
    wanted = {t.grad_fn if t.grad_fn is not None else t for t in targets}
    needed = set()
    for node in reversed(order):
        if node in wanted or (
            type(node) is Context and any(e is not None and e[0] in needed for e in node.next_edges)
        ):
            needed.add(node)
    return needed


def _run(
    roots: list[Tensor],
    root_grads: list[Tensor],
    retain: bool,
    create_graph: bool,
    targets: list[Tensor] | None,
    accumulate: bool,
) -> list:
    buffers: dict[Any, list] = {}
    for root, g in zip(roots, root_grads):
        _add_to(buffers, root.grad_fn or root, root._output_nr, g)
    order = _topological_order(list(buffers))
    needed = _needed(order, targets) if targets is not None else None
    captures = {}
    if targets is not None:
        for i, t in enumerate(targets):
            captures.setdefault((t.grad_fn or t, t._output_nr), []).append(i)
    found: list = [None] * (len(targets) if targets is not None else 0)
    _graph_tasks.append([order, needed, None])
    try:
        _sweep(order, buffers, needed, captures, found, retain, create_graph, accumulate)
    finally:
        _graph_tasks.pop()
    return found


def _sweep(
    order: list,
    buffers: dict,
    needed: set | None,
    captures: dict,
    found: list,
    retain: bool,
    create_graph: bool,
    accumulate: bool,
) -> None:
    """Walk the nodes in order, running each backward and passing its gradients on."""
    pop, get = buffers.pop, buffers.get
    with set_grad_enabled(create_graph):
        for node in order:
            buf = pop(node, None)
            if buf is None or (needed is not None and node not in needed):
                continue
            if type(node) is not Context:
                _reach_leaf(node, buf[0], captures, found, accumulate, create_graph)
                continue
            if node.released:
                raise RuntimeError(_FREED)
            if captures or node.tensor_hooks or node.output_meta is not None:
                buf = _prepare(node, buf, captures, found)
            grads = _backward_with_anomaly(node, buf) if _anomaly else node.fn.backward(node, *buf)
            if type(grads) is not tuple:
                grads = (grads,)
            edges = node.next_edges
            if len(grads) != len(edges):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {len(edges)}, got {len(grads)})"
                )
            if not retain:
                node.release()
            for edge, g in zip(edges, grads):
                if edge is not None and g is not None:
                    target, nr = edge
                    tbuf = get(target)
                    if tbuf is None:
                        _add_to(buffers, target, nr, g)
                    else:
                        old = tbuf[nr]
                        tbuf[nr] = g if old is None else old + g


def _backward_with_anomaly(node: Context, buf: list) -> Any:
    """Run a node's backward under detect_anomaly: NaN check, forward stack on errors."""
    try:
        grads = node.fn.backward(node, *buf)
        if _check_nan:
            for i, g in enumerate(grads if type(grads) is tuple else (grads,)):
                if isinstance(g, Tensor) and _has_nan(g):
                    raise RuntimeError(
                        f"Function '{node.name()}' returned nan values in its {i}th output."
                    )
    except Exception:
        stack = node.__dict__.get("forward_stack")
        if stack is None:
            info = (
                "No forward pass information available. Enable detect anomaly during forward "
                "pass for more information."
            )
        else:
            info = "Traceback of forward call that caused the error:\n" + "".join(stack)
        warnings.warn(f"Error detected in {node.name()}. {info}", UserWarning, stacklevel=5)
        raise
    return grads


def _has_nan(g: Tensor) -> bool:
    return g.is_floating_point() and bool(array_module(g.data).isnan(g.data).any())


def will_engine_execute_node(node: Any) -> bool:
    """Whether the running backward call will run ``node`` (a grad_fn or a leaf tensor)."""
    if not _graph_tasks:
        raise RuntimeError(
            "_will_engine_execute_node should only be called during the backward pass"
        )
    task = _graph_tasks[-1]
    if task[2] is None:
        task[2] = set(task[0])
    return node in task[2] and (task[1] is None or node in task[1])


def current_graph_task() -> list | None:
    """The record of the innermost running backward call, or None outside backward."""
    return _graph_tasks[-1] if _graph_tasks else None


def _reach_leaf(
    leaf: Tensor, g: Tensor, captures: dict, found: list, accumulate: bool, create_graph: bool
) -> None:
    """Run a leaf's hooks, then capture its gradient (grad()) or accumulate it (backward())."""
    g = _leaf_hooks(leaf, g)
    if (leaf, 0) in captures:
        for i in captures[(leaf, 0)]:
            found[i] = g
        if not accumulate:
            return
    if accumulate:
        _accumulate(leaf, g, create_graph)


def _prepare(node: Context, buf: list, captures: dict, found: list) -> list:
    """The rare steps before a node's backward: hooks, captures, zeros for unused outputs."""
    if node.tensor_hooks:
        for nr, hooks in node.tensor_hooks.items():
            if buf[nr] is not None:
                for hook in list(hooks):
                    new = hook(buf[nr])
                    if new is not None:
                        buf[nr] = new
    if captures:
        for nr in range(len(buf)):
            for i in captures.get((node, nr), ()):
                found[i] = buf[nr]
    if node.materialize_grads and node.output_meta is not None:
        like = next(g.data for g in buf if g is not None)
        buf = [
            g if g is not None else _zeros(shape, dtype, like)
            for g, (shape, dtype, _) in zip(buf, node.output_meta)
        ]
    return buf


def _add_to(buffers: dict, node: Any, nr: int, g: Tensor) -> None:
    buf = buffers.get(node)
    if buf is None:
        size = len(node.output_meta) if type(node) is Context and node.output_meta else 1
        buf = buffers[node] = [None] * max(size, nr + 1)
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def _leaf_hooks(leaf: Tensor, g: Tensor) -> Tensor:
    if leaf._hooks:
        for hook in list(leaf._hooks):
            new = hook(g)
            if new is not None:
                g = new
    return g


def _accumulate(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    """Add g into leaf.grad: a fresh contiguous copy first, in place after (as AccumulateGrad)."""
    if g.data.shape != leaf.data.shape:
        raise RuntimeError(
            f"gradient of shape {list(g.shape)} reached a leaf of shape {list(leaf.shape)}"
        )
    if leaf.grad is None:
        leaf.grad = g if create_graph else Tensor(g.data.copy())
    elif create_graph or leaf.grad._requires_grad:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad.data += g.data
    hooks = leaf._post_accumulate_grad_hooks
    if hooks:
        for hook in list(hooks):
            result = hook(leaf)
            if result is not None:  # PyTorch's two errors
                if not isinstance(result, Tensor):
                    kind = type(result).__name__
                    raise TypeError(f"expected Variable, but hook returned '{kind}'")
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _zeros(shape: tuple, dtype: Any, like: Any) -> Tensor:
    """A zero gradient (ops are above the engine, so it uses the array module directly)."""
    xp = array_module(like)
    return Tensor(xp.zeros(tuple(shape), dtype=dtype.np))
