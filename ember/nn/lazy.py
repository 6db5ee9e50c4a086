"""Lazy convolution and normalisation layers: the input's channel count is read on first use.

LazyConv1d/2d/3d, LazyConvTranspose1d/2d/3d, LazyBatchNorm1d/2d/3d, LazyInstanceNorm1d/2d/3d
hold ``UninitializedParameter``/``UninitializedBuffer`` placeholders until the first forward
(or a ``load_state_dict`` that supplies the tensors) gives them their shapes; the first forward
then initialises them as the regular layer does and turns the module into that layer (its
class becomes Conv2d, BatchNorm2d, ...), as PyTorch's ``cls_to_become``. Built the way
``LazyLinear`` is in ``linear.py``.
"""

from __future__ import annotations

import itertools
from typing import Any

from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import DType, int64
from ember.nn.conv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
)
from ember.nn.module import Module
from ember.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)
from ember.nn.parameter import Parameter, UninitializedParameter
from ember.ops.creation import empty, tensor
from ember.tensor import Tensor

__all__ = [
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
    "UninitializedBuffer",
]


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet. Mirrors ``torch.nn.UninitializedBuffer``."""

    __slots__ = ()

    def __init__(
        self, requires_grad: bool = False, device: Any = None, dtype: DType | None = None
    ) -> None:
        Tensor.__init__(self, empty(0, device=device, dtype=dtype).data)

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"


def _is_uninitialized(value: Any) -> bool:
    return isinstance(value, (UninitializedParameter, UninitializedBuffer))


def _materialize(value: Tensor, shape: tuple, factory: dict) -> None:
    """Give a placeholder its (uninitialised) storage in place; its identity is kept."""
    value.data = empty(tuple(shape), **factory).data
    value._version[0] += 1
    value.__class__ = Parameter if isinstance(value, Parameter) else Tensor


class _LazyMixin(Module):
    """Shape inference on the first forward, and loading into placeholders, for a lazy layer."""

    cls_to_become: type | None = None

    def has_uninitialized_params(self) -> bool:
        """Whether a parameter or buffer still waits for the first input. Mirrors PyTorch's."""
        tensors = itertools.chain(self._parameters.values(), self._buffers.values())
        return any(_is_uninitialized(t) for t in tensors)

    def initialize_parameters(self, input: Tensor) -> None:
        """Materialise and initialise the placeholders for input's shape."""
        raise NotImplementedError

    def _infer_from_shapes(self) -> None:
        """Set the inferred size attribute from materialised (loaded) tensors."""
        raise NotImplementedError

    def _register_lazy_load_hook(self) -> None:
        """Give placeholders their shapes from a loaded state_dict, as a load pre-hook."""
        self._lazy_load_handle = self._register_load_state_dict_pre_hook(self._lazy_load_hook)

    def _lazy_load_hook(self, state_dict: Any, prefix: str, *_: Any) -> None:
        """Materialise each placeholder whose tensor state_dict holds to that tensor's shape."""
        stores = (self._parameters, self._buffers)
        loaded = False
        with no_grad():
            for store in stores:
                for name, value in store.items():
                    key = prefix + name
                    if _is_uninitialized(value) and key in state_dict:
                        _materialize(value, tuple(state_dict[key].shape), self._factory)
                        loaded = True
        if loaded and not self.has_uninitialized_params():
            self._infer_from_shapes()

    def forward(self, input: Tensor, *args: Any, **kwargs: Any) -> Any:
        self.initialize_parameters(input)
        self.__class__ = self.cls_to_become
        self._lazy_load_handle.remove()
        del self._factory, self._lazy_load_handle
        return self.forward(input, *args, **kwargs)


# -- convolutions ----------------------------------------------------------------------------
class _LazyConvMixin(_LazyMixin):
    """A convolution whose in_channels is read from the input's channel dim."""

    def _setup(self, out_channels: int, bias: bool, device: Any, dtype: DType | None) -> None:
        self._factory = {"device": device, "dtype": dtype}
        self._register_lazy_load_hook()
        self.weight = UninitializedParameter()
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        unbatched = self._dim + 1
        if input.dim() not in (unbatched, unbatched + 1):
            raise RuntimeError(
                f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) input to "
                f"{type(self).__name__}, but got input of size: {input.shape}"
            )
        return input.shape[1] if input.dim() == unbatched + 1 else input.shape[0]

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            _materialize(self.weight, self._weight_shape(), self._factory)
            if self.bias is not None:
                _materialize(self.bias, (self.out_channels,), self._factory)
            self.reset_parameters()

    def _weight_shape(self) -> tuple:
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def _infer_from_shapes(self) -> None:
        size = self.weight.shape[0 if self.transposed else 1]
        self.in_channels = size if self.transposed else size * self.groups


