"""Reverse-mode automatic differentiation. Mirrors ``torch.autograd``.

``Function`` here is the user-facing one (forward on Tensors, as PyTorch's); Ember's own ops
subclass ``ember.autograd.function.Function``, whose forward works on backend arrays.
"""

from ember.autograd.engine import backward, grad
from ember.autograd.function import Context
from ember.autograd.function import TensorFunction as Function
from ember.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from ember.autograd.gradcheck import gradcheck, gradgradcheck

from ember.autograd import functional  # isort: skip  (builds on the names above)

__all__ = [
    "Context",
    "Function",
    "backward",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
