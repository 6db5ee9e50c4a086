"""Function, the base of every differentiable primitive, and its Context (the graph node).

An op subclasses ``Function`` and writes ``forward(ctx, *arrays)`` on backend arrays and
``backward(ctx, *grads)`` on Tensors with Ember ops, so gradients are differentiable too.
``Function.apply`` runs forward and, when grad mode is on and an input requires grad, records
the context as the ``grad_fn`` of the outputs. It is the hot path of every op: keep it small.
"""

from __future__ import annotations

import functools
import traceback
from typing import Any

from ember.autograd.grad_mode import grad_mode, no_grad
from ember.backend import ARRAY_TYPES, ensure_array
from ember.backend.dtypes import ALL_DTYPES
from ember.tensor import Tensor

_DIFFERENTIABLE = frozenset(d.np for d in ALL_DTYPES if d.is_floating_point)

# Switches flipped by anomaly_mode and graph: plain globals, one load per recorded op when off.
_anomaly = False  # record the forward stack of each node (set_detect_anomaly)
_saved_hooks: list = []  # (pack, unpack) pairs of saved_tensors_hooks, innermost last
_OUTPUT = object()  # marks a hooked saved value that is one of its node's outputs

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _NothingNeeded:
    """needs_input_grad of a call that is not recorded: False for every input."""

    __slots__ = ()

    def __getitem__(self, index: int) -> bool:
        return False

    def __bool__(self) -> bool:
        return False  # lets forward skip saving: `if ctx.needs_input_grad: ctx.shapes = ...`


class Context:
    """The record of one op call: what backward needs, and the edges to the inputs' nodes.

    Mirrors the ``ctx`` of ``torch.autograd.Function`` and is the ``grad_fn`` of the outputs.
    Forward may set any attribute on it (``ctx.shapes = ...``); those count as constants.
    """

    # Hot fields are slots; the rest live in __dict__ only when set, with class defaults here.
    __slots__ = ("__dict__", "__weakref__", "fn", "next_edges")
    needs_input_grad: Any = _NothingNeeded()
    materialize_grads = True
    released = False
    tensor_hooks: dict | None = None
    output_meta: tuple | None = None
    _to_save: tuple | None = None
    _saved: list | None = None
    _non_differentiable: set | None = None

    def __init__(self, fn: type) -> None:
        self.fn = fn

    # -- the ctx API of torch.autograd.Function -------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or Tensors) for backward; inputs and outputs come back as Tensors."""
        if self.needs_input_grad:  # a call that is not recorded keeps nothing
            self._to_save = values

    @property
    def saved_tensors(self) -> tuple[Tensor | None, ...]:
        """The saved values as Tensors, checked against in-place changes since they were saved."""
        if self.released:
            raise RuntimeError(_FREED)
        if self._saved is None:
            return ()
        return tuple(_unpack(self, entry) for entry in self._saved)

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Mark outputs (arrays or Tensors) that get no gradient, such as argmax indices."""
        self._non_differentiable = {id(o.data if isinstance(o, Tensor) else o) for o in outputs}

    def set_materialize_grads(self, value: bool) -> None:
        """Choose whether missing output gradients reach backward as zeros (default) or None."""
        self.materialize_grads = value

    # -- graph-node API -------------------------------------------------------------------
    def name(self) -> str:
        """The node's name, as PyTorch prints it (``MulBackward0``)."""
        return f"{self.fn.__name__}Backward0"

    @property
    def next_functions(self) -> tuple:
        """The edges to the inputs' nodes: (node or leaf Tensor, output index) or None."""
        return getattr(self, "next_edges", ())

    def register_hook(self, hook: Any) -> None:
        """Not supported on nodes yet; use ``Tensor.register_hook``."""
        raise NotImplementedError("node hooks are not supported; use Tensor.register_hook")

    def release(self) -> None:
        """Free what backward kept, after a backward without retain_graph."""
        self.__dict__.clear()
        self.released = True

    def __repr__(self) -> str:
        return f"<{self.name()}>"


