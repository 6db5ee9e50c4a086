"""Streaming metrics: ``update(preds, target)`` per batch, ``compute()`` at the end, ``reset()``.

State is kept on the host in NumPy (float64 sums, int64 counts), so a metric over a whole
epoch costs one small transfer per batch and never holds the autograd graph. Results are
checked against scikit-learn in the tests.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ember.tensor import Tensor

__all__ = [
    "AUROC",
    "Accuracy",
    "ConfusionMatrix",
    "F1Score",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "Perplexity",
    "Precision",
    "R2Score",
    "Recall",
]

_AVERAGES = ("macro", "micro", "weighted", None)


def _host(x: Any) -> np.ndarray:
    """Return ``x`` (Tensor, backend array, list or scalar) as a host NumPy array."""
    if isinstance(x, Tensor):
        x = x.data
    if hasattr(x, "get") and not isinstance(x, np.ndarray):  # a CuPy array
        x = x.get()
    return np.asarray(x)


def _labels(preds: np.ndarray, target: np.ndarray, threshold: float) -> np.ndarray:
    """Turn scores (N, C), probabilities (N,) or labels (N,) into class labels."""
    if preds.ndim == target.ndim + 1:
        return preds.argmax(-1)
    if preds.dtype.kind == "f":
        return (preds >= threshold).astype(np.int64)
    return preds


def _check_same_len(name: str, preds: np.ndarray, target: np.ndarray) -> None:
    if preds.shape[:1] != target.shape[:1]:
        raise ValueError(
            f"{name}: preds and target must have the same batch size, "
            f"got {tuple(preds.shape)} and {tuple(target.shape)}"
        )


class Metric:
    """Base of the streaming metrics: subclasses write ``update``, ``compute`` and ``reset``.

    ``name`` is the key the metric gets in the Trainer's logs and History (``val_`` is put in
    front for validation). A metric whose ``compute`` is cheap sets ``running = True``, and the
    Trainer then shows its running value in the per-batch logs (progress bar).
    """

    name: str = "metric"
    running: bool = True

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            self.name = name
        self.reset()

    def reset(self) -> None:
        """Clear the accumulated state."""
        raise NotImplementedError

    def update(self, preds: Any, target: Any) -> None:
        """Accumulate one batch of predictions and targets."""
        raise NotImplementedError

    def compute(self) -> Any:
        """Return the metric over everything seen since the last ``reset``."""
        raise NotImplementedError

    def __call__(self, preds: Any, target: Any) -> Any:
        """Update with one batch, then return ``compute()``."""
        self.update(preds, target)
        return self.compute()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """Fraction of samples whose target is among the ``top_k`` highest scores.

    ``preds`` are scores ``(N, C)`` (logits or probabilities), probabilities ``(N,)`` for a
    binary problem (thresholded at ``threshold``), or labels ``(N,)``; ``target`` holds labels.
    """

    name = "accuracy"

    def __init__(self, top_k: int = 1, threshold: float = 0.5, name: str | None = None) -> None:
        if top_k < 1:
            raise ValueError(f"Accuracy: top_k must be >= 1, got {top_k}")
        self.top_k = top_k
        self.threshold = threshold
        super().__init__(name)

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, preds: Any, target: Any) -> None:
        preds, target = _host(preds), _host(target)
        _check_same_len("Accuracy", preds, target)
        if preds.ndim == target.ndim + 1 and self.top_k > 1:
            if self.top_k > preds.shape[-1]:
                raise ValueError(
                    f"Accuracy: top_k={self.top_k} is larger than the {preds.shape[-1]} classes"
                )
            top = np.argpartition(-preds, self.top_k - 1, axis=-1)[..., : self.top_k]
            hits = (top == target[..., None]).any(-1)
        else:
            hits = _labels(preds, target, self.threshold) == target
        self.correct += int(hits.sum())
        self.total += hits.size

    def compute(self) -> float:
        return self.correct / self.total if self.total else 0.0


class ConfusionMatrix(Metric):
    """Count matrix ``C[i, j]``: samples of true class ``i`` predicted as class ``j``.

    ``normalize`` is None, ``"true"`` (rows sum to 1), ``"pred"`` (columns) or ``"all"``,
    as in ``sklearn.metrics.confusion_matrix``.
    """

    name = "confusion_matrix"
    running = False

    def __init__(
        self,
        num_classes: int,
        normalize: str | None = None,
        threshold: float = 0.5,
        name: str | None = None,
    ) -> None:
        if normalize not in (None, "true", "pred", "all"):
            raise ValueError(f"normalize must be None, 'true', 'pred' or 'all', got {normalize!r}")
        self.num_classes = num_classes
        self.normalize = normalize
        self.threshold = threshold
        super().__init__(name)

    def reset(self) -> None:
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, preds: Any, target: Any) -> None:
        preds, target = _host(preds), _host(target)
        _check_same_len(type(self).__name__, preds, target)
        labels = _labels(preds, target, self.threshold).reshape(-1).astype(np.int64)
        target = target.reshape(-1).astype(np.int64)
        k = self.num_classes
        if labels.size and (
            min(labels.min(), target.min()) < 0 or max(labels.max(), target.max()) >= k
        ):
            raise ValueError(f"{type(self).__name__}: class labels must be in [0, {k})")
        self.matrix += np.bincount(target * k + labels, minlength=k * k).reshape(k, k)

    def compute(self) -> np.ndarray:
        m = self.matrix.astype(np.float64)
        if self.normalize is None:
            return self.matrix.copy()
        axis = {"true": 1, "pred": 0, "all": None}[self.normalize]
        total = m.sum(axis=axis, keepdims=axis is not None)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.nan_to_num(m / total)


class _ClassScore(ConfusionMatrix):
    """Precision/recall/F1 from a streaming confusion matrix; 0 where a ratio is 0/0."""

    running = True

    def __init__(
        self,
        num_classes: int,
        average: str | None = "macro",
        threshold: float = 0.5,
        name: str | None = None,
    ) -> None:
        if average not in _AVERAGES:
            raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
        self.average = average
        self.running = average is not None  # per-class arrays stay out of the batch logs
        super().__init__(num_classes, None, threshold, name)

    def _score(self, tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def compute(self) -> Any:
        m = self.matrix
        tp = np.diag(m).astype(np.float64)
        fp = m.sum(0) - tp
        fn = m.sum(1) - tp
        if self.average == "micro":
            return float(self._score(tp.sum(), fp.sum(), fn.sum()))
        scores = self._score(tp, fp, fn)
        if self.average is None:
            return scores
        if self.average == "weighted":
            support = m.sum(1)
            return float((scores * support).sum() / support.sum()) if support.sum() else 0.0
        return float(scores.mean())


def _ratio(num: Any, den: Any) -> np.ndarray:
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


class Precision(_ClassScore):
    """Precision ``tp / (tp + fp)``, averaged ``"macro"``, ``"micro"``, ``"weighted"`` or None."""

    name = "precision"

    def _score(self, tp: Any, fp: Any, fn: Any) -> np.ndarray:
        return _ratio(tp, tp + fp)


class Recall(_ClassScore):
    """Recall ``tp / (tp + fn)``, averaged ``"macro"``, ``"micro"``, ``"weighted"`` or None."""

    name = "recall"

    def _score(self, tp: Any, fp: Any, fn: Any) -> np.ndarray:
        return _ratio(tp, tp + fn)


class F1Score(_ClassScore):
    """F1 ``2 tp / (2 tp + fp + fn)``, averaged ``"macro"``, ``"micro"``, ``"weighted"`` or None."""

    name = "f1"

    def _score(self, tp: Any, fp: Any, fn: Any) -> np.ndarray:
        return _ratio(2 * tp, 2 * tp + fp + fn)


def _binary_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve via the rank-sum (Mann-Whitney U), ties counted half."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUROC: only one class present in target; the ROC AUC is undefined")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(scores.size, dtype=np.float64)
    # Average rank over each run of tied scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], scores.size]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


class AUROC(Metric):
    """Area under the ROC curve: binary (scores ``(N,)``) or one-vs-rest macro (``(N, C)``).

    Exact, so it keeps every score seen since ``reset`` (``running = False``). Multiclass
    scores are used as given, as ``roc_auc_score(multi_class="ovr")`` does.
    """

    name = "auroc"
    running = False

    def reset(self) -> None:
        self.scores: list[np.ndarray] = []
        self.targets: list[np.ndarray] = []

    def update(self, preds: Any, target: Any) -> None:
        preds, target = _host(preds), _host(target)
        _check_same_len("AUROC", preds, target)
        self.scores.append(preds.astype(np.float64))
        self.targets.append(target.reshape(-1).astype(np.int64))

    def compute(self) -> float:
        if not self.scores:
            raise ValueError("AUROC: compute() called before any update()")
        scores, target = np.concatenate(self.scores), np.concatenate(self.targets)
        if scores.ndim == 1:
            return _binary_auc(scores, target == 1)
        return float(
            np.mean([_binary_auc(scores[:, c], target == c) for c in range(scores.shape[1])])
        )


class MeanSquaredError(Metric):
    """Mean of ``(preds - target) ** 2`` over every element seen."""

    name = "mse"

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def _error(self, diff: np.ndarray) -> np.ndarray:
        return diff * diff

    def update(self, preds: Any, target: Any) -> None:
        preds, target = _host(preds).astype(np.float64), _host(target).astype(np.float64)
        if preds.shape != target.shape:
            preds = preds.reshape(target.shape)  # (N, 1) predictions against (N,) targets
        self.total += float(self._error(preds - target).sum())
        self.count += target.size

    def compute(self) -> float:
        return self.total / self.count if self.count else 0.0


class MeanAbsoluteError(MeanSquaredError):
    """Mean of ``|preds - target|`` over every element seen."""

    name = "mae"

    def _error(self, diff: np.ndarray) -> np.ndarray:
        return np.abs(diff)


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged uniformly over outputs.

    Streams the per-output sums of ``y``, ``y**2`` and the squared residuals, as
    ``sklearn.metrics.r2_score(multioutput="uniform_average")``.
    """

    name = "r2"

    def reset(self) -> None:
        self.count = 0
        self.sum = self.sum_sq = self.residual = 0.0

    def update(self, preds: Any, target: Any) -> None:
        preds, target = _host(preds).astype(np.float64), _host(target).astype(np.float64)
        preds = preds.reshape(target.shape)
        flat_t = target.reshape(target.shape[0], -1) if target.ndim > 1 else target[:, None]
        flat_p = preds.reshape(flat_t.shape)
        self.count += flat_t.shape[0]
        self.sum = self.sum + flat_t.sum(0)
        self.sum_sq = self.sum_sq + (flat_t * flat_t).sum(0)
        self.residual = self.residual + ((flat_t - flat_p) ** 2).sum(0)

    def compute(self) -> float:
        if self.count < 2:
            raise ValueError("R2Score: needs at least two samples")
        total = self.sum_sq - self.sum * self.sum / self.count
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(total != 0, 1 - self.residual / total, 0.0)
        return float(np.mean(scores))


