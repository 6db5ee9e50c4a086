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

from ember.autograd import anomaly_mode, functional, graph  # isort: skip  (build on the names above)
from ember.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly  # isort: skip
from ember.autograd.graph import Variable, set_multithreading_enabled  # isort: skip

__all__ = [
    "Context",
    "Function",
    "Variable",
    "anomaly_mode",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_multithreading_enabled",
]
