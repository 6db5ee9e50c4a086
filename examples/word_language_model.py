"""Word-level language modelling with an LSTM, a GRU or a Transformer: PyTorch's example.

A port of PyTorch's ``examples/word_language_model``. Data: the three Shakespeare plays shipped
with Ember (``ember.datasets.shakespeare()``, about 77k words and punctuation marks), split by
position into train (80%), valid (10%) and test (10%); the vocabulary is the training split's
words seen at least twice, the others map to ``<unk>``. Each split is laid out as ``batch_size``
parallel token streams (``batchify``) and trained with truncated backpropagation through time
over ``--bptt`` tokens, gradient clipping and SGD whose learning rate is divided by 4 whenever
the validation loss stops improving. Figure of merit: validation and test perplexity::

    python examples/word_language_model.py --model LSTM --epochs 6
    python examples/word_language_model.py --model Transformer --epochs 6 --lr 5
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import TextFile, Vocabulary, shakespeare, tokenize


class RNNModel(nn.Module):
    """An encoder (embedding), a recurrent module (LSTM or GRU) and a decoder (linear)."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        # "Using the Output Embedding to Improve Language Models" (Press & Wolf 2016).
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        h = ember.zeros(self.nlayers, bsz, self.nhid)
        return (h, ember.zeros(self.nlayers, bsz, self.nhid)) if self.rnn_type == "LSTM" else h


class PositionalEncoding(nn.Module):
    """Add the fixed sine/cosine position signal of "Attention Is All You Need"."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = ember.arange(0, max_len, dtype=ember.float32).unsqueeze(1)
        div_term = ember.exp(ember.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe = ember.zeros(max_len, d_model)
        pe[:, 0::2] = ember.sin(position * div_term)
        pe[:, 1::2] = ember.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))  # (max_len, 1, d_model)

    def forward(self, x):
        return self.dropout(x + self.pe[: x.size(0), :])


class TransformerModel(nn.Module):
    """A causal Transformer encoder stack between an embedding and a linear decoder."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.ntoken, self.ninp = ntoken, ninp
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.decoder = nn.Linear(ninp, ntoken)
        nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, src, hidden=None):
        mask = nn.Transformer.generate_square_subsequent_mask(src.size(0))
        src = self.pos_encoder(self.input_emb(src) * math.sqrt(self.ninp))
        output = self.decoder(self.transformer_encoder(src, mask=mask, is_causal=True))
        return F.log_softmax(output, dim=-1).view(-1, self.ntoken), None


def load_corpus(min_freq: int = 2) -> tuple[Vocabulary, dict[str, ember.Tensor]]:
    """Split the word tokens 80/10/10 and encode each split with the training vocabulary."""
    words = tokenize(shakespeare(), "word")
    n_train, n_valid = int(0.8 * len(words)), int(0.1 * len(words))
    parts = {
        "train": words[:n_train],
        "valid": words[n_train : n_train + n_valid],
        "test": words[n_train + n_valid :],
    }
    vocab = Vocabulary.build(parts["train"], min_freq=min_freq)
    # TextFile re-tokenizes text; words joined by spaces tokenize back to the same words.
    splits = {
        k: TextFile(text=" ".join(v), level="word", vocab=vocab).tokens for k, v in parts.items()
    }
    return vocab, splits


def batchify(data: ember.Tensor, bsz: int) -> ember.Tensor:
    """Lay the token stream out as bsz columns (nbatch, bsz), dropping the remainder."""
    nbatch = data.size(0) // bsz
    return data[: nbatch * bsz].view(bsz, -1).t().contiguous()


def get_batch(source: ember.Tensor, i: int, bptt: int) -> tuple[ember.Tensor, ember.Tensor]:
    """Rows i..i+bptt as input and the same rows shifted by one (flattened) as target."""
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i : i + seq_len], source[i + 1 : i + 1 + seq_len].reshape(-1)


