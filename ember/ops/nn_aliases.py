"""PyTorch's top-level twins of ``nn.functional``: ``torch.conv2d``, ``torch.dropout``, ...

Where torch's top-level signature equals the functional one, the function is re-exported; where
it differs (``torch.dropout(input, p, train)``, ``torch.batch_norm``'s argument order, the loss
functions' integer ``reduction``), a thin wrapper adapts it.
"""

from __future__ import annotations

from typing import Any

from ember.ops import dropout as dr
from ember.ops import normalization as nm
from ember.ops.activation import hardshrink, prelu, rrelu, rrelu_, threshold, threshold_
from ember.ops.activation_smooth import celu, celu_, selu, selu_
from ember.ops.binary import binary_cross_entropy_with_logits as _bce_logits
from ember.ops.conv import (
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from ember.ops.ctc import ctc_loss as _ctc_loss
from ember.ops.dense import bilinear
from ember.ops.distance import cosine_similarity, pairwise_distance
from ember.ops.embedding import embedding as _embedding
from ember.ops.grid_sampling import grid_sample
from ember.ops.loss import kl_div as _kl_div
from ember.ops.loss import poisson_nll_loss as _poisson_nll_loss
from ember.ops.margin import cosine_embedding_loss as _cosine_embedding_loss
from ember.ops.margin import hinge_embedding_loss as _hinge_embedding_loss
from ember.ops.margin import margin_ranking_loss as _margin_ranking_loss
from ember.ops.margin import triplet_margin_loss as _triplet_margin_loss
from ember.ops.padding import pad as _pad
from ember.ops.pooling import (
    adaptive_avg_pool1d,
    avg_pool1d,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from ember.ops.pooling import adaptive_max_pool1d as _adaptive_max_pool1d
from ember.ops.resampling import channel_shuffle, pixel_shuffle, pixel_unshuffle
from ember.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "alpha_dropout",
    "alpha_dropout_",
    "avg_pool1d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy_with_logits",
    "celu",
    "celu_",
    "channel_shuffle",
    "constant_pad_nd",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "cosine_embedding_loss",
    "cosine_similarity",
    "ctc_loss",
    "dropout",
    "dropout_",
    "embedding",
    "feature_alpha_dropout",
    "feature_alpha_dropout_",
    "feature_dropout",
    "feature_dropout_",
    "grid_sampler",
    "group_norm",
    "hardshrink",
    "hinge_embedding_loss",
    "instance_norm",
    "kl_div",
    "layer_norm",
    "margin_ranking_loss",
    "max_pool1d",
    "max_pool2d",
    "max_pool3d",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "rms_norm",
    "rrelu",
    "rrelu_",
    "selu",
    "selu_",
    "threshold",
    "threshold_",
    "triplet_margin_loss",
]

rms_norm = nm.rms_norm

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value: Any) -> str:
    """Map torch's integer reduction enum (0 none, 1 mean, 2 sum) to F's string.

    torch's top-level losses take the enum, and left out it means 0 (no reduction): their
    Python binding does not read the schema's ``Mean`` default.
    """
    if isinstance(value, str):
        return value
    if value not in _REDUCTIONS:
        raise ValueError(f"{value} is not a valid value for reduction")
    return _REDUCTIONS[value]


# -- nn.functional twins whose top-level signature differs ---------------------------------------
def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Zero elements with probability p when train. Mirrors ``torch.dropout``."""
    return dr.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place ``dropout``. Mirrors ``torch.dropout_``."""
    return dr.dropout(input, p, train, inplace=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Zero whole channels of (N, C, *) with probability p when train.

    Mirrors ``torch.feature_dropout``.
    """
    dr._check_p(p)
    return dr._channel_dropout(input, p, train, False, batched=True)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place ``feature_dropout``. Mirrors ``torch.feature_dropout_``."""
    dr._check_p(p)
    return dr._channel_dropout(input, p, train, True, batched=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Alpha dropout (keeps SELU statistics). Mirrors ``torch.alpha_dropout``."""
    return dr.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place ``alpha_dropout``. Mirrors ``torch.alpha_dropout_``."""
    return dr.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Channel-wise alpha dropout. Mirrors ``torch.feature_alpha_dropout``."""
    return dr.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place ``feature_alpha_dropout``. Mirrors ``torch.feature_alpha_dropout_``."""
    return dr.feature_alpha_dropout(input, p, train, inplace=True)


def batch_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """Batch normalisation, in torch's top-level argument order. Mirrors ``torch.batch_norm``."""
    return nm.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    use_input_stats: bool,
    momentum: float,
    eps: float,
    cudnn_enabled: bool = True,
) -> Tensor:
    """Instance normalisation, torch's top-level argument order. Mirrors ``torch.instance_norm``."""
    return nm.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


def layer_norm(
    input: Tensor,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    cudnn_enable: bool = True,
) -> Tensor:
    """Layer normalisation. Mirrors ``torch.layer_norm``."""
    return nm.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
    cudnn_enabled: bool = True,
) -> Tensor:
    """Group normalisation. Mirrors ``torch.group_norm``."""
    return nm.group_norm(input, num_groups, weight, bias, eps)