def _unpack(ctx: Context, entry: tuple) -> Tensor | None:
    kind, value, version, counter, index = entry
    if counter is not None and counter[0] != version:
        tensor = value if kind == 0 else Tensor(value)
        tensor_desc = f"[{tensor.type()} {list(tensor.shape)}]"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: {tensor_desc}, which is output {index} of {ctx.name()}, is at "
            f"version {counter[0]}; expected version {version} instead. Hint: the backtrace "
            "further above can point to the operation that failed to compute its gradient."
        )
    if kind == 0:  # an input: the Tensor itself, so second derivatives reach it
        return value
    if kind == 1:  # an output: rebuilt with ctx as its grad_fn (holding it would be a cycle)
        out = Tensor(value, requires_grad=True)
        out.grad_fn, out._output_nr, out._version = ctx, index, counter
        return out
    if kind == 3:
        return _unpack_hooked(ctx, value, index)
    return value  # a constant


def _unpack_hooked(ctx: Context, value: tuple, index: int) -> Tensor:
    """Run the unpack hook of a value saved under saved_tensors_hooks and rewire its graph."""
    packed, unpack, link = value
    tensor = unpack(packed)
    if not isinstance(tensor, Tensor):
        raise TypeError(
            "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
            f"type {type(tensor).__name__}"
        )
    if link is None:  # a constant, or an input that does not require grad
        return Tensor(tensor.data)
    out = Tensor(tensor.data, requires_grad=True)
    if link is _OUTPUT:  # one of ctx's own outputs
        out.grad_fn, out._output_nr = ctx, index
    elif isinstance(link, Tensor):  # a leaf input: reach it through an identity node
        node = Context(_Unpacked)
        node.needs_input_grad = [True]
        node.next_edges = ((link, 0),)
        out.grad_fn = node
    else:  # a non-leaf input: the same place in the graph as the original
        out.grad_fn, out._output_nr = link
    return out


def _save(ctx: Context, args: tuple, outputs: tuple, raws: tuple) -> None:
    entries = []
    for value in ctx._to_save:
        if value is None:
            entries.append((2, None, 0, None, 0))
            continue
        array = value.data if isinstance(value, Tensor) else value
        entries.append(_saved_entry(array, args, outputs, raws))
    if _saved_hooks:
        entries = [_pack(entry, outputs) for entry in entries]
    ctx._saved = entries
    ctx._to_save = None


def _pack(entry: tuple, outputs: tuple) -> tuple:
    """Send one saved tensor through the innermost pack hook (saved_tensors_hooks)."""
    kind, value, version, _, index = entry
    if kind == 0:
        link = value.grad_fn and (value.grad_fn, value._output_nr)
        tensor, link = value, link or (value if value._requires_grad else None)
    elif kind == 1:
        tensor = outputs[index]
        link = _OUTPUT if tensor._requires_grad else None  # integer outputs get no gradient
    elif isinstance(value, Tensor):
        tensor, link = value, None
    else:  # None or a Python scalar: not a tensor, no hook
        return entry
    pack, unpack = _saved_hooks[-1]
    # No version check afterwards, as PyTorch: the hooks own the saved data from here on.
    return (3, (pack(tensor), unpack, link), version, None, index)


def _saved_entry(array: Any, args: tuple, outputs: tuple, raws: tuple) -> tuple:
    for arg in args:
        if isinstance(arg, Tensor) and arg.data is array:
            return (0, arg, arg._version[0], arg._version, arg._output_nr)
    for i, out in enumerate(outputs):
        if out.data is array or raws[i] is array:  # raws: before scalars became arrays
            return (1, out.data, out._version[0], out._version, i)
    if isinstance(array, ARRAY_TYPES):
        return (2, Tensor(array), 0, None, 0)
    return (2, array, 0, None, 0)  # a Python scalar stays one


