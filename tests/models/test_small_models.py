"""Small models of the zoo against PyTorch: MLP, VAE, CharRNN and the nanoGPT-style GPT.

Each is written compactly in torch here (nanoGPT's model.py for GPT, examples/vae, the
word_language_model layout for CharRNN); torch's state_dict is copied into Ember's and
outputs and gradients are compared (check_module).
"""

import math

import numpy as np
import pytest
import torch
from torch import nn as tnn
from torch.nn import functional as TF

import ember
from ember import models
from ember.models.gpt import GPTConfig
from tests.helpers import assert_same, check_module, state_dict_to_ember, to_numpy

# -- MLP --------------------------------------------------------------------------------------


def torch_mlp(in_features, hidden, out_features, activation=tnn.ReLU, dropout=0.0):
    layers, width = [], in_features
    for h in hidden:
        layers += [tnn.Linear(width, h), activation(), tnn.Dropout(dropout)]
        width = h
    return tnn.Sequential(*layers, tnn.Linear(width, out_features))


@pytest.mark.parametrize("hidden", [[16, 8], [], [5]])
def test_mlp_matches_torch(hidden):
    check_module(
        lambda m: torch_mlp(6, hidden, 3) if m is torch else models.MLP(6, hidden, 3),
        (4, 6),
    )


def test_mlp_activation_dropout_and_batch_dims():
    make = lambda m: (  # noqa: E731
        torch_mlp(6, [7, 7], 2, tnn.Tanh, 0.5)
        if m is torch
        else models.MLP(6, [7, 7], 2, activation=ember.nn.Tanh, dropout=0.5)
    )
    check_module(make, (2, 3, 6), train=False)  # eval: dropout off, leading batch dims
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32).T[1:]  # (4, 6)
    check_module(make, inputs=[x], train=False)
    model = models.MLP(6, [7, 7], 2, activation=ember.nn.Tanh, dropout=0.5)
    assert list(model.state_dict()) == [
        "0.weight",
        "0.bias",
        "3.weight",
        "3.bias",
        "6.weight",
        "6.bias",
    ]
    assert isinstance(model[1], ember.nn.Tanh) and model[2].p == 0.5


def test_mlp_wrong_size_names_the_layer():
    with pytest.raises(RuntimeError, match=r"^Linear\(in_features=6.*\(4x5 and 6x8\)"):
        models.MLP(6, [8], 2)(ember.randn(4, 5))


# -- VAE --------------------------------------------------------------------------------------


class TorchVAE(tnn.Module):  # examples/vae/main.py
    def __init__(self, in_features=784, hidden=400, latent=20):
        super().__init__()
        self.in_features = in_features
        self.fc1 = tnn.Linear(in_features, hidden)
        self.fc21 = tnn.Linear(hidden, latent)
        self.fc22 = tnn.Linear(hidden, latent)
        self.fc3 = tnn.Linear(latent, hidden)
        self.fc4 = tnn.Linear(hidden, in_features)

    def forward(self, x, eps=None):
        h1 = TF.relu(self.fc1(x.view(-1, self.in_features)))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        z = mu if eps is None else mu + eps * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(TF.relu(self.fc3(z)))), mu, logvar


