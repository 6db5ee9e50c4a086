"""Recurrent cells: one fused op per time step for RNN (tanh/relu), LSTM and GRU.

Each step op takes the input projection of its step (``gx = x W_ih^T + b``, computed for all
steps at once by the caller), the previous state and ``W_hh``, and does in one node the hidden
GEMM of all gates, the gate nonlinearities and the state update. Its first-order backward runs
in NumPy on the activations kept by forward (d(gates), then two GEMMs for d(h_prev), d(W_hh)).
With ``create_graph=True`` (grad mode on inside backward) the same gradients are composed of
Ember ops from the saved inputs instead, so higher derivatives exist.

Gate layouts are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n) with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import grad_mode
from ember.backend import Array, array_module
from ember.ops.dense import Linear
from ember.ops.elementwise import add
from ember.ops.floatmath import sigmoid
from ember.ops.join import cat
from ember.ops.linalg import MatMul, matmul_arrays
from ember.ops.magnitude import relu
from ember.ops.reduction import sum
from ember.ops.shape import transpose
from ember.ops.trig import tanh
from ember.tensor import Tensor

__all__ = ["gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"]


def _sigmoid_(x: Array) -> Array:
    """Compute sigmoid in place as 0.5 tanh(x / 2) + 0.5: no overflow, no temporaries."""
    xp = array_module(x)
    x *= 0.5
    xp.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


def _hidden(h: Array, w: Array, b: Array | None, w_t: Array | None = None) -> Array:
    # (B, G): the one GEMM of the step, all gates at once. A contiguous W^T (made once per
    # sequence by the caller) is ~1.4x faster in OpenBLAS than the transposed view at B = 32.
    gh = matmul_arrays(h, w.T if w_t is None else w_t)
    if b is not None:
        gh += b
    return gh


def _wrap(*arrays: Array | None) -> tuple:
    return tuple(None if a is None else Tensor(a) for a in arrays)


def _hidden_grads(ctx: Context, d_gh: Array, h: Array, w: Array, has_bias: bool) -> tuple:
    """d(h_prev), d(W_hh), d(b_hh) from d(h W^T + b), as arrays (None where not needed)."""
    needs = ctx.needs_input_grad
    d_h = matmul_arrays(d_gh, w) if needs[1] else None
    d_w = matmul_arrays(d_gh.T, h) if needs[2] else None
    d_b = d_gh.sum(0) if has_bias and needs[3] else None
    return d_h, d_w, d_b


def _composed_gh(h: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return Linear.apply(h, w, b)


class RNNStep(Function):
    """h = act(gx + h_prev W_hh^T), act = tanh or relu; d(pre) = grad (1 - h^2) or grad [h > 0]."""

    @staticmethod
    def forward(
        ctx: Context, gx: Array, h: Array, w: Array, relu_mode: bool, w_t: Array | None = None
    ) -> Array:
        out = _hidden(h, w, None, w_t)
        out += gx
        if relu_mode:
            array_module(out).maximum(out, 0, out=out)
        else:
            array_module(out).tanh(out, out=out)
        if ctx.needs_input_grad:
            ctx.save_for_backward(gx, h, w)
            ctx.out, ctx.relu_mode = out, relu_mode
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        gx, h, w = ctx.saved_tensors
        if grad_mode.enabled:  # create_graph: compose Ember ops so the gradient has a graph
            pre = add(gx, _composed_gh(h, w, None))
            out = relu(pre) if ctx.relu_mode else tanh(pre)
            d_pre = grad * (out > 0) if ctx.relu_mode else grad * (1 - out * out)
            d_h = MatMul.apply(d_pre, w) if ctx.needs_input_grad[1] else None
            d_w = MatMul.apply(transpose(d_pre, 0, 1), h) if ctx.needs_input_grad[2] else None
            return d_pre, d_h, d_w, None, None
        out, g = ctx.out, grad.data
        d_pre = g * (out > 0) if ctx.relu_mode else g * (1 - out * out)
        d_h, d_w, _ = _hidden_grads(ctx, d_pre, h.data, w.data, False)
        return (*_wrap(d_pre, d_h, d_w), None, None)


class LSTMStep(Function):
    """(h, c) = (o tanh(c), f c_prev + i g), gates (i, f, g, o) = act(gx + h_prev W_hh^T)."""

    @staticmethod
    def forward(
        ctx: Context, gx: Array, h: Array, c: Array, w: Array, w_t: Array | None = None
    ) -> tuple:
        gates = _hidden(h, w, None, w_t)
        gates += gx  # (B, 4H)
        H = c.shape[-1]
        _sigmoid_(gates[:, : 2 * H])  # i, f
        array_module(gates).tanh(gates[:, 2 * H : 3 * H], out=gates[:, 2 * H : 3 * H])  # g
        _sigmoid_(gates[:, 3 * H :])  # o
        i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        c_new = f * c
        c_new += i * g
        tanh_c = array_module(c).tanh(c_new)
        if ctx.needs_input_grad:
            ctx.save_for_backward(gx, h, c, w)
            ctx.gates, ctx.tanh_c = gates, tanh_c
        return o * tanh_c, c_new

    @staticmethod
    def backward(ctx: Context, grad_h: Tensor, grad_c: Tensor) -> tuple:
        gx, h, c, w = ctx.saved_tensors
        if grad_mode.enabled:
            return _lstm_composed(ctx, grad_h, grad_c, gx, h, c, w)
        xp, gates, tanh_c = array_module(gx.data), ctx.gates, ctx.tanh_c
        H = tanh_c.shape[-1]
        i, f, g, o = gates[:, :H], gates[:, H : 2 * H], gates[:, 2 * H : 3 * H], gates[:, 3 * H :]
        dh = grad_h.data
        dc = dh * o * (1 - tanh_c * tanh_c) + grad_c.data
        d = xp.empty_like(gates)  # d(pre-activation gates), (B, 4H)
        xp.multiply(dc * g, i * (1 - i), out=d[:, :H])
        xp.multiply(dc * c.data, f * (1 - f), out=d[:, H : 2 * H])
        xp.multiply(dc * i, 1 - g * g, out=d[:, 2 * H : 3 * H])
        xp.multiply(dh * tanh_c, o * (1 - o), out=d[:, 3 * H :])
        needs = ctx.needs_input_grad
        d_c = dc * f if needs[2] else None
        d_h = matmul_arrays(d, w.data) if needs[1] else None
        d_w = matmul_arrays(d.T, h.data) if needs[3] else None
        return (*_wrap(d, d_h, d_c, d_w), None)


def _lstm_composed(
    ctx: Context, grad_h: Tensor, grad_c: Tensor, gx: Tensor, h: Tensor, c: Tensor, w: Tensor
) -> tuple:
    """LSTMStep's gradients as Ember ops (recomputing the gates), for create_graph."""
    H = c.data.shape[-1]
    pre = add(gx, _composed_gh(h, w, None))
    i, f = sigmoid(pre[:, :H]), sigmoid(pre[:, H : 2 * H])
    g, o = tanh(pre[:, 2 * H : 3 * H]), sigmoid(pre[:, 3 * H :])
    tanh_c = tanh(f * c + i * g)
    dc = grad_h * o * (1 - tanh_c * tanh_c) + grad_c
    parts = (dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g))
    d = cat([*parts, grad_h * tanh_c * o * (1 - o)], 1)
    needs = ctx.needs_input_grad
    d_h = MatMul.apply(d, w) if needs[1] else None
    d_c = dc * f if needs[2] else None
    d_w = MatMul.apply(transpose(d, 0, 1), h) if needs[3] else None
    return d, d_h, d_c, d_w, None


