"""Fold an eval-mode BatchNorm into the convolution or linear layer before it.

Mirrors ``torch.nn.utils.fusion``: the ``*_eval`` functions return a new (deep-copied) layer
whose weight and bias absorb the batch norm's running statistics and affine parameters; the
originals are left untouched. The ``*_weights`` functions do the arithmetic on tensors.
"""

from __future__ import annotations

import copy
from typing import TypeVar

from ember.autograd.grad_mode import no_grad
from ember.nn.module import Module
from ember.nn.parameter import Parameter
from ember.ops.creation import ones_like, zeros_like
from ember.ops.floatmath import rsqrt
from ember.tensor import Tensor

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]

LayerT = TypeVar("LayerT", bound=Module)


def fuse_conv_bn_eval(conv: LayerT, bn: Module, transpose: bool = False) -> LayerT:
    """Return a copy of conv with bn folded into its weight and bias.

    Mirrors ``torch.nn.utils.fusion.fuse_conv_bn_eval``: both modules must be in eval mode;
    ``transpose`` is for a ConvTranspose (output channels on weight dim 1).
    """
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_conv = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_conv.weight, fused_conv.bias = fuse_conv_bn_weights(
        fused_conv.weight,
        fused_conv.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
        transpose,
    )
    return fused_conv


def fuse_conv_bn_weights(
    conv_w: Tensor,
    conv_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor | None,
    bn_b: Tensor | None,
    transpose: bool = False,
) -> tuple[Parameter, Parameter]:
    """Return the fused (weight, bias) Parameters of conv followed by batch norm.

    Mirrors ``torch.nn.utils.fusion.fuse_conv_bn_weights``: w * gamma / sqrt(var + eps) per
    output channel, and (b - mean) * gamma / sqrt(var + eps) + beta.
    """
    weight_dtype = conv_w.dtype
    bias_dtype = conv_b.dtype if conv_b is not None else weight_dtype
    if conv_b is None:
        conv_b = zeros_like(bn_rm)
    if bn_w is None:
        bn_w = ones_like(bn_rm)
    if bn_b is None:
        bn_b = zeros_like(bn_rm)
    with no_grad():
        bn_var_rsqrt = rsqrt(bn_rv + bn_eps)
        rest = [1] * (conv_w.ndim - 2)
        shape = [1, -1, *rest] if transpose else [-1, 1, *rest]
        fused_w = (conv_w * (bn_w * bn_var_rsqrt).reshape(shape)).to(dtype=weight_dtype)
        fused_b = ((conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, conv_w.requires_grad), Parameter(fused_b, conv_b.requires_grad)


def fuse_linear_bn_eval(linear: LayerT, bn: Module) -> LayerT:
    """Return a copy of linear with bn folded into its weight and bias.

    Mirrors ``torch.nn.utils.fusion.fuse_linear_bn_eval``: both modules must be in eval mode,
    and bn.num_features must equal linear.out_features (or be 1).
    """
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused_linear = copy.deepcopy(linear)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and "
            f"bn.num_features={bn.num_features}"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused_linear.weight, fused_linear.bias = fuse_linear_bn_weights(
        fused_linear.weight,
        fused_linear.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
    )
    return fused_linear


def fuse_linear_bn_weights(
    linear_w: Tensor,
    linear_b: Tensor | None,
    bn_rm: Tensor,
    bn_rv: Tensor,
    bn_eps: float,
    bn_w: Tensor,
    bn_b: Tensor,
) -> tuple[Parameter, Parameter]:
    """Return the fused (weight, bias) Parameters of linear followed by batch norm.

    Mirrors ``torch.nn.utils.fusion.fuse_linear_bn_weights``.
    """
    weight_dtype = linear_w.dtype
    bias_dtype = linear_b.dtype if linear_b is not None else weight_dtype
    if linear_b is None:
        linear_b = zeros_like(bn_rm)
    with no_grad():
        bn_scale = bn_w * rsqrt(bn_rv + bn_eps)
        fused_w = linear_w * bn_scale.unsqueeze(-1).to(dtype=weight_dtype)
        fused_b = ((linear_b - bn_rm) * bn_scale + bn_b).to(dtype=bias_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)
