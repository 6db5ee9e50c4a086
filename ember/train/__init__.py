"""Keras-style training on Ember: ``Trainer.fit`` with callbacks, streaming metrics and plots.

``ember.train`` is Ember's own namespace (PyTorch has none): it sits on top of ``nn``,
``optim`` and ``utils.data``. ``tqdm`` (progress bar), ``tensorboardX`` (TensorBoard logs)
and ``matplotlib`` (``plot_history``) come with the ``train`` extra.
"""

from ember.train import callbacks, metrics
from ember.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TensorBoardLogger,
)
from ember.train.metrics import (
    AUROC,
    Accuracy,
    ConfusionMatrix,
    F1Score,
    MeanAbsoluteError,
    MeanSquaredError,
    Metric,
    Perplexity,
    Precision,
    R2Score,
    Recall,
)
from ember.train.plotting import plot_history
from ember.train.trainer import History, Trainer

__all__ = [
    "AUROC",
    "Accuracy",
    "CSVLogger",
    "Callback",
    "ConfusionMatrix",
    "EarlyStopping",
    "F1Score",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "ModelCheckpoint",
    "Perplexity",
    "Precision",
    "ProgressBar",
    "R2Score",
    "Recall",
    "ReduceLROnPlateau",
    "TensorBoardLogger",
    "Trainer",
    "callbacks",
    "metrics",
    "plot_history",
]
