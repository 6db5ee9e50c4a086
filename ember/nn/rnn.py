"""Recurrent layers: RNN, LSTM, GRU and their cells. Mirrors ``torch.nn.RNN`` and friends.

Parameter names, shapes and order are PyTorch's (``weight_ih_l0``, ``weight_hh_l0``,
``bias_ih_l0``, ``bias_hh_l0``, ``weight_hr_l0``, then ``..._reverse``), so state_dicts move
between the two. The math is in ``ember.ops.rnn`` (the sequence loop) and
``ember.ops.rnn_cells`` (the fused step ops).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from ember.backend.dtypes import DType
from ember.nn import init
from ember.nn.module import Module
from ember.nn.parameter import Parameter
from ember.nn.utils.rnn import PackedSequence
from ember.ops.creation import empty, zeros
from ember.ops.dims import squeeze, unsqueeze
from ember.ops.indexing import getitem
from ember.ops.rnn import run_rnn
from ember.ops.rnn_cells import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from ember.ops.shape import reshape, transpose
from ember.tensor import Tensor

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _check_args(hidden_size: Any, num_layers: int, dropout: Any, proj_size: int, mode: str) -> None:
    if (
        isinstance(dropout, bool)
        or not isinstance(dropout, numbers.Number)
        or not 0 <= dropout <= 1
    ):
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an "
            "element being zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
            f"expects num_layers greater than 1, but got dropout={dropout} and "
            f"num_layers={num_layers}",
            stacklevel=3,
        )
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if mode not in _GATES:
        raise ValueError(f"Unrecognized RNN mode: {mode}")


class RNNBase(Module):
    """Base of RNN, LSTM and GRU: the parameters and the forward loop. Mirrors ``torch.nn.RNNBase``.

    ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'. Every weight and bias is drawn from
    U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as in PyTorch.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        _check_args(hidden_size, num_layers, dropout, proj_size, mode)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = _GATES[mode] * hidden_size
        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes = [(gate_size, layer_input), (gate_size, real_hidden)]
                kinds = ["weight_ih", "weight_hh"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    kinds += ["bias_ih", "bias_hh"]
                if proj_size > 0:
                    shapes.append((proj_size, hidden_size))
                    kinds.append("weight_hr")
                suffix = "_reverse" if direction == 1 else ""
                names = [f"{kind}_l{layer}{suffix}" for kind in kinds]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(empty(shape, **factory)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Do nothing: Ember keeps no flat weight buffer.

        Mirrors ``torch.nn.RNNBase.flatten_parameters``.
        """

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters of each layer and direction, in PyTorch's order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self) -> list[tuple]:
        out = []
        for names in self._all_weights:
            get = {name.split("_l")[0]: getattr(self, name) for name in names}.get
            out.append(
                (
                    get("weight_ih"),
                    get("weight_hh"),
                    get("bias_ih"),
                    get("bias_hh"),
                    get("weight_hr"),
                )
            )
        return out

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple:
        is_lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        x = input.data
        if x.ndim not in (2, 3):
            name = "LSTM" if is_lstm else ("GRU" if self.mode == "GRU" else "RNN")
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D instead")
        batched = x.ndim == 3
        hx = _check_state_dims(hx, batched, is_lstm)
        if not batched:
            input = unsqueeze(input, 1)
            hx = None if hx is None else tuple(unsqueeze(h, 1) for h in hx)
        elif self.batch_first:
            input = transpose(input, 0, 1)  # (T, B, H_in)
        T, B = input.data.shape[:2]
        self._check_input(input)
        h0, c0 = self._initial_state(input, hx, B)
        rows = reshape(input, (T * B, input.data.shape[2]))  # time-major rows: a packed batch
        out, h_n, c_n = self._run(rows, [B] * T, h0, c0)
        out = reshape(out, (T, B, out.data.shape[-1]))
        if not batched:
            out, h_n = squeeze(out, 1), squeeze(h_n, 1)
            c_n = None if c_n is None else squeeze(c_n, 1)
        elif self.batch_first:
            out = transpose(out, 0, 1)
        return out, ((h_n, c_n) if is_lstm else h_n)

    def _forward_packed(self, input: PackedSequence, hx: Any) -> tuple:
        data, batch_sizes, sorted_indices, unsorted_indices = input
        sizes = [int(n) for n in batch_sizes.data.tolist()]
        self._check_input(data)
        hx = _check_state_dims(hx, True, self.mode == "LSTM")
        if hx is not None and sorted_indices is not None:  # states follow the packed order
            hx = tuple(getitem(h, (slice(None), sorted_indices)) for h in hx)
        h0, c0 = self._initial_state(data, hx, sizes[0])
        out, h_n, c_n = self._run(data, sizes, h0, c0)
        if unsorted_indices is not None:
            h_n = getitem(h_n, (slice(None), unsorted_indices))
            c_n = None if c_n is None else getitem(c_n, (slice(None), unsorted_indices))
        packed = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
        return packed, ((h_n, c_n) if self.mode == "LSTM" else h_n)

    def _run(self, rows: Tensor, sizes: list, h0: Tensor, c0: Tensor | None) -> tuple:
        return run_rnn(
            self.mode,
            rows,
            sizes,
            h0,
            c0,
            self._layer_weights(),
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
        )

    def _check_input(self, input: Tensor) -> None:
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        if input.data.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.data.shape[-1]}"
            )

    def _initial_state(self, input: Tensor, hx: tuple | None, batch: int) -> tuple:
        directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        h_shape = (self.num_layers * directions, batch, real_hidden)
        c_shape = (self.num_layers * directions, batch, self.hidden_size)
        is_lstm = self.mode == "LSTM"
        if hx is None:
            h0 = zeros(h_shape, dtype=input.dtype, device=input.device)
            c0 = zeros(c_shape, dtype=input.dtype, device=input.device) if is_lstm else None
            return h0, c0
        for i, (state, shape) in enumerate(zip(hx, (h_shape, c_shape))):
            if tuple(state.data.shape) != shape:
                which = f"hidden[{i}]" if is_lstm else "hidden"
                raise RuntimeError(f"Expected {which} size {shape}, got {list(state.data.shape)}")
        return hx[0], (hx[1] if is_lstm else None)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _check_state_dims(hx: Any, batched: bool, is_lstm: bool) -> tuple | None:
    """Return hx as a tuple (h,) or (h, c), checked to be 3-D (batched) or 2-D (unbatched)."""
    if hx is None:
        return None
    states = tuple(hx) if is_lstm else (hx,)
    want, kind = (3, "batched 3-D") if batched else (2, "unbatched 2-D")
    if any(s.data.ndim != want for s in states):
        if is_lstm:
            dims = ", ".join(f"{s.data.ndim}-D" for s in states)
            raise RuntimeError(
                f"For {kind} input, hx and cx should also be {want}-D but got ({dims}) tensors"
            )
        raise RuntimeError(
            f"For {kind} input, hx should also be {want}-D but got {states[0].data.ndim}-D tensor"
        )
    return states


class RNN(RNNBase):
    """Apply a multi-layer Elman RNN (tanh or relu). Mirrors ``torch.nn.RNN``.

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Shapes: input (L, B, H_in) ((B, L, H_in) with batch_first, (L, H_in) unbatched) or a
    PackedSequence; h0 (num_layers * D, B, H) -> (output (L, B, D * H), h_n).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype,
        )  # fmt: skip


class LSTM(RNNBase):
    """Apply a multi-layer LSTM, gates (i, f, g, o), optional projection. Mirrors ``torch.nn.LSTM``.

    Shapes: input (L, B, H_in) (or batch_first, unbatched, PackedSequence); (h0, c0) of
    (num_layers * D, B, H_out) and (num_layers * D, B, H) -> (output (L, B, D * H_out), (h_n,
    c_n)), with H_out = proj_size or hidden_size.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype,
        )  # fmt: skip


class GRU(RNNBase):
    """Apply a multi-layer GRU, gates (r, z, n). Mirrors ``torch.nn.GRU``.

    n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h.

    Shapes: input (L, B, H_in) (or batch_first, unbatched, PackedSequence); h0
    (num_layers * D, B, H) -> (output (L, B, D * H), h_n).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype,
        )  # fmt: skip


