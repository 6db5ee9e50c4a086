"""Linear layers: Linear, Bilinear, LazyLinear."""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import DType
from ember.nn import functional as F
from ember.nn import init
from ember.nn.module import Module
from ember.nn.parameter import Parameter, UninitializedParameter, is_lazy
from ember.ops.creation import empty
from ember.tensor import Tensor

__all__ = ["Bilinear", "LazyLinear", "Linear"]


class Linear(Module):
    """Apply y = x W^T + b. Mirrors ``torch.nn.Linear``: same arguments, init and state_dict keys.

    Shapes: input (*, in_features) -> output (*, out_features); weight (out_features,
    in_features), bias (out_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(in), 1/sqrt(in)); the bias shares the bound.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


class Bilinear(Module):
    """Apply y_o = x1^T W_o x2 + b_o. Mirrors ``torch.nn.Bilinear``.

    Shapes: input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features); weight
    (out_features, in1_features, in2_features), bias (out_features).
    """

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        shape = (out_features, in1_features, in2_features)
        self.weight = Parameter(empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


class LazyLinear(Linear):
    """A Linear whose in_features is read from the first input. Mirrors ``torch.nn.LazyLinear``.

    The first forward materialises weight (out_features, in_features) and bias, initialises
    them as Linear does, and turns the module into a ``Linear``.
    Differences from PyTorch: loading a state_dict does not materialise the parameters; run one
    forward first.
    """

    def __init__(
        self, out_features: int, bias: bool = True, device: Any = None, dtype: DType | None = None
    ) -> None:
        super().__init__(0, 0, False)
        self._factory = {"device": device, "dtype": dtype}
        self.weight = UninitializedParameter()
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter still waits for the first input. Mirrors PyTorch's mixin."""
        return any(is_lazy(p) for p in self._parameters.values())

    def initialize_parameters(self, input: Tensor) -> None:
        """Materialise the parameters for input's last dim and initialise them."""
        if not self.has_uninitialized_params():
            return
        with no_grad():
            self.in_features = input.shape[-1]
            _materialize(self.weight, (self.out_features, self.in_features), self._factory)
            if self.bias is not None:
                _materialize(self.bias, (self.out_features,), self._factory)
            self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:
        self.initialize_parameters(input)
        self.__class__ = Linear  # as PyTorch's cls_to_become
        del self._factory
        return F.linear(input, self.weight, self.bias)


def _materialize(param: Parameter, shape: tuple, factory: dict) -> None:
    """Give an UninitializedParameter its storage in place (its identity is kept)."""
    param.data = empty(shape, **factory).data
    param._version[0] += 1
    param.__class__ = Parameter