class Function:
    """Base of a differentiable primitive: ``forward`` on arrays, ``backward`` on Tensors.

    Mirrors ``torch.autograd.Function`` for Ember's own ops. Differences from PyTorch: forward
    receives backend arrays; user code should subclass ``ember.autograd.Function`` (below,
    ``TensorFunction``), whose forward receives Tensors as PyTorch's does.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any) -> Any:
        raise NotImplementedError("Function subclasses must implement forward")

    @staticmethod
    def backward(ctx: Context, *grads: Tensor) -> Any:
        raise NotImplementedError("Function subclasses must implement backward")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward and record the graph when grad mode is on and an input requires grad."""
        ctx = _new_context(Context)
        ctx.fn = cls
        arrays = [arg.data if isinstance(arg, Tensor) else arg for arg in args]
        record = False
        if grad_mode.enabled:
            for arg in args:
                if isinstance(arg, Tensor) and arg._requires_grad:
                    record = True
                    _link_inputs(ctx, args)
                    break
        raw = cls.forward(ctx, *arrays)
        if type(raw) is tuple:
            outputs = tuple(_wrap(o, args) for o in raw)
            if record:
                _record(ctx, args, outputs, raw)
            return outputs
        out = _wrap(raw, args)
        if record:
            _record(ctx, args, (out,), (raw,))
        return out


def _link_inputs(ctx: Context, args: tuple) -> None:
    """Set needs_input_grad and the edges to the inputs' nodes (a leaf is its own node)."""
    needs, edges = [], []
    for arg in args:
        if isinstance(arg, Tensor) and arg._requires_grad:
            needs.append(True)
            edges.append((arg.grad_fn or arg, arg._output_nr))
        else:
            needs.append(False)
            edges.append(None)
    ctx.needs_input_grad = needs
    ctx.next_edges = tuple(edges)


_new_context = object.__new__
_new_tensor = object.__new__


def _wrap(array: Any, args: tuple) -> Tensor:
    if not isinstance(array, ARRAY_TYPES):
        array = ensure_array(array)
    out = _new_tensor(Tensor)
    out.data = array
    out._requires_grad = False
    out.grad_fn = None
    out._output_nr = 0
    base = array.base
    if base is None:
        out._version = [0]
        return out
    while not isinstance(base, ARRAY_TYPES):  # as_strided views hide the array one level down
        base = getattr(base, "base", None)
        if base is None:
            out._version = [0]
            return out
    for arg in args:  # a view: share the version counter of the input it aliases
        if isinstance(arg, Tensor) and (base is arg.data or base is arg.data.base):
            out._version = arg._version
            out._base = arg
            return out
    out._version = [0]
    return out


def _record(ctx: Context, args: tuple, outputs: tuple, raws: tuple) -> None:
    skip = ctx._non_differentiable
    for i, out in enumerate(outputs):
        if out.data.dtype in _DIFFERENTIABLE and (skip is None or id(out.data) not in skip):
            out.grad_fn, out._output_nr, out._requires_grad = ctx, i, True
    if _anomaly:  # detect_anomaly: where this node came from, for errors in its backward
        ctx.forward_stack = traceback.format_stack()[:-2]
    if len(outputs) > 1:
        ctx.output_meta = tuple((o.shape, o.dtype, o._requires_grad) for o in outputs)
    if ctx._to_save is not None:
        _save(ctx, args, outputs, raws)


class _Unpacked(Function):
    """Identity node between a leaf and its copy from a saved_tensors_hooks unpack hook."""

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad


class TensorFunction(Function):
    """A user-defined differentiable function. Mirrors ``torch.autograd.Function``.

    ``forward(ctx, *args)`` receives Tensors (computed on without recording) and returns
    Tensors; ``backward(ctx, *grads)`` returns one gradient per forward argument. Exported as
    ``ember.autograd.Function``.
    """

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run forward on Tensors and record the graph, as ``torch.autograd.Function.apply``."""
        runner = cls.__dict__.get("_array_runner")
        if runner is None:  # an array-level twin: forward wraps arrays, backward is the user's
            forward = functools.partial(_forward_on_tensors, cls)
            body = {"forward": staticmethod(forward), "backward": staticmethod(cls.backward)}
            runner = type(cls.__name__, (Function,), body)
            cls._array_runner = runner
        return Function.apply.__func__(runner, *args)


def _forward_on_tensors(cls: type, ctx: Context, *arrays: Any) -> Any:
    wrapped = [Tensor(a) if isinstance(a, ARRAY_TYPES) else a for a in arrays]
    with no_grad():
        result = cls.forward(ctx, *wrapped)
    if isinstance(result, tuple):
        return tuple(r.data if isinstance(r, Tensor) else r for r in result)
    return result.data if isinstance(result, Tensor) else result
