"""A char-level LSTM (embedding + LSTM + linear) fits a short verse with hand-written SGD."""

import math

import numpy as np

import ember
from ember import nn as ember_rnn  # the public namespace

TEXT = (
    "Shall I compare thee to a summer's day?\n"
    "Thou art more lovely and more temperate:\n"
    "Rough winds do shake the darling buds of May,\n"
    "And summer's lease hath all too short a date;\n"
    "Sometime too hot the eye of heaven shines,\n"
    "And often is his gold complexion dimm'd;\n"
    "And every fair from fair sometime declines,\n"
    "By chance or nature's changing course untrimm'd.\n"
)  # Shakespeare, Sonnet 18 (public domain)


class CharLSTM(ember.nn.Module):
    def __init__(self, vocab: int, embed: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.embed = ember.nn.Embedding(vocab, embed)
        self.lstm = ember_rnn.LSTM(embed, hidden, batch_first=True)
        self.head = ember.nn.Linear(hidden, vocab)

    def forward(self, idx):
        out, _ = self.lstm(self.embed(idx))  # (B, T, hidden)
        return self.head(out)  # (B, T, vocab)


def test_char_lstm_fits_a_verse():
    ember.manual_seed(0)
    chars = sorted(set(TEXT))
    ids = np.array([chars.index(ch) for ch in TEXT], dtype=np.int64)
    T = 40
    starts = np.arange(0, len(ids) - T - 1, T // 2)  # overlapping windows cover the text
    x = ember.tensor(np.stack([ids[s : s + T] for s in starts]))  # (B, T)
    y = ember.tensor(np.stack([ids[s + 1 : s + T + 1] for s in starts]))  # next characters
    model = CharLSTM(len(chars))
    params = list(model.parameters())
    first = None
    for _ in range(300):
        logits = model(x)
        loss = ember.nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        first = loss.item() if first is None else first
        model.zero_grad()
        loss.backward()
        ember.nn.utils.clip_grad_norm_(params, 1.0)
        with ember.no_grad():
            for p in params:
                p -= 1.0 * p.grad
    assert abs(first - math.log(len(chars))) < 0.3  # starts near chance, ln(vocab) ~ 3.5
    assert loss.item() < 0.5
