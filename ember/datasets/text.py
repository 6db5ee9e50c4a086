"""Text corpora for language models: a Vocabulary and the TextFile dataset.

``TextFile`` tokenizes a corpus by characters or by words, maps tokens to ids through a
``Vocabulary`` and serves (input, target) blocks of ``block_size`` ids, the target shifted by
one token, as a character- or word-level language model trains on.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ember.datasets.tabular import atomic_write_text
from ember.ops.creation import from_numpy
from ember.tensor import Tensor
from ember.utils.data.dataset import Dataset

__all__ = ["TextFile", "Vocabulary", "tokenize"]

WORD = re.compile(r"\w+|[^\w\s]")  # words, and each punctuation mark as a token of its own


def tokenize(text: str, level: str = "char") -> list[str]:
    """Split text into characters (``level='char'``) or words and punctuation (``'word'``)."""
    if level == "char":
        return list(text)
    if level == "word":
        return WORD.findall(text)
    raise ValueError(f"level must be 'char' or 'word', got {level!r}")


class Vocabulary:
    """A two-way map between tokens and ids: ``stoi`` (dict) and ``itos`` (list).

    Specials come first (the unknown token, when given, is id 0), then the other tokens. Looking
    up a token that is not in the vocabulary gives the unknown token's id, or raises KeyError
    when there is none.
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        unk_token: str | None = "<unk>",
        specials: Sequence[str] = (),
    ) -> None:
        self.unk_token = unk_token
        self.itos: list[str] = []
        self.stoi: dict[str, int] = {}
        for token in [*([unk_token] if unk_token is not None else []), *specials, *tokens]:
            if token not in self.stoi:
                self.stoi[token] = len(self.itos)
                self.itos.append(token)

    @classmethod
    def build(
        cls,
        tokens: Iterable[str],
        min_freq: int = 1,
        max_size: int | None = None,
        unk_token: str | None = "<unk>",
        specials: Sequence[str] = (),
        sort_by: str = "frequency",
    ) -> Vocabulary:
        """Build from a token stream: tokens seen at least ``min_freq`` times.

        ``sort_by='frequency'`` orders by count (ties alphabetically), ``'alphabet'`` by the
        tokens themselves (nanoGPT's character order); ``max_size`` keeps the first ones.
        """
        counts = Counter(tokens)
        kept = [t for t, n in counts.items() if n >= min_freq]
        if sort_by == "frequency":
            kept.sort(key=lambda t: (-counts[t], t))
        elif sort_by == "alphabet":
            kept.sort()
        else:
            raise ValueError(f"sort_by must be 'frequency' or 'alphabet', got {sort_by!r}")
        return cls(kept[:max_size], unk_token, specials)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        index = self.stoi.get(token)
        if index is not None:
            return index
        if self.unk_token is None:
            raise KeyError(f"token {token!r} is not in the vocabulary (which has no unk_token)")
        return self.stoi[self.unk_token]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Vocabulary)
            and self.itos == other.itos
            and self.unk_token == other.unk_token
        )

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)}, unk_token={self.unk_token!r})"

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Map tokens to ids (unknown tokens to the unknown token's id)."""
        return [self[token] for token in tokens]

    def decode(self, ids: Iterable[int] | Tensor) -> list[str]:
        """Map ids (ints or an integer Tensor) back to tokens."""
        if isinstance(ids, Tensor):
            ids = ids.data.reshape(-1).tolist()
        try:
            return [self.itos[i] for i in ids]
        except IndexError:
            raise IndexError(f"id out of range for a vocabulary of {len(self)} tokens") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON, atomically."""
        record = {"unk_token": self.unk_token, "itos": self.itos}
        atomic_write_text(path, json.dumps(record, ensure_ascii=True) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Vocabulary:
        """Read a vocabulary written by ``save``; a malformed file raises ValueError naming it."""
        try:
            record = json.loads(Path(path).read_text(encoding="utf-8"))
            unk, itos = record["unk_token"], record["itos"]
            if not all(isinstance(t, str) for t in itos) or len(set(itos)) != len(itos):
                raise ValueError("itos must be a list of distinct strings")
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a vocabulary file ({err})") from None
        if unk is not None and (not itos or itos[0] != unk):
            raise ValueError(f"{path}: the unknown token {unk!r} must be the first entry")
        vocab = cls((), unk_token=None)
        vocab.itos, vocab.stoi = list(itos), {t: i for i, t in enumerate(itos)}
        vocab.unk_token = unk
        return vocab


class TextFile(Dataset):
    """A text corpus as (input, target) blocks of token ids for language modelling.

    Item ``i`` is ``(tokens[s:s + block_size], tokens[s + 1:s + block_size + 1])`` with
    ``s = i * stride`` (default stride: ``block_size``, non-overlapping blocks), both int64.

    Args:
        path: the text file (or pass ``text=`` instead).
        block_size: tokens per block.
        level: 'char' or 'word' (words and punctuation marks, whitespace dropped).
        vocab: the Vocabulary to use (e.g. the training split's); default: built from this
            corpus, characters in sorted order, words by frequency.
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        block_size: int = 128,
        level: str = "char",
        vocab: Vocabulary | None = None,
        stride: int | None = None,
        text: str | None = None,
        encoding: str = "utf-8",
    ) -> None:
        if (path is None) == (text is None):
            raise ValueError("TextFile needs exactly one of path and text")
        if block_size < 1 or (stride is not None and stride < 1):
            raise ValueError(f"block_size and stride must be positive, got {block_size}, {stride}")
        if text is None:
            text = Path(path).read_text(encoding=encoding)
        self.path, self.level = path, level
        self.block_size, self.stride = block_size, stride or block_size
        tokens = tokenize(text, level)
        if vocab is None:
            sort_by = "alphabet" if level == "char" else "frequency"
            vocab = Vocabulary.build(tokens, sort_by=sort_by)
        self.vocab = vocab
        self.tokens = from_numpy(np.array(vocab.encode(tokens), dtype=np.int64))
        if len(tokens) <= block_size:
            raise ValueError(
                f"the corpus has {len(tokens)} {level} tokens, need more than block_size="
                f"{block_size}"
            )

    def __len__(self) -> int:
        return (self.tokens.shape[0] - 1 - self.block_size) // self.stride + 1

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of range for a TextFile of {n} blocks")
        start = (index % n) * self.stride
        return (
            self.tokens[start : start + self.block_size],
            self.tokens[start + 1 : start + 1 + self.block_size],
        )

    def encode(self, text: str) -> Tensor:
        """Tokenize text at this corpus's level and return its ids as an int64 Tensor."""
        return from_numpy(np.array(self.vocab.encode(tokenize(text, self.level)), dtype=np.int64))

    def decode(self, ids: Iterable[int] | Tensor) -> str:
        """Turn ids back into text (words joined by spaces at word level)."""
        return ("" if self.level == "char" else " ").join(self.vocab.decode(ids))
