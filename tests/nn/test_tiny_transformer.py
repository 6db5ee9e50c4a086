"""A 2-layer causal Transformer fits a short text, char by char (Adam written by hand)."""

from __future__ import annotations

import math

import numpy as np

import ember
from ember.nn import transformer as T

TEXT = (
    "the quick brown fox jumps over the lazy dog. "
    "a stitch in time saves nine. "
    "all that glitters is not gold. "
)
CONTEXT, D_MODEL, STEPS, BATCH = 16, 32, 250, 16
LOSS_BOUND = 0.6  # nats per character; a uniform guess over the alphabet is ~3.2


class TinyGPT(ember.nn.Module):
    """Token + learned position embeddings, 2 causal encoder layers, a linear head."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.tok = ember.nn.Embedding(vocab, D_MODEL)
        self.pos = ember.nn.Embedding(CONTEXT, D_MODEL)
        layer = T.TransformerEncoderLayer(
            D_MODEL, 2, 4 * D_MODEL, dropout=0.0, batch_first=True, norm_first=True
        )
        self.blocks = T.TransformerEncoder(layer, 2)
        self.head = ember.nn.Linear(D_MODEL, vocab)
        self.mask = T.Transformer.generate_square_subsequent_mask(CONTEXT)

    def forward(self, idx: ember.Tensor) -> ember.Tensor:
        x = self.tok(idx) + self.pos(ember.arange(idx.shape[1]))  # (B, T, C)
        x = self.blocks(x, mask=self.mask, is_causal=True)
        return self.head(x)  # (B, T, vocab)


def adam_step(params, state, step, lr=1e-2, betas=(0.9, 0.99), eps=1e-8):
    b1, b2 = betas
    with ember.no_grad():
        for p in params:
            g = p.grad.data
            m, v = state.setdefault(id(p), (np.zeros_like(g), np.zeros_like(g)))
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**step), v / (1 - b2**step)
            p.data -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(p.data.dtype)


def test_tiny_transformer_fits_text():
    chars = sorted(set(TEXT))
    data = np.array([chars.index(c) for c in TEXT])
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    model = TinyGPT(len(chars))
    params = list(model.parameters())
    state: dict = {}
    losses = []
    for step in range(1, STEPS + 1):
        starts = rng.integers(0, len(data) - CONTEXT - 1, BATCH)
        x = np.stack([data[s : s + CONTEXT] for s in starts])
        y = np.stack([data[s + 1 : s + CONTEXT + 1] for s in starts])
        logits = model(ember.tensor(x))
        loss = ember.nn.functional.cross_entropy(
            logits.reshape(-1, len(chars)), ember.tensor(y).reshape(-1)
        )
        model.zero_grad()
        loss.backward()
        adam_step(params, state, step)
        losses.append(float(loss))
    assert losses[0] > math.log(len(chars)) - 1.0  # it starts near chance
    assert np.mean(losses[-20:]) < LOSS_BOUND, losses[-20:]
