"""Ember: a readable deep-learning framework with the PyTorch API, on NumPy and CuPy.

``ember`` mirrors ``torch``'s top-level namespace: tensors and their factories, the op
library, dtypes, devices, seeding and grad modes.
"""

# Tensor first: its late import of ember.ops pulls in autograd.function in a working order.
from ember.tensor import Size, Tensor  # isort: skip

from ember import (
    autograd,
    datasets,
    distributions,
    func,
    io,
    linalg,
    models,
    nn,
    optim,
    special,
    testing,
    train,
    transforms,
    utils,
)
from ember.autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from ember.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from ember.backend import Device, Generator, get_num_threads, set_num_threads
from ember.backend import Device as device
from ember.backend.dtypes import (
    DType,
    bfloat16,
    bool_,
    double,
    finfo,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from ember.backend.flags import *
from ember.backend.random import default_generator, initial_seed, manual_seed, seed
from ember.func import vmap
from ember.io import load, save
from ember.ops import *
from ember.printing import get_printoptions, printoptions, set_printoptions

dtype = DType
bool = bool_
float = float32
int = int32

__version__ = "0.1.0"
