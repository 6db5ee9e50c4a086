"""examples/word_language_model.py: smoke runs of the LSTM, GRU and Transformer variants."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import word_language_model as wlm


@pytest.mark.parametrize("model", ["LSTM", "GRU", "Transformer"])
def test_smoke_run(tmp_path, model):
    result = wlm.main(["--smoke", "--model", model, "--out", str(tmp_path)])
    assert result["model"] == model
    assert {"train_loss", "valid_ppl", "test_ppl", "vocab_size"} <= result.keys()
    assert math.isfinite(result["valid_ppl"]) and math.isfinite(result["test_ppl"])
    assert (tmp_path / "model.safetensors").is_file() and (tmp_path / "vocab.json").is_file()


def test_tied_weights_share_one_parameter():
    model = wlm.RNNModel("LSTM", 50, 16, 16, 2, tie_weights=True)
    assert model.decoder.weight is model.encoder.weight
    with pytest.raises(ValueError, match="nhid must be equal to emsize"):
        wlm.RNNModel("LSTM", 50, 16, 32, 2, tie_weights=True)


def test_batchify_and_get_batch_lay_out_streams():
    data = ember.arange(23)
    batched = wlm.batchify(data, 4)  # 5 rows of 4 streams, the last 3 tokens dropped
    assert batched.shape == (5, 4)
    assert batched[:, 1].tolist() == list(range(5, 10))
    x, y = wlm.get_batch(batched, 3, bptt=35)  # only one row is left after row 3
    assert x.shape == (1, 4) and y.tolist() == batched[4].tolist()


def test_corpus_splits_share_the_training_vocabulary():
    vocab, splits = wlm.load_corpus()
    sizes = [splits[k].numel() for k in ("train", "valid", "test")]
    assert sizes[0] > 7 * sizes[1] and abs(sizes[1] - sizes[2]) <= 2
    assert vocab.itos[0] == "<unk>" and splits["valid"].max().item() < len(vocab)
