"""Utilities for modules and their parameters. Mirrors ``torch.nn.utils``.

Gradient clipping, parameter/vector conversion, and parametrizations (``parametrize``, with
``parametrizations.weight_norm`` and ``parametrizations.spectral_norm``).

The hook-based ``weight_norm``/``spectral_norm`` (and ``remove_*``) are provided for old
checkpoints. Differences from PyTorch: the hook-based ``spectral_norm`` neither writes
state_dict version metadata nor converts version-0 checkpoints on load.
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
from ember.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from ember.nn.utils.weight_norm import remove_weight_norm, weight_norm

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
    "remove_spectral_norm",
    "remove_weight_norm",
    "spectral_norm",
    "weight_norm",
]
