"""Streaming metrics against scikit-learn: several update() calls on random batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

import ember
from ember.train import (
    AUROC,
    Accuracy,
    ConfusionMatrix,
    F1Score,
    MeanAbsoluteError,
    MeanSquaredError,
    Perplexity,
    Precision,
    R2Score,
    Recall,
)

C = 4


def batches(seed=0, n=4, size=25, classes=C):
    """Random (scores, labels) batches; every class appears in targets and predictions."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        scores = rng.standard_normal((size, classes)).astype(np.float32)
        target = rng.integers(0, classes, size)
        target[:classes] = np.arange(classes)
        scores[:classes, :classes] += 10 * np.eye(classes, dtype=np.float32)
        out.append((scores, target))
    return out


def stream(metric, data, as_tensor=True):
    metric.reset()
    for preds, target in data:
        if as_tensor:
            preds, target = ember.tensor(preds), ember.tensor(target)
        metric.update(preds, target)
    return metric.compute()


def joined(data):
    return np.concatenate([p for p, _ in data]), np.concatenate([t for _, t in data])


@pytest.mark.parametrize("as_tensor", [True, False])
def test_accuracy_top1(as_tensor):
    data = batches()
    scores, target = joined(data)
    got = stream(Accuracy(), data, as_tensor)
    assert got == pytest.approx(skm.accuracy_score(target, scores.argmax(1)))


@pytest.mark.parametrize("k", [2, 3])
def test_accuracy_top_k(k):
    data = batches(1)
    scores, target = joined(data)
    expected = skm.top_k_accuracy_score(target, scores, k=k, labels=np.arange(C))
    assert stream(Accuracy(top_k=k), data) == pytest.approx(expected)


def test_accuracy_binary_probabilities_and_labels():
    rng = np.random.default_rng(2)
    probs = rng.uniform(0, 1, 50).astype(np.float32)
    target = rng.integers(0, 2, 50)
    expected = skm.accuracy_score(target, probs >= 0.5)
    assert stream(Accuracy(), [(probs[:20], target[:20]), (probs[20:], target[20:])]) == (
        pytest.approx(expected)
    )
    labels = (probs >= 0.5).astype(np.int64)
    assert stream(Accuracy(), [(labels, target)]) == pytest.approx(expected)


def test_accuracy_errors():
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        Accuracy(top_k=0)
    with pytest.raises(ValueError, match="top_k=5 is larger than the 4 classes"):
        Accuracy(top_k=5).update(np.zeros((2, 4)), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="same batch size"):
        Accuracy().update(np.zeros((3, 4)), np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize("average", ["macro", "micro", "weighted", None])
@pytest.mark.parametrize(
    "cls, sk",
    [(Precision, skm.precision_score), (Recall, skm.recall_score), (F1Score, skm.f1_score)],
)
def test_precision_recall_f1(cls, sk, average):
    data = batches(3)
    scores, target = joined(data)
    expected = sk(target, scores.argmax(1), average=average, labels=np.arange(C))
    np.testing.assert_allclose(stream(cls(C, average=average), data), expected, rtol=1e-12)


def test_precision_zero_division_is_zero():
    # class 2 never predicted and never true: sklearn's zero_division=0 convention
    preds, target = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    expected = skm.precision_score(
        target, preds, average="macro", labels=[0, 1, 2], zero_division=0
    )
    assert stream(Precision(3), [(preds, target)]) == pytest.approx(expected)


def test_average_error():
    with pytest.raises(ValueError, match="average must be one of"):
        F1Score(3, average="samples")


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix(normalize):
    data = batches(4)
    scores, target = joined(data)
    labels = np.arange(C)
    expected = skm.confusion_matrix(target, scores.argmax(1), labels=labels, normalize=normalize)
    got = stream(ConfusionMatrix(C, normalize=normalize), data)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match="normalize must be"):
        ConfusionMatrix(3, normalize="rows")
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 3\)"):
        ConfusionMatrix(3).update(np.array([0, 3]), np.array([0, 1]))


def test_auroc_binary_with_ties():
    rng = np.random.default_rng(5)
    target = rng.integers(0, 2, 90)
    scores = np.round(rng.uniform(0, 1, 90) + 0.3 * target, 1)  # rounding makes ties
    data = [(scores[i : i + 30], target[i : i + 30]) for i in range(0, 90, 30)]
    assert stream(AUROC(), data) == pytest.approx(skm.roc_auc_score(target, scores), rel=1e-12)


def test_auroc_multiclass_ovr():
    data = batches(6)
    scores, target = joined(data)
    probs = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    data = [(probs[i : i + 25], target[i : i + 25]) for i in range(0, 100, 25)]
    expected = skm.roc_auc_score(target, probs, multi_class="ovr", average="macro")
    assert stream(AUROC(), data) == pytest.approx(expected, rel=1e-9)


def test_auroc_errors():
    with pytest.raises(ValueError, match="before any update"):
        AUROC().compute()
    with pytest.raises(ValueError, match="only one class present"):
        stream(AUROC(), [(np.array([0.1, 0.4]), np.array([1, 1]))])


@pytest.mark.parametrize(
    "cls, sk",
    [
        (MeanSquaredError, skm.mean_squared_error),
        (MeanAbsoluteError, skm.mean_absolute_error),
        (R2Score, skm.r2_score),
    ],
)
@pytest.mark.parametrize("shape", [(20,), (20, 3)])
def test_regression_metrics(cls, sk, shape):
    rng = np.random.default_rng(7)
    target = rng.standard_normal((3, *shape)).astype(np.float32)
    preds = (target + 0.5 * rng.standard_normal(target.shape)).astype(np.float32)
    data = list(zip(preds, target))
    expected = sk(target.reshape(-1, *shape[1:]), preds.reshape(-1, *shape[1:]))
    assert stream(cls(), data) == pytest.approx(expected, rel=1e-6)


def test_regression_column_predictions_against_flat_target():
    rng = np.random.default_rng(8)
    target = rng.standard_normal(10)
    preds = rng.standard_normal((10, 1))
    assert stream(MeanSquaredError(), [(preds, target)]) == pytest.approx(
        skm.mean_squared_error(target, preds[:, 0])
    )
    assert stream(R2Score(), [(preds, target)]) == pytest.approx(skm.r2_score(target, preds[:, 0]))


def test_r2_needs_two_samples():
    with pytest.raises(ValueError, match="at least two samples"):
        stream(R2Score(), [(np.array([1.0]), np.array([2.0]))])


@pytest.mark.parametrize("ignore_index", [None, 0])
def test_perplexity(ignore_index):
    rng = np.random.default_rng(9)
    logits = rng.standard_normal((3, 2, 5, 7)) * 3
    target = rng.integers(0, 7, (3, 2, 5))
    got = stream(Perplexity(ignore_index=ignore_index), list(zip(logits, target)))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, target[..., None], -1)[..., 0]
    if ignore_index is not None:
        nll = nll[target != ignore_index]
    assert got == pytest.approx(math.exp(nll.mean()), rel=1e-10)


def test_perplexity_shape_error():
    with pytest.raises(ValueError, match=r"logits \(2, 5\) do not match target \(3,\)"):
        Perplexity().update(np.zeros((2, 5)), np.zeros(3, dtype=np.int64))


def test_reset_and_call():
    metric = Accuracy()
    assert metric(np.array([[1.0, 0.0]]), np.array([0])) == 1.0
    metric.reset()
    assert metric(np.array([[1.0, 0.0]]), np.array([1])) == 0.0
    assert Accuracy(name="acc").name == "acc"
    assert repr(Accuracy()) == "Accuracy(name='accuracy')"
