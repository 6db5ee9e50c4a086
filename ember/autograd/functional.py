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

from ember.autograd.functional_checks import (
    _STRATEGIES,
    _as_tuple,
    _check_requires_grad,
    _fill_in_zeros,
    _grad,
    _postprocess,
    _prepare_v,
    _preprocess,
    _scalar_output,
    _single_element_input,
    _unpack,
    _zeros_like,
)
from ember.autograd.grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from ember.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


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
