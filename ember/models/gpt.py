"""A GPT language model, following nanoGPT's ``model.py`` (Karpathy) module for module.

The parameter names (``transformer.wte``, ``transformer.h.0.attn.c_attn``, ``lm_head``, ...)
are nanoGPT's, which are also those of OpenAI's GPT-2 checkpoints (with Conv1D transposed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ember import nn
from ember.autograd.grad_mode import no_grad
from ember.backend.random import Generator
from ember.nn import functional as F
from ember.ops.join import cat
from ember.ops.random import multinomial
from ember.ops.ranges import arange
from ember.ops.sorting import topk
from ember.optim import AdamW
from ember.tensor import Tensor

__all__ = ["GPT", "GPTConfig"]


@dataclass
class GPTConfig:
    """Hyperparameters of a GPT; the defaults are GPT-2 small's (vocab padded to 50304)."""

    block_size: int = 1024
    vocab_size: int = 50304  # GPT-2's 50257 padded up to a multiple of 64
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True  # biases in Linears and LayerNorms, like GPT-2; False is a bit better


class CausalSelfAttention(nn.Module):
    """Multi-head masked self-attention, all heads in one c_attn projection."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.n_embd % config.n_head != 0:
            raise ValueError(
                f"n_embd ({config.n_embd}) must be divisible by n_head ({config.n_head})"
            )
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape  # batch, sequence length, embedding dim (n_embd)
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)  # (B, T, C) each
        q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
        dropout_p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """The position-wise feed-forward block: Linear (4x) -> GELU -> Linear -> Dropout."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """A pre-norm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Model language with a decoder-only transformer, as nanoGPT's ``GPT``.

    ``lm_head.weight`` is tied to ``transformer.wte.weight`` (one Parameter, listed under both
    names in the state_dict). Linear and Embedding weights are N(0, 0.02), biases 0, and the
    residual projections ``c_proj.weight`` N(0, 0.02 / sqrt(2 * n_layer)) (GPT-2 paper).

    Shapes: idx (B, T) int64 with T <= block_size -> (logits, loss): logits (B, T, vocab_size)
    and the mean cross-entropy when targets (B, T) are given (-1 entries ignored); else logits
    (B, 1, vocab_size) for the last position only and loss None.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def get_num_params(self, non_embedding: bool = True) -> int:
        """Return the parameter count; without the position embeddings by default (nanoGPT).

        The token embeddings count, since they are also the (tied) output layer.
        """
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        t = idx.size(1)
        if t > self.config.block_size:
            raise ValueError(
                f"Cannot forward sequence of length {t}, block size is only "
                f"{self.config.block_size}"
            )
        pos = arange(0, t, dtype=idx.dtype, device=idx.device)  # (T,)
        tok_emb = self.transformer.wte(idx)  # (B, T, n_embd)
        pos_emb = self.transformer.wpe(pos)  # (T, n_embd)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)  # (B, T, vocab_size)
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
            return logits, loss
        # Inference: only the last position's logits are needed (list index keeps the dim).
        return self.lm_head(x[:, [-1], :]), None  # (B, 1, vocab_size)

    def crop_block_size(self, block_size: int) -> None:
        """Shrink the context length (e.g. to fine-tune a pretrained model on shorter text)."""
        if block_size > self.config.block_size:
            raise ValueError(f"block_size {block_size} exceeds {self.config.block_size}")
        self.config.block_size = block_size
        wpe = self.transformer.wpe
        wpe.weight = nn.Parameter(wpe.weight.detach()[:block_size].clone())
        wpe.num_embeddings = block_size

    def configure_optimizers(
        self, weight_decay: float, learning_rate: float, betas: tuple[float, float]
    ) -> AdamW:
        """Return AdamW with weight decay on the 2-D+ tensors (matmuls, embeddings) only."""
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        return AdamW(groups, lr=learning_rate, betas=betas)

    @no_grad()
    def generate(
        self,
        idx: Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: Generator | None = None,
    ) -> Tensor:
        """Sample max_new_tokens tokens after idx (B, T); return (B, T + max_new_tokens).

        The context is cropped to the last block_size tokens; logits are divided by
        temperature and, with top_k, restricted to the k most likely tokens before sampling.
        Call ``model.eval()`` first so that dropout is off.
        """
        for _ in range(max_new_tokens):
            block_size = self.config.block_size
            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature  # (B, vocab_size)
            if top_k is not None:
                v, _ = topk(logits, min(top_k, logits.size(-1)))  # (B, k)
                logits[logits < v[:, [-1]]] = -float("inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = cat((idx, idx_next), dim=1)
        return idx