def repackage_hidden(h):
    """Detach hidden states from their history (truncated backpropagation through time)."""
    if isinstance(h, ember.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def evaluate(model, data_source, args, max_batches=None) -> float:
    """Mean cross-entropy per token over data_source (batchified with eval_batch_size)."""
    model.eval()
    total_loss, count = 0.0, 0
    hidden = None if args.model == "Transformer" else model.init_hidden(data_source.size(1))
    with ember.no_grad():
        for n, i in enumerate(range(0, data_source.size(0) - 1, args.bptt)):
            if max_batches is not None and n >= max_batches:
                break
            data, targets = get_batch(data_source, i, args.bptt)
            output, hidden = model(data, hidden)
            total_loss += len(targets) * F.nll_loss(output, targets).item()
            count += len(targets)
    return total_loss / count


def train_epoch(model, train_data, optimizer, epoch, args) -> float:
    """One pass over the training streams in bptt-long chunks; return the mean loss."""
    model.train()
    hidden = None if args.model == "Transformer" else model.init_hidden(args.batch_size)
    total, count, start = 0.0, 0, time.perf_counter()
    for batch, i in enumerate(range(0, train_data.size(0) - 1, args.bptt)):
        if args.max_batches is not None and batch >= args.max_batches:
            break
        data, targets = get_batch(train_data, i, args.bptt)
        if hidden is not None:
            hidden = repackage_hidden(hidden)
        optimizer.zero_grad()
        output, hidden = model(data, hidden)
        loss = F.nll_loss(output, targets)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        total, count = total + loss.item(), count + 1
        if batch % args.log_interval == 0 and batch > 0:
            ms = 1000 * (time.perf_counter() - start) / (batch + 1)
            cur = total / count
            print(
                f"| epoch {epoch:3d} | batch {batch:5d} | lr {optimizer.param_groups[0]['lr']:.2f}"
                f" | ms/batch {ms:6.1f} | loss {cur:5.2f} | ppl {math.exp(cur):8.2f}"
            )
    return total / max(count, 1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="LSTM", choices=["LSTM", "GRU", "Transformer"])
    p.add_argument("--emsize", type=int, default=200, help="size of word embeddings")
    p.add_argument("--nhid", type=int, default=200, help="hidden units per layer")
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--nhead", type=int, default=2, help="attention heads (Transformer)")
    p.add_argument("--lr", type=float, default=20.0, help="initial learning rate")
    p.add_argument("--clip", type=float, default=0.25, help="gradient clipping norm")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--eval-batch-size", type=int, default=10)
    p.add_argument("--bptt", type=int, default=35, help="sequence length")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--tied", action="store_true", help="tie the word embedding and softmax weights")
    p.add_argument("--min-freq", type=int, default=2, help="rarer training words become <unk>")
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--log-interval", type=int, default=50)
    p.add_argument("--out", default="runs/word_language_model")
    p.add_argument("--smoke", action="store_true", help="a few batches of a small model")
    args = p.parse_args(argv)
    args.max_batches = args.max_eval_batches = None
    if args.smoke:
        args.epochs, args.max_batches, args.max_eval_batches = 1, 3, 2
        args.emsize = args.nhid = 32
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    ember.manual_seed(args.seed)
    vocab, splits = load_corpus(args.min_freq)
    train_data = batchify(splits["train"], args.batch_size)
    val_data = batchify(splits["valid"], args.eval_batch_size)
    test_data = batchify(splits["test"], args.eval_batch_size)
    ntokens = len(vocab)
    if args.model == "Transformer":
        model = TransformerModel(
            ntokens, args.emsize, args.nhead, args.nhid, args.nlayers, args.dropout
        )
    else:
        model = RNNModel(
            args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout, args.tied
        )
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.model}: {ntokens} words in the vocabulary, {n_params / 1e6:.2f}M parameters")
    optimizer = ember.optim.SGD(model.parameters(), lr=args.lr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    best_val, start = None, time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        epoch_start = time.perf_counter()
        train_loss = train_epoch(model, train_data, optimizer, epoch, args)
        val_loss = evaluate(model, val_data, args, args.max_eval_batches)
        print(
            f"| end of epoch {epoch:3d} | time {time.perf_counter() - epoch_start:5.1f}s"
            f" | valid loss {val_loss:5.2f} | valid ppl {math.exp(val_loss):8.2f}"
        )
        if best_val is None or val_loss < best_val:
            ember.save(model.state_dict(), out / "model.safetensors")
            best_val = val_loss
        else:  # no improvement on the validation set: anneal the learning rate
            for group in optimizer.param_groups:
                group["lr"] /= 4.0
    model.load_state_dict(ember.load(out / "model.safetensors"))  # the best model
    vocab.save(out / "vocab.json")
    test_loss = evaluate(model, test_data, args, args.max_eval_batches)
    print(f"| end of training | test loss {test_loss:5.2f} | test ppl {math.exp(test_loss):8.2f}")
    return {
        "model": args.model,
        "train_loss": train_loss,
        "valid_ppl": math.exp(best_val),
        "test_ppl": math.exp(test_loss),
        "vocab_size": ntokens,
        "seconds": time.perf_counter() - start,
    }


if __name__ == "__main__":
    main()
