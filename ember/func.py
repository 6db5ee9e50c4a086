"""Function transforms on top of ``ember.autograd``. Mirrors a subset of ``torch.func``.

``grad``, ``grad_and_value``, ``vjp``, ``jacrev`` and ``hessian`` take a function and return
a function (``vjp`` returns the output and a function), with ``torch.func``'s conventions:
``argnums`` picks the positional arguments to differentiate, each of which may be a Tensor or
a tuple/list/dict of Tensors, and ``has_aux`` lets the function return ``(output, aux)``.

The transforms compose (``grad(grad(f))``, ``jacrev(jacrev(f))``) and work with ordinary
autograd: when an input already requires grad, the result stays differentiable back to it.

``vmap`` (a per-example loop) and ``stack_module_state`` live in ``ember.func_vmap``;
``jvp``, ``linearize`` and ``jacfwd`` are computed in reverse mode (Ember has no forward mode).

Differences from PyTorch: ``jacrev`` differentiates one output element
at a time (``chunk_size`` is accepted and ignored), and ``hessian`` is ``jacrev(jacrev(f))``
rather than forward-over-reverse (same values).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ember.autograd.engine import grad as _autograd_grad
from ember.autograd.grad_mode import enable_grad, is_grad_enabled
from ember.func_vmap import stack_module_state, vmap
from ember.nn.utils.stateless import functional_call
from ember.ops.creation import zeros_like
from ember.ops.dims import stack
from ember.tensor import Tensor

__all__ = [
    "functional_call",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "stack_module_state",
    "vjp",
    "vmap",
]


# -- pytrees of Tensors (tuple, list, dict) ---------------------------------------------------
def _flatten(tree: Any) -> tuple[list, Any]:
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            sub, spec = _flatten(item)
            leaves.extend(sub)
            specs.append((len(sub), spec))
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            sub, spec = _flatten(item)
            leaves.extend(sub)
            specs.append((key, len(sub), spec))
        return leaves, (dict, specs)
    return [tree], None


def _unflatten(leaves: list, spec: Any) -> Any:
    if spec is None:
        return leaves[0]
    kind, specs = spec
    out, at = [], 0
    if kind is dict:
        result = {}
        for key, n, sub in specs:
            result[key] = _unflatten(leaves[at : at + n], sub)
            at += n
        return result
    for n, sub in specs:
        out.append(_unflatten(leaves[at : at + n], sub))
        at += n
    return kind(out)


def _check_tensors(leaves: list, what: str) -> None:
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise ValueError(f"{what} must be Tensor, got {type(leaf)}")


def _normalize_argnums(argnums: Any, n_args: int) -> tuple[tuple[int, ...], bool]:
    """The argnums as a tuple of non-negative ints, and whether the user gave a tuple."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums, is_tuple = (argnums,), False
    elif isinstance(argnums, tuple) and all(
        isinstance(a, int) and not isinstance(a, bool) for a in argnums
    ):
        if not argnums:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
        nums, is_tuple = argnums, True
    else:
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    out = []
    for a in nums:
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
        out.append(a % n_args)
    return tuple(out), is_tuple


def _prepare(leaves: list) -> tuple[list[Tensor], bool]:
    """Fresh differentiable copies of the leaves, and whether the caller needs a graph.

    An input that already requires grad (an outer transform, or the user's own graph) gets a
    differentiable alias so results stay connected to it; any other input a detached leaf.
    """
    graph = is_grad_enabled() and any(t.requires_grad for t in leaves)
    with enable_grad():
        fresh = [
            t.view_as(t) if graph and t.requires_grad else t.detach().requires_grad_(True)
            for t in leaves
        ]
    return fresh, graph


