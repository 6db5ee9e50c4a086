"""GPT-2 against Hugging Face transformers (the oracle) on a small random 2-layer GPT-2."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ember
from ember.models.generation import top_k_top_p_filtering
from ember.models.gpt2 import Conv1D, GPT2Config, GPT2LMHeadModel
from tests.helpers import assert_same, check_module

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")

VOCAB = 101
SMALL = dict(
    vocab_size=VOCAB,
    n_positions=64,
    n_embd=32,
    n_layer=2,
    n_head=4,
    bos_token_id=VOCAB - 1,
    eos_token_id=VOCAB - 1,
    initializer_range=0.2,  # large activations: gelu_new vs exact gelu shows in the logits
)


def _hf(**kw):
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(**{**SMALL, **kw})).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    hf = _hf()
    path = tmp_path_factory.mktemp("gpt2")
    hf.save_pretrained(path, safe_serialization=True)
    return hf, GPT2LMHeadModel.from_pretrained(path), path


def _prompt(batch=2, length=7, seed=0):
    return np.random.default_rng(seed).integers(0, VOCAB - 1, (batch, length))


def test_logits_match(saved):
    hf, model, _ = saved
    assert not model.training
    ids = _prompt()
    out = model(ember.tensor(ids))
    with torch.no_grad():
        ref = hf(torch.tensor(ids))
    assert_same(out.logits, ref.logits, rtol=1e-4, atol=1e-4)
    assert out.logits.dtype == ember.float32


def test_lm_head_is_tied(saved):
    _, model, _ = saved
    assert model.lm_head.weight is model.transformer.wte.weight


@pytest.mark.parametrize("use_cache", [True, False])
def test_greedy_generate_matches(saved, use_cache):
    hf, model, _ = saved
    ids = _prompt()
    with torch.no_grad():
        ref = hf.generate(torch.tensor(ids), max_new_tokens=20, do_sample=False, pad_token_id=0)
    out = model.generate(ember.tensor(ids), max_new_tokens=20, use_cache=use_cache)
    assert out.shape == (2, 27) and out.dtype == ember.int64
    np.testing.assert_array_equal(out.data, ref.numpy())


def test_cache_steps_equal_full_forward(saved):
    hf, model, _ = saved
    ids = _prompt(2, 9)
    out = model(ember.tensor(ids[:, :5]))
    past, steps = out.past_key_values, [out.logits]
    assert len(past) == 2 and tuple(past[0][0].shape) == (2, 4, 5, 8)
    for t in range(5, 9):
        out = model(ember.tensor(ids[:, t : t + 1]), past_key_values=past)
        past = out.past_key_values
        steps.append(out.logits)
    # two new tokens at once on top of a cache (bottom-right causal mask)
    two = model(
        ember.tensor(ids[:, 7:9]), past_key_values=model(ember.tensor(ids[:, :7])).past_key_values
    )
    with torch.no_grad():
        ref = hf(torch.tensor(ids)).logits
    assert_same(ember.cat(steps, dim=1), ref, rtol=1e-4, atol=1e-4)
    assert_same(two.logits, ref[:, 7:9], rtol=1e-4, atol=1e-4)
    assert model(ember.tensor(ids), use_cache=False).past_key_values is None


def test_left_padded_batch_matches(saved):
    hf, model, _ = saved
    ids = _prompt(2, 6)
    mask = np.ones_like(ids)
    mask[0, :2] = 0  # left padding
    ids[0, :2] = 0
    with torch.no_grad():
        ref = hf.generate(
            torch.tensor(ids), attention_mask=torch.tensor(mask), max_new_tokens=8, pad_token_id=0
        )
    out = model.generate(ember.tensor(ids), max_new_tokens=8, attention_mask=ember.tensor(mask))
    np.testing.assert_array_equal(out.data, ref.numpy())


def test_eos_stops_and_pads(saved):
    hf, model, _ = saved
    ids = _prompt()
    free = model.generate(ember.tensor(ids), max_new_tokens=12).data
    eos = int(free[0, 7 + 3])  # the 4th token of row 0 becomes the end of sequence
    with torch.no_grad():
        ref = hf.generate(torch.tensor(ids), max_new_tokens=12, eos_token_id=eos, pad_token_id=5)
    out = model.generate(ember.tensor(ids), max_new_tokens=12, eos_token_id=eos, pad_token_id=5)
    np.testing.assert_array_equal(out.data, ref.numpy())


def test_labels_loss_and_gradients():
    def make(m):
        kw = {**SMALL, "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
        if m is ember:
            return GPT2LMHeadModel(GPT2Config(**kw))
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(**kw))

    ids = _prompt(2, 6, seed=3)
    check_module(
        make,
        inputs=[ids],
        input_grad=False,
        call=lambda layer, x: layer(x, labels=x).loss,
        rtol=1e-3,
        atol=1e-5,
    )


def test_state_dict_layout_is_hugging_faces():
    e_sd = GPT2LMHeadModel(GPT2Config(**SMALL)).state_dict()
    t_sd = {
        k: v
        for k, v in _hf().state_dict().items()
        if not k.endswith((".attn.bias", ".masked_bias"))
    }
    assert list(e_sd) == list(t_sd)
    for k in t_sd:
        assert tuple(e_sd[k].shape) == tuple(t_sd[k].shape), k
    assert tuple(e_sd["transformer.h.0.attn.c_attn.weight"].shape) == (32, 96)  # (in, out)


def test_default_init_follows_hugging_face():
    ember.manual_seed(0)
    model = GPT2LMHeadModel(
        GPT2Config(**{**SMALL, "n_embd": 64, "n_layer": 8, "initializer_range": 0.02})
    )
    c_fc = model.transformer.h[0].mlp.c_fc
    assert abs(c_fc.weight.data.std() - 0.02) < 0.002 and not np.any(c_fc.bias.data)
    proj = model.transformer.h[0].mlp.c_proj.weight.data
    assert abs(proj.std() - 0.02 / np.sqrt(16)) < 0.001


def test_conv1d_module():
    from transformers.pytorch_utils import Conv1D as HFConv1D

    check_module(lambda m: (Conv1D if m is ember else HFConv1D)(12, 8), (3, 5, 8))
    assert repr(Conv1D(12, 8)) == "Conv1D(nf=12, nx=8)"


def _write(path, tensors, config):
    path.mkdir(exist_ok=True)
    safetensors_torch.save_file(
        {k: v.contiguous() for k, v in tensors.items()}, path / "model.safetensors"
    )
    (path / "config.json").write_text(json.dumps(config))


def test_original_checkpoint_names(tmp_path):
    # The original "gpt2" files: no "transformer." prefix, causal-mask buffers, no lm_head.
    hf = _hf()
    sd = {
        k.removeprefix("transformer."): v
        for k, v in hf.state_dict().items()
        if k != "lm_head.weight"
    }
    sd["h.0.attn.bias"] = torch.ones(1, 1, 64, 64)
    sd["h.1.attn.masked_bias"] = torch.tensor(-1e4)
    _write(tmp_path, sd, SMALL)
    model = GPT2LMHeadModel.from_pretrained(tmp_path)
    ids = _prompt()
    with torch.no_grad():
        ref = hf(torch.tensor(ids)).logits
    assert_same(model(ember.tensor(ids)).logits, ref, rtol=1e-4, atol=1e-4)


def test_unmapped_keys_are_listed(tmp_path):
    sd = {k: v for k, v in _hf().state_dict().items() if k != "lm_head.weight"}
    sd["transformer.h.0.attn.q_norm.weight"] = torch.zeros(3)
    _write(tmp_path, sd, SMALL)
    with pytest.raises(KeyError, match=r"map to no parameter.*q_norm\.weight"):
        GPT2LMHeadModel.from_pretrained(tmp_path)


@pytest.mark.parametrize("top_k", [None, 1, 5])
@pytest.mark.parametrize("top_p", [None, 0.3, 0.9])
def test_top_k_top_p_filtering_matches_warpers(top_k, top_p):
    from transformers.generation.logits_process import TopKLogitsWarper, TopPLogitsWarper

    logits = np.random.default_rng(0).standard_normal((4, 30)).astype(np.float32) * 3
    ref = torch.tensor(logits)
    if top_k:
        ref = TopKLogitsWarper(top_k)(None, ref)
    if top_p is not None:
        ref = TopPLogitsWarper(top_p)(None, ref)
    out = top_k_top_p_filtering(ember.tensor(logits), top_k, top_p)
    np.testing.assert_array_equal(np.isinf(out.data), np.isinf(ref.numpy()))
    np.testing.assert_array_equal(out.data[~np.isinf(out.data)], logits[~np.isinf(out.data)])


def test_sampling(saved):
    _, model, _ = saved
    ids = ember.tensor(_prompt())
    greedy = model.generate(ids, max_new_tokens=10)
    ember.manual_seed(1)
    a = model.generate(ids, max_new_tokens=10, do_sample=True, temperature=0.7, top_p=0.9)
    ember.manual_seed(1)
    b = model.generate(ids, max_new_tokens=10, do_sample=True, temperature=0.7, top_p=0.9)
    np.testing.assert_array_equal(a.data, b.data)  # seeded
    one = model.generate(ids, max_new_tokens=10, do_sample=True, top_k=1)
    np.testing.assert_array_equal(one.data, greedy.data)  # top_k=1 is greedy
    g = ember.Generator().manual_seed(3)
    hot = model.generate(ids, max_new_tokens=30, do_sample=True, temperature=5.0, generator=g)
    assert not np.array_equal(hot.data[:, 7:17], greedy.data[:, 7:])  # it does sample
    assert hot.data.min() >= 0 and hot.data.max() < VOCAB


def test_sampled_tokens_stay_in_top_k(saved):
    _, model, _ = saved
    ids = ember.tensor(_prompt(1, 4))
    ember.manual_seed(0)
    out = model.generate(ids, max_new_tokens=6, do_sample=True, top_k=3, use_cache=False)
    for t in range(4, 10):
        logits = model(out[:, :t]).logits[0, -1].data
        assert out.data[0, t] in np.argsort(logits)[-3:]


def test_generate_errors(saved):
    _, model, _ = saved
    ids = ember.tensor(_prompt())
    with pytest.raises(ValueError, match="strictly positive"):
        model.generate(ids, do_sample=True, temperature=0.0)
    with pytest.raises(ValueError, match="top_p"):
        model.generate(ids, do_sample=True, top_p=1.5)
    with pytest.raises(ValueError, match="top_k"):
        model.generate(ids, do_sample=True, top_k=-1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        model.generate(ids, max_new_tokens=-1)
    with pytest.raises(ValueError, match="batch, length"):
        model.generate(ember.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="exceed n_positions 64"):
        model.generate(ids, max_new_tokens=60)
    with pytest.raises(ValueError, match=r"attention_mask shape \(2, 3\)"):
        model(ids, attention_mask=ember.ones(2, 3))
    assert np.array_equal(model.generate(ids, max_new_tokens=0).data, ids.data)


def test_config_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        GPT2Config(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="unsupported activation"):
        GPT2Config(activation_function="nope")


def test_gpt2_model_hidden_states(saved):
    hf, model, _ = saved
    ids = _prompt()
    out = model.transformer(ember.tensor(ids), output_hidden_states=True)
    with torch.no_grad():
        ref = hf.transformer(torch.tensor(ids), output_hidden_states=True)
    assert_same(out.last_hidden_state, ref.last_hidden_state, rtol=1e-4, atol=1e-5)
    assert len(out.hidden_states) == len(ref.hidden_states) == 3
    for e, t in zip(out.hidden_states, ref.hidden_states):
        assert_same(e, t, rtol=1e-4, atol=1e-5)
    assert out.keys() == ["last_hidden_state", "past_key_values", "hidden_states"]