class GRUStep(Function):
    """h = n + z (h_prev - n); r, z = sigmoid(gx + gh), n = tanh(gx_n + r gh_n), gh = h W^T + b."""

    @staticmethod
    def forward(
        ctx: Context, gx: Array, h: Array, w: Array, b: Array | None, w_t: Array | None = None
    ) -> Array:
        H = h.shape[-1]
        gh = _hidden(h, w, b, w_t)  # (B, 3H)
        rz = gx[:, : 2 * H] + gh[:, : 2 * H]
        _sigmoid_(rz)
        r, z = rz[:, :H], rz[:, H:]
        n = r * gh[:, 2 * H :]
        n += gx[:, 2 * H :]
        array_module(n).tanh(n, out=n)
        out = h - n
        out *= z
        out += n
        if ctx.needs_input_grad:
            ctx.save_for_backward(gx, h, w, b)
            ctx.rz, ctx.n, ctx.gh_n = rz, n, gh[:, 2 * H :]
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        gx, h, w, b = ctx.saved_tensors
        if grad_mode.enabled:
            return _gru_composed(ctx, grad, gx, h, w, b)
        xp, rz, n, gh_n, dh = array_module(grad.data), ctx.rz, ctx.n, ctx.gh_n, grad.data
        H = n.shape[-1]
        r, z = rz[:, :H], rz[:, H:]
        dn = dh * (1 - z)
        dn *= 1 - n * n  # d(pre-activation of n)
        d_gh = xp.empty((dh.shape[0], 3 * H), dtype=dh.dtype)
        xp.multiply(dn * gh_n, r * (1 - r), out=d_gh[:, :H])
        xp.multiply(dh * (h.data - n), z * (1 - z), out=d_gh[:, H : 2 * H])
        d_gx = d_gh.copy()
        d_gx[:, 2 * H :] = dn
        xp.multiply(dn, r, out=d_gh[:, 2 * H :])
        d_h, d_w, d_b = _hidden_grads(ctx, d_gh, h.data, w.data, b is not None)
        if d_h is not None:
            d_h += dh * z
        return (*_wrap(d_gx, d_h, d_w, d_b), None)


