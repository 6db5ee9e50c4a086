"""Higher-level derivatives of whole functions. Mirrors ``torch.autograd.functional``.

``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``vhp`` and ``hvp`` take a function of Tensors and
its inputs (a Tensor or a tuple of Tensors) and return results nested the way PyTorch nests
them. Everything runs on reverse mode: ``jvp`` and ``hvp`` use the double-backward trick, as
PyTorch does, and ``jacobian`` differentiates one output element at a time.

Differences from PyTorch: there is no vmap, so ``vectorize=True`` computes the same result with
the row-by-row loop, and ``strategy="forward-mode"`` (``outer_jacobian_strategy`` for
``hessian``) is computed by that reverse-mode loop too; the values are identical.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ember.autograd.engine import grad as _engine_grad
from ember.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ember.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


def _zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """Zeros shaped like t (via a Tensor method: ops load after autograd, so no import)."""
    out = t.new_zeros(t.shape)
    return out.requires_grad_() if requires_grad else out


def _as_tuple(inp: Any, arg_name: str, fn_name: str) -> tuple[bool, tuple]:
    """Return (whether inp was a tuple, inp as a tuple of Tensors), checking each entry."""
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                f"Tensors but the {where} has type {type(el)}."
            )
    return is_tuple, inp


def _unpack(res: Any, to_unpack: bool | tuple[bool, bool]) -> Any:
    """Undo the tupling of _as_tuple (one level, or two for output x input nestings)."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _preprocess(inputs: tuple, create_graph: bool, need_graph: bool) -> tuple:
    """Fresh Tensor objects for the inputs: views when the graph must reach the originals."""
    return tuple(
        inp.view_as(inp)
        if create_graph and inp.requires_grad
        else inp.detach().requires_grad_(need_graph)
        for inp in inputs
    )


def _postprocess(res: tuple, create_graph: bool) -> tuple:
    """Detach the results (recursively) unless the caller asked for a graph."""
    if create_graph:
        return res
    return tuple(r.detach() if isinstance(r, Tensor) else _postprocess(r, False) for r in res)


def _validate_v(v: tuple, other: tuple, is_other_tuple: bool) -> None:
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}."
            )


def _check_requires_grad(inputs: tuple, input_type: str, strict: bool) -> None:
    """In strict mode, raise PyTorch's error for an output or gradient cut from the inputs."""
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}."
                " This is not allowed in strict mode."
            )
        if inp.requires_grad:
            continue
        if input_type == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i}"
                " is independent of the input. This is not allowed in strict mode."
                " You should ensure that your function is thrice differentiable and that"
                " the hessian depends on the inputs."
            )
        if input_type == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided"
                f" function with respect to input {i} is independent of the input. This is not"
                " allowed in strict mode. You should ensure that your function is twice"
                " differentiable and that the jacobian depends on the inputs (this would be"
                " violated by a linear function for example)."
            )
        if input_type == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the"
                " user-provided function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients."
            " The outputs must be computed in a differentiable manner from the input"
            " when running in strict mode."
        )


def _grad(
    outputs: tuple,
    inputs: tuple,
    grad_outputs: tuple | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
) -> tuple:
    """autograd.grad that skips outputs without a graph and returns None for unused inputs."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _engine_grad(
        [o for o, _ in pairs],
        list(inputs),
        [g for _, g in pairs],
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )


_ZERO_ERRORS = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
    "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. "
    "This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
    "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
    "{i} in the grad_jacobian. This is not allowed in strict mode as it prevents from using "
    "the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(
    grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str
) -> tuple:
    """Replace None gradients by zeros shaped like refs, or raise in strict mode."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_ZERO_ERRORS[stage].format(i=i))
            g = _zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode when create_graph=True."
            )
        res.append(g)
    return tuple(res)


def _prepare_v(v: Any, fn_name: str, create_graph: bool, other: tuple, is_tuple: bool) -> Any:
    _, v = _as_tuple(v, "v", fn_name)
    v = _preprocess(v, create_graph=create_graph, need_graph=False)
    _validate_v(v, other, is_tuple)
    return v


