"""Utilities for modules and their parameters. Mirrors ``torch.nn.utils``.

Gradient clipping, parameter/vector conversion, and parametrizations (``parametrize``, with
``parametrizations.weight_norm`` and ``parametrizations.spectral_norm``).

Differences from PyTorch: the deprecated hook-based ``nn.utils.weight_norm`` and
``nn.utils.spectral_norm`` are not provided; use the ``parametrizations`` versions.
"""

from ember.nn.utils import fusion, parametrizations, parametrize, prune, rnn, stateless
from ember.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from ember.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from ember.nn.utils.init_utils import skip_init

__all__ = [
    "rnn",
    "fusion",
    "skip_init",
    "stateless",
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "prune",
    "vector_to_parameters",
]
