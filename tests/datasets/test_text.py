import numpy as np
import pytest

from ember.datasets import TextFile, Vocabulary, tokenize

TEXT = "to be, or not to be: that is the question.\n"


def test_vocabulary_round_trip(tmp_path):
    vocab = Vocabulary.build(tokenize(TEXT * 2, "word"))
    assert vocab.itos[0] == "<unk>" and vocab.itos[1:3] == ["be", "to"]  # by count, then a-z
    ids = vocab.encode(["to", "be", "unseen"])
    assert ids == [vocab.stoi["to"], vocab.stoi["be"], 0]
    assert vocab.decode(ids) == ["to", "be", "<unk>"]
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.stoi == vocab.stoi and loaded.unk_token == "<unk>"
    assert "question" in loaded and len(loaded) == len(vocab)


def test_vocabulary_options(tmp_path):
    vocab = Vocabulary.build("aaabbc", min_freq=2, unk_token=None, specials=["<pad>"])
    assert vocab.itos == ["<pad>", "a", "b"]
    with pytest.raises(KeyError, match="'c' is not in the vocabulary"):
        vocab["c"]
    assert Vocabulary.build("cba", sort_by="alphabet").itos == ["<unk>", "a", "b", "c"]
    assert Vocabulary.build("aabbbc", max_size=1).itos == ["<unk>", "b"]
    with pytest.raises(IndexError, match="out of range for a vocabulary of 3"):
        vocab.decode([5])
    (tmp_path / "v.json").write_text('{"unk_token": null, "itos": ["a", "a"]}')
    with pytest.raises(ValueError, match=r"v\.json: not a vocabulary file"):
        Vocabulary.load(tmp_path / "v.json")


def test_char_level(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    ds = TextFile(path, block_size=8)
    assert ds.vocab.itos[1:] == sorted(set(TEXT))
    assert len(ds) == (len(TEXT) - 1 - 8) // 8 + 1
    ids = ds.tokens.numpy()
    assert ds.decode(ds.tokens) == TEXT
    for i in (0, len(ds) - 1, -1):
        x, y = ds[i]
        start = (i % len(ds)) * 8
        assert x.dtype.name == "int64" and x.shape == (8,)
        np.testing.assert_array_equal(x.numpy(), ids[start : start + 8])
        np.testing.assert_array_equal(y.numpy(), ids[start + 1 : start + 9])  # shifted by one
    with pytest.raises(IndexError, match="out of range"):
        ds[len(ds)]


def test_word_level_and_shared_vocab():
    train = TextFile(text=TEXT * 3, block_size=4, level="word", stride=1)
    assert len(train) == 3 * 13 - 4
    assert train.decode(train.encode("to be or not")) == "to be or not"
    test = TextFile(text="be the zebra.", block_size=2, level="word", vocab=train.vocab)
    assert test.decode(test.tokens) == "be the <unk> ."


def test_text_errors():
    with pytest.raises(ValueError, match="exactly one of path and text"):
        TextFile()
    with pytest.raises(ValueError, match="need more than block_size=64"):
        TextFile(text="short", block_size=64)
    with pytest.raises(ValueError, match="level must be 'char' or 'word'"):
        TextFile(text=TEXT, level="byte")