class Perplexity(Metric):
    """``exp`` of the mean negative log-likelihood of ``target`` under logits ``(..., C)``.

    Positions whose target equals ``ignore_index`` are left out, as in ``cross_entropy``.
    """

    name = "perplexity"

    def __init__(self, ignore_index: int | None = None, name: str | None = None) -> None:
        self.ignore_index = ignore_index
        super().__init__(name)

    def reset(self) -> None:
        self.nll = 0.0
        self.count = 0

    def update(self, preds: Any, target: Any) -> None:
        logits, target = _host(preds).astype(np.float64), _host(target).astype(np.int64)
        if logits.shape[:-1] != target.shape:
            raise ValueError(
                f"Perplexity: logits {tuple(logits.shape)} do not match "
                f"target {tuple(target.shape)}"
            )
        logits = logits.reshape(-1, logits.shape[-1])
        target = target.reshape(-1)
        if self.ignore_index is not None:
            keep = target != self.ignore_index
            logits, target = logits[keep], target[keep]
        shifted = logits - logits.max(-1, keepdims=True)  # max-shift for a stable logsumexp
        log_norm = np.log(np.exp(shifted).sum(-1))
        self.nll += float((log_norm - shifted[np.arange(target.size), target]).sum())
        self.count += target.size

    def compute(self) -> float:
        return math.exp(self.nll / self.count) if self.count else float("nan")