def _single_element_input(inputs: tuple) -> None:
    if len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a "
            "single Tensor with a single element."
        )


def vjp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Return func(inputs) and v^T J. Mirrors ``torch.autograd.functional.vjp``.

    Args:
        func: A function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: The inputs to func: a Tensor or a tuple of Tensors.
        v: The vector, shaped like func's output; may be None for a one-element output.
        create_graph: Whether the results are differentiable.
        strict: Whether to raise when an output does not depend on an input (instead of zeros).

    Returns:
        (func_output, vjp), vjp shaped like inputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "vjp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        if v is not None:
            v = _prepare_v(v, "vjp", create_graph, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _grad(outputs, inputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")
    outputs = _postprocess(outputs, create_graph)
    res = _postprocess(res, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(res, is_inputs_tuple)


def jvp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Return func(inputs) and J v. Mirrors ``torch.autograd.functional.jvp``.

    Computed with the double-backward trick (the vjp is linear in its vector, so its vjp
    with respect to that vector is J v), as PyTorch does.

    Args:
        func: A function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: The inputs to func: a Tensor or a tuple of Tensors.
        v: The vector, shaped like inputs; may be None for a one-element input.
        create_graph: Whether the results are differentiable.
        strict: Whether to raise when an output does not depend on an input (instead of zeros).

    Returns:
        (func_output, jvp), jvp shaped like func_output.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _prepare_v(v, "jvp", create_graph, inputs, is_inputs_tuple)
        else:
            _single_element_input(inputs)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jvp"
        )
        _check_requires_grad(outputs, "outputs", strict)
        # The vjp is linear in grad_outputs, so their value does not matter (zeros are safe).
        grad_outputs = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        res = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")
    outputs = _postprocess(outputs, create_graph)
    res = _postprocess(res, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(res, is_outputs_tuple)


def jacobian(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """Return the Jacobian of func at inputs. Mirrors ``torch.autograd.functional.jacobian``.

    Entry [i][j] (for tuple outputs and inputs) has shape output[i].shape + input[j].shape; a
    single output or input drops its level of nesting, as in PyTorch.

    Differences from PyTorch: ``vectorize=True`` and ``strategy="forward-mode"`` are accepted
    and give the same values, computed by the reverse-mode loop over output elements.

    Args:
        func: A function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: The inputs to func: a Tensor or a tuple of Tensors.
        create_graph: Whether the Jacobian is differentiable.
        strict: Whether to raise when an output does not depend on an input (instead of zeros).
        vectorize: Accepted for compatibility (no vmap in Ember).
        strategy: "reverse-mode" or "forward-mode".

    Returns:
        The Jacobian: a Tensor, a tuple of Tensors, or a tuple of tuples of Tensors.
    """
    if strategy not in _STRATEGIES:
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "ember.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                "ember.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.'
            )
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "ember.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or `vectorize=False`."
            )
        jac = tuple(
            _jacobian_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs)
        )
    jac = _postprocess(jac, create_graph)
    return _unpack(jac, (is_outputs_tuple, is_inputs_tuple))


def _jacobian_rows(i: int, out: Tensor, inputs: tuple, create_graph: bool, strict: bool) -> tuple:
    """Differentiate out by each input, one reverse pass per element of out."""
    from ember.ops.dims import stack  # function level: autograd must not load ops at import

    rows: tuple[list, ...] = tuple([] for _ in inputs)
    flat = out.reshape(-1)
    for k in range(out.nelement()):
        vj = _grad((flat[k],), inputs, retain_graph=True, create_graph=create_graph)
        for j, (row, g, inp) in enumerate(zip(rows, vj, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(
                        f"Output {i} of the user-provided function is independent of input "
                        f"{j}. This is not allowed in strict mode."
                    )
                g = _zeros_like(inp)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(
                    f"The jacobian of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode when create_graph=True."
                )
            row.append(g)
    return tuple(
        stack(row, dim=0).view(tuple(out.shape) + tuple(inp.shape))
        if row
        else inp.new_zeros(tuple(out.shape) + tuple(inp.shape))
        for row, inp in zip(rows, inputs)
    )


def hessian(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """Return the Hessian of a scalar func at inputs. Mirrors ``torch.autograd.functional.hessian``.

    Entry [i][j] (for tuple inputs) has shape inputs[i].shape + inputs[j].shape.

    Differences from PyTorch: ``vectorize`` and ``outer_jacobian_strategy="forward-mode"``
    are accepted and computed by the reverse-mode loop (same values).

    Args:
        func: A function of Tensors returning a Tensor with a single element.
        inputs: The inputs to func: a Tensor or a tuple of Tensors.
        create_graph: Whether the Hessian is differentiable.
        strict: Whether to raise when the Hessian is independent of an input.
        vectorize: Accepted for compatibility (no vmap in Ember).
        outer_jacobian_strategy: "reverse-mode" or "forward-mode".

    Returns:
        The Hessian: a Tensor, or a tuple of tuples of Tensors for tuple inputs.
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in _STRATEGIES:
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def ensure_single_output_function(*inp: Tensor) -> Tensor:
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        return out.squeeze()

    def jac_func(*inp: Tensor) -> Any:
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict)
    return _unpack(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_output(outputs: tuple, is_outputs_tuple: bool, fn_name: str) -> None:
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {fn_name} should contain a single "
            "element"
        )


def _hessian_products(
    func: Callable[..., Any],
    inputs: Any,
    v: Any,
    create_graph: bool,
    strict: bool,
    fn_name: str,
) -> tuple[Any, Any]:
    """Compute vhp (v^T H, two backward passes) or hvp (H v, double-backward trick)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
        inputs = _preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            v = _prepare_v(v, fn_name, create_graph, inputs, is_inputs_tuple)
        else:
            _single_element_input(inputs)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", fn_name
        )
        _check_requires_grad(outputs, "outputs", strict)
        _scalar_output(outputs, is_outputs_tuple, fn_name)
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        if fn_name == "hvp":
            grad_jac = tuple(_zeros_like(inp, requires_grad=True) for inp in inputs)
            double_back = _grad(jac, inputs, grad_jac, create_graph=True)
            _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        if fn_name == "hvp":
            grad_res = _grad(double_back, grad_jac, v, create_graph=create_graph)
            res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")
        else:
            grad_res = _grad(jac, inputs, v, create_graph=create_graph)
            res = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")
    outputs = _postprocess(outputs, create_graph)
    res = _postprocess(res, create_graph)
    return _unpack(outputs, is_outputs_tuple), _unpack(res, is_inputs_tuple)


def vhp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Return func(inputs) and v^T H. Mirrors ``torch.autograd.functional.vhp``.

    Args:
        func: A function of Tensors returning a Tensor with a single element.
        inputs: The inputs to func: a Tensor or a tuple of Tensors.
        v: The vector, shaped like inputs; may be None for a one-element input.
        create_graph: Whether the results are differentiable.
        strict: Whether to raise when the Hessian is independent of an input.

    Returns:
        (func_output, vhp), vhp shaped like inputs.
    """
    return _hessian_products(func, inputs, v, create_graph, strict, "vhp")


def hvp(
    func: Callable[..., Any],
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """Return func(inputs) and H v. Mirrors ``torch.autograd.functional.hvp``.

    Computed with the double-backward trick, as PyTorch does.

    Args:
        func: A function of Tensors returning a Tensor with a single element.
        inputs: The inputs to func: a Tensor or a tuple of Tensors.
        v: The vector, shaped like inputs; may be None for a one-element input.
        create_graph: Whether the results are differentiable.
        strict: Whether to raise when the Hessian is independent of an input.

    Returns:
        (func_output, hvp), hvp shaped like inputs.
    """
    return _hessian_products(func, inputs, v, create_graph, strict, "hvp")
