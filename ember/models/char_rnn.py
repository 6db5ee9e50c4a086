"""A character-level recurrent language model (Karpathy's char-rnn).

The layout is that of PyTorch's ``examples/word_language_model`` ``RNNModel``: ``encoder``
(Embedding), ``rnn`` (LSTM or GRU), ``drop``, ``decoder`` (Linear), with its init.
"""

from __future__ import annotations

from ember import nn
from ember.tensor import Tensor

__all__ = ["CharRNN"]

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU}


class CharRNN(nn.Module):
    """Predict the next character from the previous ones with an embedding, RNN and Linear.

    Shapes: input (B, T) int64 -> (logits (B, T, vocab_size), hidden), where hidden is the
    RNN's final state ((h, c) for LSTM, h for GRU), each (num_layers, B, hidden_size).

    Args:
        cell: ``"lstm"`` or ``"gru"``.
        dropout: applied to the embeddings, between RNN layers and before the decoder.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in _CELLS:
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        self.cell = cell
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _CELLS[cell](
            embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout
        )
        self.decoder = nn.Linear(hidden_size, vocab_size)
        self._init_weights()

    def _init_weights(self) -> None:
        # The word_language_model example's init: small uniform embeddings and decoder.
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(
        self, input: Tensor, hidden: Tensor | tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor | tuple[Tensor, Tensor]]:
        emb = self.drop(self.encoder(input))  # (B, T, embed_dim)
        output, hidden = self.rnn(emb, hidden)  # (B, T, hidden_size)
        return self.decoder(self.drop(output)), hidden  # (B, T, vocab_size)