# -- cells ------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """Base of the cells: weight_ih, weight_hh, biases. Mirrors ``torch.nn.RNNCellBase``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(empty((gates, input_size), **factory))
        self.weight_hh = Parameter(empty((gates, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(empty(gates, **factory))
            self.bias_hh = Parameter(empty(gates, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx: Any, lstm: bool) -> tuple:
        """(input as 2-D, hx as a tuple of 2-D states, batched?); zeros when hx is None."""
        name = type(self).__name__
        if input.data.ndim not in (1, 2):
            raise ValueError(
                f"{name}: Expected input to be 1D or 2D, got {input.data.ndim}D instead"
            )
        states = None if hx is None else (tuple(hx) if lstm else (hx,))
        for state in states or ():
            if state.data.ndim not in (1, 2):
                raise ValueError(
                    f"{name}: Expected hidden to be 1D or 2D, got {state.data.ndim}D instead"
                )
        batched = input.data.ndim == 2
        if not batched:
            input = unsqueeze(input, 0)
            states = None if states is None else tuple(unsqueeze(s, 0) for s in states)
        if states is None:
            shape = (input.data.shape[0], self.hidden_size)
            zero = zeros(shape, dtype=input.dtype, device=input.device)
            states = (zero, zero) if lstm else (zero,)
        return input, states, batched


class RNNCell(RNNCellBase):
    """Apply one Elman RNN step (tanh or relu). Mirrors ``torch.nn.RNNCell``.

    h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shapes: input (B, H_in) or (H_in,), hx (B, H) or (H,) -> h' of hx's shape.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), batched = self._prepare(input, hx, False)
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        out = cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else squeeze(out, 0)


class LSTMCell(RNNCellBase):
    """Apply one LSTM step, gates (i, f, g, o). Mirrors ``torch.nn.LSTMCell``.

    Shapes: input (B, H_in) or (H_in,), hx = (h, c) of (B, H) or (H,) -> (h', c').
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple:
        input, states, batched = self._prepare(input, hx, True)
        h, c = lstm_cell(input, states, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (squeeze(h, 0), squeeze(c, 0))


class GRUCell(RNNCellBase):
    """Apply one GRU step, gates (r, z, n). Mirrors ``torch.nn.GRUCell``.

    Shapes: input (B, H_in) or (H_in,), hx (B, H) or (H,) -> h' of hx's shape.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), batched = self._prepare(input, hx, False)
        out = gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else squeeze(out, 0)