def torch_vae_loss(recon_x, x, mu, logvar):
    bce = TF.binary_cross_entropy(recon_x, x.view(recon_x.shape), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def test_vae_matches_torch_in_eval():
    make = lambda m: TorchVAE(12, 10, 3) if m is torch else models.VAE(12, 10, 3)  # noqa: E731
    check_module(make, (4, 1, 3, 4), train=False, low=0, high=1)


def test_vae_default_sizes_and_keys():
    model = models.VAE()
    assert list(model.state_dict()) == list(TorchVAE().state_dict())
    assert tuple(model.fc21.weight.shape) == (20, 400) and tuple(model.fc4.weight.shape) == (
        784,
        400,
    )
    recon, mu, logvar = model.eval()(ember.rand(2, 1, 28, 28))
    assert tuple(recon.shape) == (2, 784) and tuple(mu.shape) == tuple(logvar.shape) == (2, 20)


def test_vae_train_mode_reparameterizes():
    torch.manual_seed(0)
    t_model = TorchVAE(12, 10, 3)
    e_model = models.VAE(12, 10, 3)
    e_model.load_state_dict(state_dict_to_ember(t_model.state_dict()))
    x = np.random.default_rng(0).uniform(0, 1, (64, 12)).astype(np.float32)
    ember.manual_seed(0)
    recon, mu, logvar = e_model.train()(ember.tensor(x))
    # Recover the noise Ember drew from z and feed the same eps to the torch reference.
    mu_t, logvar_t = mu.detach(), logvar.detach()
    ember.manual_seed(0)
    eps = to_numpy(ember.randn(64, 3))
    t_recon, _, _ = t_model(torch.tensor(x), eps=torch.tensor(eps))
    assert_same(recon, t_recon, rtol=1e-4, atol=1e-5)
    z = to_numpy(mu_t) + eps * np.exp(0.5 * to_numpy(logvar_t))
    assert not np.allclose(z, to_numpy(mu_t))


def test_vae_loss_function_matches_torch():
    rng = np.random.default_rng(1)
    arrays = [
        rng.uniform(0.05, 0.95, (4, 12)).astype(np.float32),  # recon
        rng.uniform(0, 1, (4, 1, 3, 4)).astype(np.float32),  # x, reshaped inside
        rng.standard_normal((4, 3)).astype(np.float32),  # mu
        rng.standard_normal((4, 3)).astype(np.float32),  # logvar
    ]
    e_in = [ember.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    e_loss, t_loss = models.VAE.loss_function(*e_in), torch_vae_loss(*t_in)
    assert_same(e_loss, t_loss, rtol=1e-5, atol=1e-4)
    e_grads = ember.autograd.grad(e_loss, e_in)
    t_grads = torch.autograd.grad(t_loss, t_in)
    for e, t in zip(e_grads, t_grads):
        assert_same(e, t, rtol=1e-4, atol=1e-5)


# -- CharRNN ----------------------------------------------------------------------------------


class TorchCharRNN(tnn.Module):  # word_language_model's RNNModel layout, batch-first
    def __init__(self, vocab_size, embed_dim, hidden_size, num_layers, cell, dropout):
        super().__init__()
        self.drop = tnn.Dropout(dropout)
        self.encoder = tnn.Embedding(vocab_size, embed_dim)
        rnn = {"lstm": tnn.LSTM, "gru": tnn.GRU}[cell]
        self.rnn = rnn(embed_dim, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.decoder = tnn.Linear(hidden_size, vocab_size)

    def forward(self, input, hidden=None):
        output, hidden = self.rnn(self.drop(self.encoder(input)), hidden)
        return self.decoder(self.drop(output)), hidden


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_char_rnn_matches_torch(cell, num_layers):
    args = (11, 5, 6, num_layers, cell, 0.0)
    make = lambda m: TorchCharRNN(*args) if m is torch else models.CharRNN(*args)  # noqa: E731
    idx = np.random.default_rng(0).integers(0, 11, (3, 7)).astype(np.int64)
    e_model, t_model = check_module(make, inputs=[idx])  # compares logits and the hidden state
    # Carry the hidden state into the next chunk, as truncated BPTT does.
    with torch.no_grad(), ember.no_grad():
        _, e_hidden = e_model(ember.tensor(idx))
        _, t_hidden = t_model(torch.tensor(idx))
        assert_same(
            e_model(ember.tensor(idx[:, ::-1].copy()), e_hidden),
            t_model(torch.tensor(idx[:, ::-1].copy()), t_hidden),
        )


def test_char_rnn_eval_with_dropout_and_init():
    args = (9, 4, 5, 2, "lstm", 0.3)
    make = lambda m: TorchCharRNN(*args) if m is torch else models.CharRNN(*args)  # noqa: E731
    idx = np.random.default_rng(1).integers(0, 9, (2, 6)).astype(np.int64)
    check_module(make, inputs=[idx], train=False)
    ember.manual_seed(0)
    model = models.CharRNN(50, 32, 16)
    w = to_numpy(model.encoder.weight)
    assert w.min() >= -0.1 and w.max() <= 0.1 and abs(w.std() - 0.2 / math.sqrt(12)) < 3e-3
    assert (to_numpy(model.decoder.bias) == 0).all()
    assert model.rnn.dropout == 0.0 and model.rnn.batch_first


def test_char_rnn_errors():
    with pytest.raises(ValueError, match="cell must be 'lstm' or 'gru', got 'rnn'"):
        models.CharRNN(10, 4, 4, cell="rnn")
    with pytest.raises(IndexError, match=r"^Embedding\(10, 4\)"):
        models.CharRNN(10, 4, 4)(ember.tensor([[1, 12]]))


# -- GPT (nanoGPT) ----------------------------------------------------------------------------


class TorchCausalSelfAttention(tnn.Module):  # nanoGPT model.py, verbatim in substance
    def __init__(self, config):
        super().__init__()
        self.c_attn = tnn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = tnn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = tnn.Dropout(config.dropout)
        self.resid_dropout = tnn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        p = self.dropout if self.training else 0
        y = TF.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class TorchMLP(tnn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = tnn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = tnn.GELU()
        self.c_proj = tnn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = tnn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class TorchBlock(tnn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = TorchCausalSelfAttention(config)
        self.ln_2 = tnn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = TorchMLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchGPT(tnn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = tnn.ModuleDict(
            dict(
                wte=tnn.Embedding(config.vocab_size, config.n_embd),
                wpe=tnn.Embedding(config.block_size, config.n_embd),
                drop=tnn.Dropout(config.dropout),
                h=tnn.ModuleList([TorchBlock(config) for _ in range(config.n_layer)]),
                ln_f=tnn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = tnn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx, targets=None):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = TF.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
            return logits, loss
        return self.lm_head(x[:, [-1], :]), None

    @torch.no_grad()
    def generate_greedy(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            idx_cond = (
                idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size :]
            )
            logits, _ = self(idx_cond)
            idx = torch.cat((idx, logits[:, -1, :].argmax(-1, keepdim=True)), dim=1)
        return idx


SMALL = dict(block_size=8, vocab_size=13, n_layer=2, n_head=2, n_embd=8, dropout=0.0)


def make_gpt(m, **overrides):
    config = GPTConfig(**{**SMALL, **overrides})
    return TorchGPT(config) if m is torch else models.GPT(config)


def gpt_batch(seed=0, B=2, T=8, vocab=13):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, vocab, (B, T)).astype(np.int64)
    targets = rng.integers(0, vocab, (B, T)).astype(np.int64)
    targets[0, :2] = -1  # ignored positions
    return idx, targets


@pytest.mark.parametrize("bias", [True, False])
def test_gpt_logits_and_loss_match_torch(bias):
    idx, targets = gpt_batch()
    # Logits for every position, gradients through a random upstream gradient ...
    check_module(lambda m: make_gpt(m, bias=bias), inputs=[idx, targets], rtol=1e-4, atol=1e-5)
    # ... and the loss itself, with every parameter's gradient (the tied wte/lm_head included).
    e_model, _ = check_module(
        lambda m: make_gpt(m, bias=bias),
        inputs=[idx, targets],
        call=lambda model, i, t: model(i, t)[1],
        rtol=1e-4,
        atol=1e-5,
    )
    assert next(iter(e_model.state_dict())) == "transformer.wte.weight"
    assert "lm_head.weight" in e_model.state_dict()


def test_gpt_inference_returns_last_position_only():
    idx, _ = gpt_batch(T=5)
    e_model, _ = check_module(make_gpt, inputs=[idx], train=False)
    logits, loss = e_model(ember.tensor(idx))
    assert tuple(logits.shape) == (2, 1, 13) and loss is None


def test_gpt_weight_tying_and_param_count():
    e_model, t_model = make_gpt(ember), make_gpt(torch)
    assert e_model.lm_head.weight is e_model.transformer.wte.weight
    n_torch = sum(p.numel() for p in t_model.parameters())
    assert e_model.get_num_params(non_embedding=False) == n_torch
    assert e_model.get_num_params() == n_torch - 8 * 8
    # nanoGPT's GPT-2 small count (non-embedding, block 1024, vocab 50257), by its formula:
    # per layer 12 n^2 + 13 n, plus wte (V n) and ln_f (2 n).
    n, V, L = 768, 50257, 12
    assert L * (12 * n * n + 13 * n) + V * n + 2 * n == 123_653_376


def test_gpt_param_count_matches_torch_medium():
    cfg = dict(block_size=64, vocab_size=101, n_layer=3, n_head=4, n_embd=32, dropout=0.1)
    e_model, t_model = make_gpt(ember, **cfg), make_gpt(torch, **cfg)
    assert e_model.get_num_params(False) == sum(p.numel() for p in t_model.parameters())
    n, L = 32, 3
    assert e_model.get_num_params() == L * (12 * n * n + 13 * n) + 101 * n + 2 * n


def test_gpt_init_statistics():
    ember.manual_seed(0)
    config = GPTConfig(block_size=64, vocab_size=256, n_layer=4, n_head=4, n_embd=128)
    model = models.GPT(config)
    std = lambda p: to_numpy(p).std()  # noqa: E731
    assert abs(std(model.transformer.wte.weight) - 0.02) < 1e-3
    assert abs(std(model.transformer.h[0].attn.c_attn.weight) - 0.02) < 1e-3
    scaled = 0.02 / math.sqrt(2 * config.n_layer)
    assert abs(std(model.transformer.h[1].attn.c_proj.weight) - scaled) < 5e-4
    assert abs(std(model.transformer.h[2].mlp.c_proj.weight) - scaled) < 5e-4
    assert (to_numpy(model.transformer.h[0].mlp.c_fc.bias) == 0).all()
    assert (to_numpy(model.transformer.ln_f.weight) == 1).all()


def test_gpt_greedy_generation_matches_torch():
    torch.manual_seed(0)
    t_model = make_gpt(torch).eval()
    e_model = make_gpt(ember)
    e_model.load_state_dict(state_dict_to_ember(t_model.state_dict()))
    e_model.eval()
    idx = np.random.default_rng(2).integers(0, 13, (2, 3)).astype(np.int64)
    # 10 new tokens > block_size 8: the context is cropped to the last 8 tokens.
    expected = t_model.generate_greedy(torch.tensor(idx), 10)
    out = e_model.generate(ember.tensor(idx), 10, temperature=0.7, top_k=1)
    assert tuple(out.shape) == (2, 13) and out.dtype == ember.int64
    np.testing.assert_array_equal(to_numpy(out), expected.numpy())


def test_gpt_sampling_respects_top_k():
    model = make_gpt(ember).eval()
    idx = ember.tensor([[1, 2, 3]])
    gen = ember.Generator().manual_seed(0)
    out = model.generate(idx, 1, temperature=2.0, top_k=3, generator=gen)
    with ember.no_grad():
        logits, _ = model(idx)
    top3 = np.argsort(to_numpy(logits)[0, -1])[-3:]
    assert int(out[0, -1].item()) in top3
    np.testing.assert_array_equal(to_numpy(out[:, :3]), [[1, 2, 3]])
    assert not out.requires_grad


def test_gpt_configure_optimizers_matches_torch_adamw():
    idx, targets = gpt_batch()
    e_model, t_model = check_module(
        make_gpt, inputs=[idx, targets], call=lambda m, i, t: m(i, t)[1]
    )
    e_opt = e_model.configure_optimizers(0.1, 1e-2, (0.9, 0.95))
    decay = [p for p in t_model.parameters() if p.dim() >= 2]
    no_decay = [p for p in t_model.parameters() if p.dim() < 2]
    assert [len(g["params"]) for g in e_opt.param_groups] == [len(decay), len(no_decay)]
    t_opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-2,
        betas=(0.9, 0.95),
    )
    e_opt.step()
    t_opt.step()
    e_params = dict(e_model.named_parameters())
    n = SMALL["n_embd"]
    for name, p in t_model.named_parameters():
        e, t = to_numpy(e_params[name]), p.detach().numpy()
        if name.endswith("c_attn.bias"):
            # The key bias has a zero true gradient (softmax ignores a per-query constant),
            # so Adam's first step divides float noise by itself: compare q and v parts only.
            e, t = np.delete(e, np.s_[n : 2 * n]), np.delete(t, np.s_[n : 2 * n])
        np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-5, err_msg=name)


def test_gpt_dropout_in_train_mode_only():
    model = make_gpt(ember, dropout=0.5)
    idx, targets = gpt_batch()
    x, t = ember.tensor(idx), ember.tensor(targets)
    ember.manual_seed(0)
    loss_a = model.train()(x, t)[1]
    loss_b = model(x, t)[1]
    assert loss_a.item() != loss_b.item()
    model.eval()
    assert model(x, t)[1].item() == model(x, t)[1].item()


def test_gpt_crop_block_size():
    model = make_gpt(ember)
    model.crop_block_size(4)
    assert tuple(model.transformer.wpe.weight.shape) == (4, 8) and model.config.block_size == 4
    with pytest.raises(
        ValueError, match="Cannot forward sequence of length 5, block size is only 4"
    ):
        model(ember.tensor([[1, 2, 3, 4, 5]]))


def test_gpt_errors():
    with pytest.raises(ValueError, match=r"n_embd \(10\) must be divisible by n_head \(4\)"):
        models.GPT(GPTConfig(n_layer=1, n_head=4, n_embd=10, vocab_size=5, block_size=4))
    model = make_gpt(ember)
    with pytest.raises(
        ValueError, match=r"^GPT.*Cannot forward sequence of length 9, block size is only 8"
    ):
        model(ember.zeros(1, 9, dtype=ember.int64))
    with pytest.raises(ValueError, match="exceeds 8"):
        model.crop_block_size(16)
