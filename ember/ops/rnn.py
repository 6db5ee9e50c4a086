"""Multi-layer recurrent networks over a sequence: the loop behind nn.RNN, nn.LSTM and nn.GRU.

Per layer and direction: ONE GEMM for the input projections of all time steps
(``x W_ih^T + b`` over every row at once), split into steps by one op, then per step one fused
op (``ember.ops.rnn_cells``) that does the hidden GEMM of all gates, the nonlinearities and the
state update. The outputs of all steps are joined by one op.

Sequences are stored as PyTorch packs them: rows of all sequences at step 0, then step 1, ...,
with non-increasing ``batch_sizes``; a padded (T, B, *) input is the case of equal sizes. A
step runs on the batch prefix still active; the rows that drop out keep their last state,
which is their h_n. The reverse direction walks the steps backwards, adding rows from h0 as
sequences begin.
"""

from __future__ import annotations

from collections.abc import Sequence

from ember.backend import array_module
from ember.ops.dense import Linear
from ember.ops.dims import Stack, Unbind
from ember.ops.dropout import dropout as dropout_fn
from ember.ops.join import Cat, Split
from ember.ops.rnn_cells import GRUStep, LSTMStep, RNNStep, input_projection
from ember.tensor import Tensor

__all__: list[str] = []

# Per layer and direction: (w_ih, w_hh, b_ih, b_hh, w_hr), None where absent.
LayerWeights = tuple


def _bounds(sizes: Sequence[int]) -> tuple:
    bounds, total = [0], 0
    for n in sizes:
        total += n
        bounds.append(total)
    return tuple(bounds)


def _step(mode: str, gx: Tensor, h: Tensor, c: Tensor | None, weights: LayerWeights) -> tuple:
    """One time step: (h, c), c None but for LSTM."""
    _, w_hh, _, b_hh, w_hr, w_t = weights
    if mode == "LSTM":
        h, c = LSTMStep.apply(gx, h, c, w_hh, w_t)
        if w_hr is not None:
            h = Linear.apply(h, w_hr, None)  # proj_size: h = (o tanh(c)) W_hr^T
        return h, c
    if mode == "GRU":
        return GRUStep.apply(gx, h, w_hh, b_hh, w_t), None
    return RNNStep.apply(gx, h, w_hh, mode == "RNN_RELU", w_t), None


def _split_rows(state: Tensor | None, keep: int) -> tuple:
    """(rows :keep, rows keep:) of a state, or (None, None)."""
    if state is None:
        return None, None
    rows = state.data.shape[0]
    return Split.apply(state, 0, (0, keep, rows))


def _forward_direction(
    mode: str, steps: tuple, sizes: Sequence[int], h: Tensor, c: Tensor | None, w: LayerWeights
) -> tuple:
    outs, done_h, done_c = [], [], []
    for t, gx in enumerate(steps):
        if sizes[t] < h.data.shape[0]:  # sequences that ended: their state is final
            h, h_done = _split_rows(h, sizes[t])
            c, c_done = _split_rows(c, sizes[t])
            done_h.append(h_done)
            done_c.append(c_done)
        h, c = _step(mode, gx, h, c, w)
        outs.append(h)
    if done_h:  # the rows are in packed order: longest sequences first
        h = Cat.apply(0, h, *reversed(done_h))
        c = None if c is None else Cat.apply(0, c, *reversed(done_c))
    return outs, h, c


def _reverse_direction(
    mode: str, steps: tuple, sizes: Sequence[int], h0: Tensor, c0: Tensor | None, w: LayerWeights
) -> tuple:
    growth = sorted(set(sizes))
    if len(growth) > 1:  # h0 in row blocks, taken in turn as shorter sequences begin
        h_parts = list(Split.apply(h0, 0, (0, *growth)))
        c_parts = None if c0 is None else list(Split.apply(c0, 0, (0, *growth)))
        h, c = h_parts[0], None if c0 is None else c_parts[0]
    else:
        h, c = h0, c0
    outs: list = [None] * len(steps)
    k = 0
    for t in range(len(steps) - 1, -1, -1):
        if sizes[t] > h.data.shape[0]:
            k += 1
            h = Cat.apply(0, h, h_parts[k])
            c = None if c is None else Cat.apply(0, c, c_parts[k])
        h, c = _step(mode, steps[t], h, c, w)
        outs[t] = h
    return outs, h, c


def run_rnn(
    mode: str,
    input: Tensor,
    batch_sizes: Sequence[int],
    hx: Tensor,
    cx: Tensor | None,
    weights: Sequence[LayerWeights],
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Run a multi-layer RNN/LSTM/GRU over packed rows; return (output rows, h_n, c_n).

    Shapes: input (N, input_size) with N = sum(batch_sizes), rows time-major; hx
    (num_layers * D, B, H_out), cx (num_layers * D, B, hidden_size) for LSTM, else None;
    output (N, D * H_out). ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU' (PyTorch's).
    The rows of hx/cx and of h_n/c_n are in packed (sorted) order.
    """
    D = 2 if bidirectional else 1
    bounds = _bounds(batch_sizes)
    h0s = Unbind.apply(hx, 0)
    c0s = Unbind.apply(cx, 0) if cx is not None else [None] * len(h0s)
    x, h_n, c_n = input, [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(D):
            k = layer * D + direction
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[k]
            w_t = array_module(w_hh.data).ascontiguousarray(w_hh.data.T)  # a constant per call
            step_weights = (w_ih, w_hh, b_ih, b_hh, w_hr, w_t)
            fold = None if mode == "GRU" else b_hh  # GRU keeps b_hh inside r * (h W + b)
            gx = input_projection(x, w_ih, b_ih, fold)  # (N, G): all steps, one GEMM
            steps = Split.apply(gx, 0, bounds)
            run = _reverse_direction if direction else _forward_direction
            step_outs, h, c = run(mode, steps, batch_sizes, h0s[k], c0s[k], step_weights)
            outs.append(Cat.apply(0, *step_outs))  # (N, H_out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if D == 1 else Cat.apply(1, *outs)  # (N, D * H_out)
        if dropout and training and layer < num_layers - 1:
            x = dropout_fn(x, dropout, True)
    cn = Stack.apply(0, *c_n) if cx is not None else None
    return x, Stack.apply(0, *h_n), cn