def _grads(outputs: list, inputs: list, cotangents: list | None, graph: bool) -> list:
    """Gradients of outputs with respect to inputs, zeros for inputs that were not used."""
    if cotangents is None:
        cotangents = [None] * len(outputs)
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
    found = [None] * len(inputs)
    if pairs:
        with enable_grad():
            found = list(
                _autograd_grad(
                    [o for o, _ in pairs],
                    inputs,
                    [c for _, c in pairs],
                    retain_graph=True,
                    create_graph=graph,
                    allow_unused=True,
                )
            )
    out = []
    for g, x in zip(found, inputs):
        g = zeros_like(x) if g is None else g
        out.append(g if graph else g.detach())
    return out


def _split_aux(result: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(
            f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return result


def _detach_tree(tree: Any) -> Any:
    leaves, spec = _flatten(tree)
    return _unflatten([t.detach() if isinstance(t, Tensor) else t for t in leaves], spec)


def grad_and_value(
    func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable:
    """Return a function computing (grad, value) of func. Mirrors ``torch.func.grad_and_value``.

    Args:
        func: A function returning a scalar Tensor (or ``(scalar, aux)`` with has_aux).
        argnums: The positional argument(s) to differentiate with respect to.
        has_aux: Whether func returns ``(output, aux)``.

    Returns:
        A function returning ``(grad, value)`` or ``(grad, (value, aux))``.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums, is_tuple = _normalize_argnums(argnums, len(args))
        args = list(args)
        specs, fresh_all, graph = [], [], False
        for a in nums:
            leaves, spec = _flatten(args[a])
            _check_tensors(leaves, "Thing passed to transform API")
            fresh, needs = _prepare(leaves)
            graph = graph or needs
            args[a] = _unflatten(fresh, spec)
            specs.append((spec, len(fresh)))
            fresh_all.extend(fresh)
        with enable_grad():
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value(f)(*args)")
        if not isinstance(output, Tensor):
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                f"{type(output)}"
            )
        if output.dim() != 0:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {output.dim()} dims. Maybe you wanted to use the vjp or jacrev "
                "APIs instead?"
            )
        flat = _grads([output], fresh_all, None, graph)
        grads, at = [], 0
        for spec, n in specs:
            grads.append(_unflatten(flat[at : at + n], spec))
            at += n
        result = tuple(grads) if is_tuple else grads[0]
        value = output if graph else output.detach()
        if has_aux:
            return result, (value, aux if graph else _detach_tree(aux))
        return result, value

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """Return a function computing the gradient of func. Mirrors ``torch.func.grad``.

    Args:
        func: A function returning a scalar Tensor (or ``(scalar, aux)`` with has_aux).
        argnums: The positional argument(s) to differentiate with respect to.
        has_aux: Whether func returns ``(output, aux)``.

    Returns:
        A function returning the gradient (a tuple for tuple argnums), plus aux with has_aux.
    """
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Return func(*primals) and a vector-Jacobian product function. Mirrors ``torch.func.vjp``.

    Args:
        func: A function of the primals returning a Tensor or a tuple/list/dict of Tensors.
        *primals: Its arguments, Tensors or tuples/lists/dicts of Tensors.
        has_aux: Whether func returns ``(output, aux)``.

    Returns:
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``; ``vjp_fn(cotangents)`` returns a
        tuple with one gradient per primal.
    """
    leaves, spec = _flatten(primals)
    _check_tensors(leaves, "Thing passed to transform API")
    fresh, graph = _prepare(leaves)
    with enable_grad():
        output, aux = _split_aux(func(*_unflatten(fresh, spec)), has_aux, "vjp(f, *primals)")
    out_leaves, _ = _flatten(output)
    for leaf in out_leaves:
        if not isinstance(leaf, Tensor):
            raise RuntimeError(
                "vjp(f, *primals): expected f(*primals) to return only tensors, got unsupported "
                f"type {type(leaf)}"
            )

    def vjp_fn(*cotangents: Any) -> tuple:
        cts = cotangents[0] if len(cotangents) == 1 else cotangents
        ct_leaves, _ = _flatten(cts)
        if len(ct_leaves) != len(out_leaves):
            raise RuntimeError(
                f"Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function: got {len(ct_leaves)} cotangents for "
                f"{len(out_leaves)} outputs"
            )
        for i, (c, o) in enumerate(zip(ct_leaves, out_leaves)):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {c.shape} and "
                    f"output[{i}] has a shape of {o.shape}."
                )
        need = graph or any(c.requires_grad for c in ct_leaves)
        return _unflatten(_grads(out_leaves, fresh, ct_leaves, need), spec)

    shown = output if graph else _detach_tree(output)
    if has_aux:
        return shown, vjp_fn, aux if graph else _detach_tree(aux)
    return shown, vjp_fn


def jacrev(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    """Return a function computing the Jacobian of func. Mirrors ``torch.func.jacrev``.

    Args:
        func: A function returning a Tensor or a tuple/list/dict of Tensors.
        argnums: The positional argument(s) to differentiate with respect to.
        has_aux: Whether func returns ``(output, aux)``.
        chunk_size: Accepted and ignored (no vmap).

    Returns:
        A function returning the Jacobian, nested as the outputs, then as argnums; each entry
        has shape output.shape + input.shape.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums, is_tuple = _normalize_argnums(argnums, len(args))
        args = list(args)
        specs, fresh_all, graph = [], [], False
        for a in nums:
            leaves, spec = _flatten(args[a])
            _check_tensors(leaves, "Thing passed to transform API")
            fresh, needs = _prepare(leaves)
            graph = graph or needs
            args[a] = _unflatten(fresh, spec)
            specs.append((spec, len(fresh)))
            fresh_all.extend(fresh)
        with enable_grad():
            output, aux = _split_aux(func(*args, **kwargs), has_aux, "jacrev(f, ...)(*args)")
        out_leaves, out_spec = _flatten(output)
        _check_tensors(
            out_leaves, "jacrev(f, ...)(*args): expected f(*args) to return only tensors"
        )
        per_output = []
        for out in out_leaves:
            rows = [[] for _ in fresh_all]
            flat = out.reshape(-1)
            for k in range(out.numel()):
                for row, g in zip(rows, _grads([flat[k]], fresh_all, None, graph)):
                    row.append(g)
            jac_leaves = [
                stack(row).reshape(tuple(out.shape) + tuple(x.shape))
                if row
                else x.new_zeros(tuple(out.shape) + tuple(x.shape))
                for row, x in zip(rows, fresh_all)
            ]
            parts, at = [], 0
            for spec, n in specs:
                parts.append(_unflatten(jac_leaves[at : at + n], spec))
                at += n
            per_output.append(tuple(parts) if is_tuple else parts[0])
        jac = _unflatten(per_output, out_spec)
        if has_aux:
            return jac, aux if graph else _detach_tree(aux)
        return jac

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """Return a function computing the Hessian of func. Mirrors ``torch.func.hessian``.

    Differences from PyTorch: computed as ``jacrev(jacrev(func))`` (PyTorch uses forward over
    reverse); the values are the same.

    Args:
        func: A function returning a Tensor.
        argnums: The positional argument(s) to differentiate with respect to.

    Returns:
        A function returning the Hessian (nested [i][j] for tuple argnums).
    """
    return jacrev(jacrev(func, argnums), argnums)


# -- forward mode, by the double-vjp trick -----------------------------------------------------
_JVP = "jvp(f, primals, tangents)"


def _tangent_leaves(primals: Any, tangents: Any) -> tuple[list, Any, list]:
    """Validate primals and tangents as jvp does: (primal leaves, their spec, tangent leaves)."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    leaves, spec = _flatten(primals)
    t_leaves, t_spec = _flatten(tangents)
    if spec != t_spec:
        raise RuntimeError(
            f"{_JVP}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {spec} and tangents with structure {t_spec}"
        )
    for what, group in (("primals", leaves), ("tangents", t_leaves)):
        if not group:
            raise RuntimeError(f"{_JVP}: Expected {what} to contain at least one Tensor.")
        for leaf in group:
            if not isinstance(leaf, Tensor):
                raise RuntimeError(
                    f"{_JVP}: Expected {what} to only contain Tensors, got {type(leaf)}"
                )
    for p, t in zip(leaves, t_leaves):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} while "
                f"the given forward gradient is of size {list(t.shape)}."
            )
    return leaves, spec, t_leaves


def _linear_map(func: Callable, fresh: list, spec: Any, has_aux: bool, api: str) -> tuple:
    """Run func and build the transposed map u -> J^T u with a graph in u.

    Returns (outputs, output spec, aux, dummies u, J^T u per input). J v is then the gradient of
    <J^T u, v> with respect to u: the double-vjp trick, so no forward-mode rules are needed.
    """
    with enable_grad():
        output, aux = _split_aux(func(*_unflatten(fresh, spec)), has_aux, api)
        outs, out_spec = _flatten(output)
        if not outs or (len(outs) == 1 and outs[0] is None):
            raise RuntimeError(
                f"{api}: Expected f to be a function that has non-empty output (got output = "
                f"{outs})"
            )
        for o in outs:
            if not isinstance(o, Tensor):
                raise RuntimeError(
                    f"{api}: expected f(*primals) to return only tensors, got unsupported type "
                    f"{type(o)}"
                )
        # integer outputs (argmax, ...) cannot depend on the inputs: their tangent is zero
        dummies = [zeros_like(o).requires_grad_(o.requires_grad) for o in outs]
        pairs = [(o, u) for o, u in zip(outs, dummies) if o.requires_grad]
        transposed = [None] * len(fresh)
        if pairs:
            transposed = _autograd_grad(
                [o for o, _ in pairs],
                fresh,
                [u for _, u in pairs],
                create_graph=True,
                allow_unused=True,
            )
    return outs, out_spec, aux, dummies, list(transposed)


def _apply_linear(transposed: list, dummies: list, t_leaves: list, graph: bool) -> list:
    """J v for the tangents v: the gradient of sum_i <(J^T u)_i, v_i> with respect to u."""
    pairs = [(g, t) for g, t in zip(transposed, t_leaves) if g is not None and g.requires_grad]
    wanted = [u for u in dummies if u.requires_grad]
    found = {}
    if pairs and wanted:
        with enable_grad():
            grads = _autograd_grad(
                [g for g, _ in pairs],
                wanted,
                [t for _, t in pairs],
                retain_graph=True,
                create_graph=graph,
                allow_unused=True,
            )
        found = {id(u): g for u, g in zip(wanted, grads)}
    out = []
    for u in dummies:
        g = found.get(id(u))
        g = zeros_like(u) if g is None else g
        out.append(g if graph else g.detach())
    return out


def jvp(
    func: Callable,
    primals: tuple,
    tangents: tuple,
    *,
    strict: bool = False,
    has_aux: bool = False,
) -> tuple:
    """Return func(*primals) and the Jacobian-vector product. Mirrors ``torch.func.jvp``.

    Differences from PyTorch: Ember has no forward-mode AD; the product is computed with two
    reverse passes (the double-vjp trick: J v is the gradient of <J^T u, v> with respect to u),
    so it costs about three evaluations of func and works for every op whose backward is itself
    differentiable.

    Args:
        func: A function of the primals returning a Tensor or a tuple/list/dict of Tensors.
        primals: A tuple of the arguments (Tensors or tuples/lists/dicts of Tensors).
        tangents: Directions, nested like primals, with the primals' shapes.
        strict: Raise if an output does not depend on the inputs.
        has_aux: Whether func returns ``(output, aux)``.

    Returns:
        ``(output, jvp_out)`` or ``(output, jvp_out, aux)``.
    """
    leaves, spec, t_leaves = _tangent_leaves(primals, tangents)
    fresh, graph = _prepare(leaves)
    graph = graph or (is_grad_enabled() and any(t.requires_grad for t in t_leaves))
    outs, out_spec, aux, dummies, transposed = _linear_map(func, fresh, spec, has_aux, _JVP)
    if strict and any(not o.requires_grad for o in outs):
        raise RuntimeError(
            "jvp(f, primals, tangents, strict=True): The output of f is independent of the "
            "inputs. This is not allowed with strict=True."
        )
    jvp_out = _unflatten(_apply_linear(transposed, dummies, t_leaves, graph), out_spec)
    output = _unflatten([o if graph else o.detach() for o in outs], out_spec)
    if has_aux:
        return output, jvp_out, aux if graph else _detach_tree(aux)
    return output, jvp_out


def linearize(func: Callable, *primals: Any) -> tuple[Any, Callable]:
    """Return func(*primals) and its linearization at primals. Mirrors ``torch.func.linearize``.

    ``jvp_fn(*tangents)`` returns J v, reusing one recorded graph of J^T u (see ``jvp``), so
    func runs once however many tangents are pushed through.

    Differences from PyTorch: reverse mode twice instead of a traced forward-mode graph.

    Args:
        func: A function of the primals returning a Tensor or a tuple/list/dict of Tensors.
        *primals: Its arguments, Tensors or tuples/lists/dicts of Tensors.

    Returns:
        ``(output, jvp_fn)``.
    """
    leaves, spec = _flatten(primals)
    _check_tensors(leaves, "Thing passed to transform API")
    fresh, graph = _prepare(leaves)
    outs, out_spec, _, dummies, transposed = _linear_map(
        func, fresh, spec, False, "linearize(f, *primals)"
    )

    def jvp_fn(*tangents: Any) -> Any:
        t_leaves, t_spec = _flatten(tangents)
        if t_spec != spec:
            raise RuntimeError(
                f"Expected the tangents {t_spec} to have the same argspec as the primals {spec}"
            )
        for i, (t, p) in enumerate(zip(t_leaves, leaves)):
            for what, mine, theirs in (("shape", t.shape, p.shape), ("dtype", t.dtype, p.dtype)):
                if mine != theirs:
                    raise RuntimeError(
                        f"tangent:{i} with {what} {mine} in flattened pytree doesn't match the "
                        f"{what} {theirs} of the corresponding primal."
                    )
        need = graph or (is_grad_enabled() and any(t.requires_grad for t in t_leaves))
        return _unflatten(_apply_linear(transposed, dummies, t_leaves, need), out_spec)

    return _unflatten([o if graph else o.detach() for o in outs], out_spec), jvp_fn


def jacfwd(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    *,
    randomness: str = "error",
) -> Callable:
    """Return a function computing the Jacobian of func. Mirrors ``torch.func.jacfwd``.

    Differences from PyTorch: computed in reverse mode (it is ``jacrev``), one output element
    at a time; the values and the layout (output.shape + input.shape) are the same, the cost
    favours functions with fewer outputs than inputs. ``randomness`` is validated only.

    Args:
        func: A function returning a Tensor or a tuple/list/dict of Tensors.
        argnums: The positional argument(s) to differentiate with respect to.
        has_aux: Whether func returns ``(output, aux)``.
        randomness: ``"error"``, ``"different"`` or ``"same"``.

    Returns:
        A function returning the Jacobian, nested as the outputs, then as argnums.
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(
            "Only allowed values for randomness are 'error', 'different', or 'same'. "
            f"Got {randomness}"
        )
    return jacrev(func, argnums, has_aux=has_aux)


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """Return func without mutations (in Ember, func). Mirrors ``torch.func.functionalize``.

    Differences from PyTorch: Ember runs eagerly and has no graph capture to rewrite, so the
    returned function simply calls func (same values, mutations of inputs included).
    """
    if remove not in ("mutations", "mutations_and_views"):
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n"
            "     remove='mutations': all inplace and out= operators will be removed from the "
            "program, and replaced with their out-of-place equivalents.\n"
            "     remove='mutations_and_views': In addition to the above, all aliasing operators "
            "{view} will be replaced with their non-aliasing counterparts, {view}_copy.\n"
        )

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper
