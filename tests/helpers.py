"""Shared test helpers: run the same body in Ember and PyTorch and compare.

``m`` in a test body is the module under test, ``ember`` or ``torch``; one body serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

import ember

DTYPES = {
    "float16": (ember.float16, torch.float16),
    "bfloat16": (ember.bfloat16, torch.bfloat16),
    "float32": (ember.float32, torch.float32),
    "float64": (ember.float64, torch.float64),
    "int8": (ember.int8, torch.int8),
    "int16": (ember.int16, torch.int16),
    "int32": (ember.int32, torch.int32),
    "int64": (ember.int64, torch.int64),
    "uint8": (ember.uint8, torch.uint8),
    "bool": (ember.bool, torch.bool),
}


def dtype_name(dtype: Any) -> str:
    """'float32' for ember.float32 and torch.float32 alike."""
    return str(dtype).split(".")[-1]


def to_numpy(x: Any) -> Any:
    """Turn an Ember or torch tensor (or nested tuples of them) into NumPy arrays."""
    if isinstance(x, ember.Tensor):
        data = x.detach().data
        return data.astype(np.float32) if x.dtype is ember.bfloat16 else np.array(data)
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    if isinstance(x, (tuple, list)):
        return type(x)(to_numpy(v) for v in x)
    return x


def assert_same(
    e: Any, t: Any, rtol: float = 1e-4, atol: float = 1e-5, check_dtype: bool = True
) -> None:
    """Assert an Ember result equals a torch result: structure, shape, dtype name, then values."""
    if isinstance(t, (tuple, list)) and not isinstance(t, torch.Size):
        assert isinstance(e, (tuple, list)), f"expected a sequence, got {type(e).__name__}"
        assert len(e) == len(t), f"length {len(e)} != {len(t)}"
        for ei, ti in zip(e, t):
            assert_same(ei, ti, rtol, atol, check_dtype)
        return
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"expected an ember.Tensor, got {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != {tuple(t.shape)}"
        if check_dtype:
            assert dtype_name(e.dtype) == dtype_name(t.dtype), f"dtype {e.dtype} != {t.dtype}"
        np.testing.assert_allclose(to_numpy(e), to_numpy(t), rtol=rtol, atol=atol, equal_nan=True)
        return
    if isinstance(t, float):
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol)
        return
    assert e == t, f"{e!r} != {t!r}"


def make_inputs(shapes: tuple, dtype: str, low: float, high: float, seed: int) -> list[np.ndarray]:
    """Random arrays for each shape, uniform in [low, high)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = rng.uniform(low, high, s)
        out.append(np.asarray(a).astype(np.float32 if dtype == "bfloat16" else dtype))
    return out


def check_op(
    fn: Callable,
    *shapes: Any,
    dtype: str = "float32",
    rtol: float = 1e-4,
    atol: float = 1e-5,
    low: float = -2.0,
    high: float = 2.0,
    grad: bool = True,
    seed: int = 0,
    inputs: list[np.ndarray] | None = None,
) -> None:
    """Run fn(ember, *xs) and fn(torch, *xs) on identical inputs; compare values, dtype, grads.

    Gradients are compared with a random upstream gradient, not ones, for every float input.
    ``inputs`` overrides the random arrays (for domains such as log's x > 0).
    """
    arrays = inputs if inputs is not None else make_inputs(shapes, dtype, low, high, seed)
    e_dtype, t_dtype = DTYPES[dtype]
    e_in = [ember.tensor(a, dtype=e_dtype) for a in arrays]
    t_in = [torch.tensor(a, dtype=t_dtype) for a in arrays]
    differentiable = grad and dtype.startswith(("float", "bfloat"))
    if differentiable:
        for e, t in zip(e_in, t_in):
            e.requires_grad_(True)
            t.requires_grad_(True)
    e_out, t_out = fn(ember, *e_in), fn(torch, *t_in)
    assert_same(e_out, t_out, rtol, atol)
    if not differentiable:
        return
    e_outs = e_out if isinstance(e_out, (tuple, list)) else (e_out,)
    t_outs = t_out if isinstance(t_out, (tuple, list)) else (t_out,)
    pairs = [
        (e, t) for e, t in zip(e_outs, t_outs) if isinstance(t, torch.Tensor) and t.requires_grad
    ]
    if not pairs:
        return
    rng = np.random.default_rng(seed + 1)
    seeds = [rng.standard_normal(tuple(t.shape)).astype(np.float32) for _, t in pairs]
    e_grads = ember.autograd.grad(
        [e for e, _ in pairs],
        e_in,
        [ember.tensor(g, dtype=e.dtype) for g, (e, _) in zip(seeds, pairs)],
        allow_unused=True,
    )
    t_grads = torch.autograd.grad(
        [t for _, t in pairs],
        t_in,
        [torch.tensor(g, dtype=t.dtype) for g, (_, t) in zip(seeds, pairs)],
        allow_unused=True,
    )
    for i, (e, t) in enumerate(zip(e_grads, t_grads)):
        if t is None:
            assert e is None or not np.any(to_numpy(e)), f"input {i}: torch gives no gradient"
            continue
        assert e is not None, f"input {i}: Ember gives no gradient, torch does"
        assert_same(e, t, rtol, atol)


def check_gradcheck(
    fn: Callable,
    *shapes: Any,
    low: float = -2.0,
    high: float = 2.0,
    seed: int = 0,
    inputs: list[np.ndarray] | None = None,
    second_order: bool = True,
) -> None:
    """gradcheck (and gradgradcheck) fn(ember, *xs) in float64."""
    arrays = inputs if inputs is not None else make_inputs(shapes, "float64", low, high, seed)
    xs = tuple(ember.tensor(a, dtype=ember.float64, requires_grad=True) for a in arrays)
    assert ember.autograd.gradcheck(lambda *a: fn(ember, *a), xs)
    if second_order:
        assert ember.autograd.gradgradcheck(lambda *a: fn(ember, *a), xs)


def state_dict_to_ember(state_dict: Any) -> dict:
    """A torch state_dict as Ember tensors (bfloat16 through float32, then cast)."""
    out = {}
    for key, value in state_dict.items():
        name = dtype_name(value.dtype)
        out[key] = ember.tensor(to_numpy(value), dtype=DTYPES[name][0])
    return out


def check_module(
    make: Callable,
    *shapes: Any,
    dtype: str = "float32",
    rtol: float = 1e-4,
    atol: float = 1e-5,
    low: float = -2.0,
    high: float = 2.0,
    seed: int = 0,
    inputs: list[np.ndarray] | None = None,
    train: bool = True,
    input_grad: bool = True,
    call: Callable | None = None,
) -> tuple[Any, Any]:
    """Build make(ember) and make(torch), copy torch's state_dict into Ember's, and compare.

    Checks: state_dict keys and shapes, the output (values and dtype) on identical inputs,
    and, with a random upstream gradient, the gradients of the float inputs and of every
    parameter. ``call(layer, *xs)`` replaces ``layer(*xs)``. Returns (ember_layer, torch_layer).
    """
    torch.manual_seed(seed)
    t_layer, e_layer = make(torch), make(ember)
    t_sd, e_sd = t_layer.state_dict(), e_layer.state_dict()
    assert list(e_sd) == list(t_sd), f"state_dict keys {list(e_sd)} != {list(t_sd)}"
    for key in t_sd:
        assert tuple(e_sd[key].shape) == tuple(t_sd[key].shape), f"{key}: shape differs"
    e_layer.load_state_dict(state_dict_to_ember(t_sd))
    e_layer.train(train)
    t_layer.train(train)
    arrays = inputs if inputs is not None else make_inputs(shapes, dtype, low, high, seed)
    e_in, t_in = [], []
    for a in arrays:
        a = np.asarray(a)
        is_float = a.dtype.kind == "f"
        e_dtype, t_dtype = DTYPES[dtype] if is_float else DTYPES[str(a.dtype)]
        e, t = ember.tensor(a, dtype=e_dtype), torch.tensor(a, dtype=t_dtype)
        if is_float and input_grad:
            e.requires_grad_(True)
            t.requires_grad_(True)
        e_in.append(e)
        t_in.append(t)
    run = call or (lambda layer, *xs: layer(*xs))
    e_out, t_out = run(e_layer, *e_in), run(t_layer, *t_in)
    assert_same(e_out, t_out, rtol, atol)
    e_first = e_out[0] if isinstance(e_out, tuple) else e_out
    t_first = t_out[0] if isinstance(t_out, tuple) else t_out
    if not t_first.requires_grad:
        return e_layer, t_layer
    g = np.random.default_rng(seed + 1).standard_normal(tuple(t_first.shape)).astype(np.float32)
    e_first.backward(ember.tensor(g, dtype=e_first.dtype))
    t_first.backward(torch.tensor(g, dtype=t_first.dtype))
    for i, (e, t) in enumerate(zip(e_in, t_in)):
        if t.grad is not None:
            assert e.grad is not None, f"input {i}: Ember gives no gradient"
            assert_same(e.grad, t.grad, rtol, atol)
    e_params = dict(e_layer.named_parameters())
    for name, t_param in t_layer.named_parameters():
        if t_param.grad is None:
            continue
        e_grad = e_params[name].grad
        assert e_grad is not None, f"parameter {name}: Ember gives no gradient"
        assert_same(e_grad, t_param.grad, rtol, atol)
    return e_layer, t_layer