class _LazyConv(_LazyConvMixin):
    def __init__(
        self,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(
            0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode,
            device, dtype,
        )  # fmt: skip
        self._setup(out_channels, bias, device, dtype)


class _LazyConvTranspose(_LazyConvMixin):
    def __init__(
        self,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(
            0, 0, kernel_size, stride, padding, output_padding, groups, False, dilation,
            padding_mode, device, dtype,
        )  # fmt: skip
        self._setup(out_channels, bias, device, dtype)


class LazyConv1d(_LazyConv, Conv1d):
    """A Conv1d whose in_channels is read from the first input. Mirrors ``torch.nn.LazyConv1d``.

    Differences from PyTorch: loading a state_dict into it sets in_channels from the weight
    (PyTorch leaves it 0).
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A Conv2d whose in_channels is read from the first input. Mirrors ``torch.nn.LazyConv2d``.

    See LazyConv1d.
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A Conv3d whose in_channels is read from the first input. Mirrors ``torch.nn.LazyConv3d``.

    See LazyConv1d.
    """

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A ConvTranspose1d with in_channels from the input. Mirrors ``torch.nn.LazyConvTranspose1d``.

    See LazyConv1d.
    """

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A ConvTranspose2d with in_channels from the input. Mirrors ``torch.nn.LazyConvTranspose2d``.

    See LazyConv1d.
    """

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A ConvTranspose3d with in_channels from the input. Mirrors ``torch.nn.LazyConvTranspose3d``.

    See LazyConv1d.
    """

    cls_to_become = ConvTranspose3d


# -- normalisation ---------------------------------------------------------------------------
class _LazyNorm(_LazyMixin):
    """A batch or instance norm whose num_features is read from the input's channel dim."""

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: DType | None = None,
    ) -> None:
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self._factory = {"device": device, "dtype": dtype}
        self._register_lazy_load_hook()
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter()
            self.bias = UninitializedParameter()
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=int64, device=device)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def _feature_dim(self, input: Tensor) -> int:
        return 1

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[self._feature_dim(input)]
        shape = (self.num_features,)
        with no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                value = getattr(self, name)
                if _is_uninitialized(value):
                    _materialize(value, shape, self._factory)
            self.reset_parameters()

    def _infer_from_shapes(self) -> None:
        source = self.weight if self.affine else self.running_mean
        self.num_features = source.shape[0]


class _LazyInstanceNorm(_LazyNorm):
    def _feature_dim(self, input: Tensor) -> int:
        return input.dim() - self._dims[0]  # 0 for an unbatched input, else 1


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    """A BatchNorm1d with num_features from the first input. Mirrors ``torch.nn.LazyBatchNorm1d``.

    weight, bias, running_mean and running_var are placeholders until the first forward.
    Differences from PyTorch: loading a state_dict into it sets num_features (PyTorch leaves 0).
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    """A BatchNorm2d with num_features from the first input. Mirrors ``torch.nn.LazyBatchNorm2d``.

    See LazyBatchNorm1d.
    """

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    """A BatchNorm3d with num_features from the first input. Mirrors ``torch.nn.LazyBatchNorm3d``.

    See LazyBatchNorm1d.
    """

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    """An InstanceNorm1d with num_features from the input. Mirrors ``torch.nn.LazyInstanceNorm1d``.

    Defaults as PyTorch's lazy version: affine=True, track_running_stats=True. Differences
    from PyTorch: an unbatched input's channel dim (0) is read, where PyTorch reads dim 1.
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    """An InstanceNorm2d with num_features from the input. Mirrors ``torch.nn.LazyInstanceNorm2d``.

    See LazyInstanceNorm1d.
    """

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    """An InstanceNorm3d with num_features from the input. Mirrors ``torch.nn.LazyInstanceNorm3d``.

    See LazyInstanceNorm1d.
    """

    cls_to_become = InstanceNorm3d