def embedding(
    weight: Tensor,
    indices: Tensor,
    padding_idx: int = -1,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of weight (weight first; padding_idx -1 means none). Mirrors it.

    Mirrors ``torch.embedding``.
    """
    return _embedding(
        indices,
        weight,
        None if padding_idx < 0 else padding_idx,
        scale_grad_by_freq=scale_grad_by_freq,
        sparse=sparse,
    )


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """Adaptive max pooling, returning (values, indices). Mirrors ``torch.adaptive_max_pool1d``."""
    return _adaptive_max_pool1d(input, output_size, return_indices=True)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    """Pad with a constant, last dim first. Mirrors ``torch.constant_pad_nd``."""
    return _pad(input, pad, "constant", value)


_MODES = ("bilinear", "nearest", "bicubic")
_PADDING = ("zeros", "border", "reflection")


def grid_sampler(
    input: Tensor, grid: Tensor, interpolation_mode: int, padding_mode: int, align_corners: bool
) -> Tensor:
    """``grid_sample`` with integer modes (0 bilinear/zeros ...). Mirrors ``torch.grid_sampler``."""
    return grid_sample(
        input, grid, _MODES[interpolation_mode], _PADDING[padding_mode], align_corners
    )


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, log_target: bool = False) -> Tensor:
    """KL divergence, integer reduction (default none). Mirrors ``torch.kl_div``."""
    name = _reduction(reduction)
    if name == "mean":  # F.kl_div warns about 'mean'; torch.kl_div does not
        return _kl_div(input, target, reduction="none", log_target=log_target).mean()
    return _kl_div(input, target, reduction=name, log_target=log_target)


def poisson_nll_loss(
    input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float, reduction: int
) -> Tensor:
    """Poisson negative log likelihood, integer reduction. Mirrors ``torch.poisson_nll_loss``."""
    return _poisson_nll_loss(
        input, target, log_input, full, eps=eps, reduction=_reduction(reduction)
    )


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    pos_weight: Tensor | None = None,
    reduction: int = 0,
) -> Tensor:
    """BCE on logits, integer reduction. Mirrors ``torch.binary_cross_entropy_with_logits``."""
    return _bce_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths: Any,
    target_lengths: Any,
    blank: int = 0,
    reduction: int = 0,
    zero_infinity: bool = False,
) -> Tensor:
    """CTC loss, integer reduction. Mirrors ``torch.ctc_loss``."""
    return _ctc_loss(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        blank,
        _reduction(reduction),
        zero_infinity,
    )


def margin_ranking_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """Margin ranking loss, integer reduction. Mirrors ``torch.margin_ranking_loss``."""
    return _margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(
    input: Tensor, target: Tensor, margin: float = 1.0, reduction: int = 0
) -> Tensor:
    """Hinge embedding loss, integer reduction. Mirrors ``torch.hinge_embedding_loss``."""
    return _hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def cosine_embedding_loss(
    input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0, reduction: int = 0
) -> Tensor:
    """Cosine embedding loss, integer reduction. Mirrors ``torch.cosine_embedding_loss``."""
    return _cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    reduction: int = 0,
) -> Tensor:
    """Triplet margin loss, integer reduction. Mirrors ``torch.triplet_margin_loss``."""
    return _triplet_margin_loss(
        anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction)
    )
