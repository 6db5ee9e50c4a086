"""Optimizers. Mirrors ``torch.optim``: the Optimizer base and the update rules.

Each optimizer updates parameter arrays in place with preallocated state; the state_dict
layout is PyTorch's, so a converted PyTorch optimizer state loads and continues identically.
"""

from ember.optim.adafactor import Adafactor
from ember.optim.adam import Adam, Adamax, AdamW
from ember.optim.lbfgs import LBFGS
from ember.optim.lion import Lion
from ember.optim.muon import Muon
from ember.optim.nadam import NAdam, RAdam
from ember.optim.optimizer import Optimizer
from ember.optim.rmsprop import Adadelta, Adagrad, RMSprop
from ember.optim.rprop import ASGD, Rprop
from ember.optim.sgd import SGD
from ember.optim.sparse_adam import SparseAdam

from ember.optim import lr_scheduler, swa_utils  # isort: skip  (they build on the optimizers)

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "RAdam",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Rprop",
    "ASGD",
    "Adafactor",
    "LBFGS",
    "Lion",
    "Muon",
    "SparseAdam",
    "Optimizer",
    "lr_scheduler",
    "swa_utils",
]