def _gru_composed(
    ctx: Context, grad: Tensor, gx: Tensor, h: Tensor, w: Tensor, b: Tensor | None
) -> tuple:
    """GRUStep's gradients as Ember ops (recomputing the gates), for create_graph."""
    H = h.data.shape[-1]
    gh = _composed_gh(h, w, b)
    r, z = sigmoid(gx[:, :H] + gh[:, :H]), sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
    gh_n = gh[:, 2 * H :]
    n = tanh(gx[:, 2 * H :] + r * gh_n)
    dn = grad * (1 - z) * (1 - n * n)
    dr, dz = dn * gh_n * r * (1 - r), grad * (h - n) * z * (1 - z)
    d_gx, d_gh = cat([dr, dz, dn], 1), cat([dr, dz, dn * r], 1)
    needs = ctx.needs_input_grad
    d_h = MatMul.apply(d_gh, w) + grad * z if needs[1] else None
    d_w = MatMul.apply(transpose(d_gh, 0, 1), h) if needs[2] else None
    d_b = sum(d_gh, 0) if b is not None and needs[3] else None
    return d_gx, d_h, d_w, d_b, None


# -- functional cells -------------------------------------------------------------------------
def _check_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, which: str) -> None:
    x, h = input.data, hx.data
    if x.ndim != 2 or h.ndim != 2:
        raise RuntimeError(f"expected 2-D input and {which}, got {x.ndim}-D and {h.ndim}-D")
    if x.shape[1] != w_ih.data.shape[1]:
        raise RuntimeError(
            f"input has inconsistent input_size: got {x.shape[1]} expected {w_ih.data.shape[1]}"
        )
    if h.shape[0] != x.shape[0]:
        raise RuntimeError(
            f"Input batch size {x.shape[0]} doesn't match {which} batch size {h.shape[0]}"
        )
    if h.shape[1] != w_hh.data.shape[1]:
        raise RuntimeError(
            f"{which} has inconsistent hidden_size: got {h.shape[1]}, expected {w_hh.data.shape[1]}"
        )


def input_projection(
    input: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None = None
) -> Tensor:
    """Return x W_ih^T + b_ih (+ b_hh, folded into one bias) for every row of input, in one GEMM."""
    bias = b_ih if b_hh is None else (b_hh if b_ih is None else add(b_ih, b_hh))
    return Linear.apply(input, w_ih, bias)


def rnn_tanh_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """Run one tanh RNN step. Mirrors ``torch.rnn_tanh_cell``.

    h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shapes: input (B, input_size), hx (B, hidden_size) -> (B, hidden_size).
    """
    _check_cell(input, hx, w_ih, w_hh, "hidden0")
    return RNNStep.apply(input_projection(input, w_ih, b_ih, b_hh), hx, w_hh, False, None)


def rnn_relu_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """Run one relu RNN step. Mirrors ``torch.rnn_relu_cell``.

    h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shapes: input (B, input_size), hx (B, hidden_size) -> (B, hidden_size).
    """
    _check_cell(input, hx, w_ih, w_hh, "hidden0")
    return RNNStep.apply(input_projection(input, w_ih, b_ih, b_hh), hx, w_hh, True, None)


def lstm_cell(
    input: Tensor,
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Run one LSTM step on (h, c), gates (i, f, g, o). Mirrors ``torch.lstm_cell``.

    Shapes: input (B, input_size), hx = (h, c), each (B, hidden_size) -> (h', c').
    """
    h, c = hx
    _check_cell(input, h, w_ih, w_hh, "hidden0")
    _check_cell(input, c, w_ih, w_hh, "hidden1")
    return LSTMStep.apply(input_projection(input, w_ih, b_ih, b_hh), h, c, w_hh, None)


def gru_cell(
    input: Tensor,
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """Run one GRU step, gates in PyTorch's order (r, z, n). Mirrors ``torch.gru_cell``.

    Shapes: input (B, input_size), hx (B, hidden_size) -> (B, hidden_size).
    """
    _check_cell(input, hx, w_ih, w_hh, "hidden0")
    return GRUStep.apply(input_projection(input, w_ih, b_ih), hx, w_hh, b_hh, None)
