"""BertModel against Hugging Face transformers (the oracle) on a small random BERT."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ember
from ember.io.errors import SerializationError
from ember.models.bert import BertConfig, BertModel
from tests.helpers import assert_same, check_module

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

SMALL = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
    type_vocab_size=3,
    initializer_range=0.2,  # large activations: exact gelu vs its tanh form shows
)


def _hf(cls=None, **kw):
    torch.manual_seed(0)
    cls = cls or transformers.BertModel
    return cls(transformers.BertConfig(**{**SMALL, **kw})).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    hf = _hf()
    path = tmp_path_factory.mktemp("bert")
    hf.save_pretrained(path, safe_serialization=True)
    return hf, path


def _inputs(batch=3, length=11, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, SMALL["vocab_size"], (batch, length))
    types = rng.integers(0, SMALL["type_vocab_size"], (batch, length))
    mask = np.ones((batch, length), dtype=np.int64)
    mask[1, 7:] = 0  # right padding
    mask[2, 3:5] = 0  # holes
    return ids, types, mask


def _both(ids, types=None, mask=None):
    e = [None if a is None else ember.tensor(a) for a in (ids, mask, types)]
    t = [None if a is None else torch.tensor(a) for a in (ids, mask, types)]
    return e, t


@pytest.mark.parametrize("with_types", [False, True])
@pytest.mark.parametrize("with_mask", [False, True])
def test_from_pretrained_matches_transformers(saved, with_mask, with_types):
    hf, path = saved
    model = BertModel.from_pretrained(path)
    assert not model.training
    ids, types, mask = _inputs()
    (e_ids, e_mask, e_types), (t_ids, t_mask, t_types) = _both(ids, types, mask)
    out = model(e_ids, e_mask if with_mask else None, e_types if with_types else None)
    with torch.no_grad():
        ref = hf(
            t_ids,
            attention_mask=t_mask if with_mask else None,
            token_type_ids=t_types if with_types else None,
        )
    assert_same(out.last_hidden_state, ref.last_hidden_state, rtol=1e-4, atol=1e-5)
    assert_same(out.pooler_output, ref.pooler_output, rtol=1e-4, atol=1e-5)


def test_hidden_states_and_output_access(saved):
    hf, path = saved
    model = BertModel.from_pretrained(path)
    ids, _, mask = _inputs()
    (e_ids, e_mask, _), (t_ids, t_mask, _) = _both(ids, None, mask)
    out = model(e_ids, e_mask, output_hidden_states=True)
    with torch.no_grad():
        ref = hf(t_ids, attention_mask=t_mask, output_hidden_states=True)
    assert len(out.hidden_states) == len(ref.hidden_states) == SMALL["num_hidden_layers"] + 1
    for e, t in zip(out.hidden_states, ref.hidden_states):
        assert_same(e, t, rtol=1e-4, atol=1e-5)
    assert out[0] is out.last_hidden_state and out["pooler_output"] is out.pooler_output
    assert out.keys() == ["last_hidden_state", "pooler_output", "hidden_states"]
    assert len(out.to_tuple()) == 3
    plain = model(e_ids)
    assert plain.keys() == ["last_hidden_state", "pooler_output"]
    with pytest.raises(KeyError):
        plain["hidden_states"]


def test_state_dict_layout_is_hugging_faces():
    e_sd = BertModel(BertConfig(**SMALL)).state_dict()
    t_sd = {k: v for k, v in _hf().state_dict().items() if not k.endswith("position_ids")}
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape), k
    assert "encoder.layer.1.attention.self.query.weight" in e_sd
    assert "encoder.layer.0.attention.output.LayerNorm.bias" in e_sd


def test_gradients_match_transformers():
    def make(m):
        kw = {**SMALL, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
        if m is ember:
            return BertModel(BertConfig(**kw))
        return transformers.BertModel(transformers.BertConfig(**kw))

    ids = np.random.default_rng(1).integers(0, SMALL["vocab_size"], (2, 6))
    check_module(
        make,
        inputs=[ids],
        input_grad=False,
        call=lambda layer, x: layer(x).last_hidden_state,
        rtol=1e-3,
        atol=1e-5,
    )


def test_default_init_follows_hugging_face():
    ember.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=500, hidden_size=64, num_attention_heads=4))
    w = model.embeddings.word_embeddings.weight.data
    assert abs(w[1:].std() - 0.02) < 0.002
    assert not np.any(w[0])  # the padding row
    q = model.encoder.layer[0].attention.self.query
    assert abs(q.weight.data.std() - 0.02) < 0.003 and not np.any(q.bias.data)
    ln = model.embeddings.LayerNorm
    assert np.all(ln.weight.data == 1) and not np.any(ln.bias.data)


def test_task_model_prefix_and_missing_pooler(tmp_path):
    hf = _hf(transformers.BertForMaskedLM)  # "bert." prefix, "cls." head, no pooler
    hf.save_pretrained(tmp_path, safe_serialization=True)
    with pytest.raises(KeyError, match=r"does not provide.*pooler\.dense\.weight"):
        BertModel.from_pretrained(tmp_path)
    model = BertModel.from_pretrained(tmp_path, add_pooling_layer=False)
    assert model.pooler is None
    ids, _, mask = _inputs()
    (e_ids, e_mask, _), (t_ids, t_mask, _) = _both(ids, None, mask)
    out = model(e_ids, e_mask)
    assert out.pooler_output is None
    with torch.no_grad():
        ref = hf.bert(t_ids, attention_mask=t_mask)
    assert_same(out.last_hidden_state, ref.last_hidden_state, rtol=1e-4, atol=1e-5)


def _write(path, tensors, config):
    path.mkdir(exist_ok=True)
    safetensors_torch.save_file(
        {k: v.contiguous() for k, v in tensors.items()}, path / "model.safetensors"
    )
    (path / "config.json").write_text(json.dumps(config))


def test_old_gamma_beta_names_and_position_ids(tmp_path):
    hf = _hf()
    old = {"LayerNorm.weight": "LayerNorm.gamma", "LayerNorm.bias": "LayerNorm.beta"}
    sd = {}
    for k, v in hf.state_dict().items():
        for new, was in old.items():
            k = k.replace(new, was)
        sd[k] = v
    sd["embeddings.position_ids"] = torch.arange(SMALL["max_position_embeddings"])[None]
    _write(tmp_path, sd, SMALL)
    model = BertModel.from_pretrained(tmp_path)
    ids, _, _ = _inputs()
    with torch.no_grad():
        ref = hf(torch.tensor(ids))
    assert_same(model(ember.tensor(ids)).last_hidden_state, ref.last_hidden_state, 1e-4, 1e-5)


def test_unmapped_keys_are_listed(tmp_path):
    sd = dict(_hf().state_dict())
    sd["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(3)
    del sd["encoder.layer.1.output.dense.bias"]
    _write(tmp_path, sd, SMALL)
    with pytest.raises(KeyError, match=r"map to no parameter.*rotary\.weight") as info:
        BertModel.from_pretrained(tmp_path)
    assert "encoder.layer.1.output.dense.bias" in str(info.value)


def test_wrong_shape_in_file_is_an_error(tmp_path):
    sd = dict(_hf().state_dict())
    sd["pooler.dense.bias"] = torch.zeros(5)
    _write(tmp_path, sd, SMALL)
    with pytest.raises(RuntimeError, match=r"pooler\.dense\.bias"):
        BertModel.from_pretrained(tmp_path)


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        BertModel.from_pretrained(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match=r"has no config\.json"):
        BertModel.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(SMALL))
    with pytest.raises(FileNotFoundError, match=r"has no model\.safetensors"):
        BertModel.from_pretrained(tmp_path)


def test_input_errors():
    model = BertModel(BertConfig(**SMALL))
    ids = ember.zeros(2, 5, dtype=ember.int64)
    with pytest.raises(ValueError, match=r"attention_mask shape \(2, 4\)"):
        model(ids, ember.ones(2, 4, dtype=ember.int64))
    with pytest.raises(ValueError, match="exceeds max_position_embeddings 40"):
        model(ember.zeros(1, 41, dtype=ember.int64))


def test_config_errors():
    with pytest.raises(ValueError, match="not a multiple of the number of attention heads"):
        BertConfig(hidden_size=30, num_attention_heads=4)
    with pytest.raises(NotImplementedError, match="absolute"):
        BertConfig(position_embedding_type="relative_key")
    with pytest.raises(ValueError, match="unsupported hidden_act"):
        BertConfig(hidden_act="nope")


def test_fully_masked_row_is_finite():
    model = BertModel(BertConfig(**SMALL)).eval()
    mask = ember.tensor([[1, 1, 1], [0, 0, 0]])
    out = model(ember.tensor([[5, 6, 7], [5, 6, 7]]), mask)
    assert np.all(np.isfinite(out.last_hidden_state.data))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_checkpoint_loads_as_float32(tmp_path, dtype):
    hf = _hf()
    sd = {k: v.to(getattr(torch, dtype)) for k, v in hf.state_dict().items()}
    _write(tmp_path, sd, SMALL)
    model = BertModel.from_pretrained(tmp_path)
    assert model.encoder.layer[0].output.dense.weight.dtype == ember.float32
    expected = sd["encoder.layer.0.output.dense.weight"].float().numpy()
    np.testing.assert_array_equal(model.encoder.layer[0].output.dense.weight.data, expected)


def test_truncated_weights_file(saved, tmp_path):
    _, path = saved
    raw = (path / "model.safetensors").read_bytes()
    (tmp_path / "model.safetensors").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "config.json").write_text((path / "config.json").read_text())
    with pytest.raises(SerializationError, match=r"model\.safetensors"):
        BertModel.from_pretrained(tmp_path)


def test_sentence_embedder_on_a_small_bert(saved):
    from ember.models.hub import load_tokenizer
    from ember.models.sentence import SentenceEmbedder, mean_pooling

    hf, path = saved
    assert load_tokenizer(path) is None  # no tokenizer.json in the folder
    embedder = SentenceEmbedder(BertModel.from_pretrained(path, add_pooling_layer=False))
    ids, types, mask = _inputs()
    (e_ids, e_mask, e_types), (t_ids, t_mask, t_types) = _both(ids, types, mask)
    out = embedder(e_ids, e_mask, e_types)
    with torch.no_grad():
        hidden = hf(t_ids, attention_mask=t_mask, token_type_ids=t_types).last_hidden_state
    m = t_mask.unsqueeze(-1).float()
    ref = torch.nn.functional.normalize((hidden * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
    assert_same(out, ref, rtol=1e-4, atol=1e-5)
    pooled = mean_pooling(ember.tensor(hidden.numpy()), e_mask)
    assert_same(pooled, (hidden * m).sum(1) / m.sum(1), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match="needs a tokenizer"):
        embedder.encode(["a sentence"])
