"""GPT training step (forward + cross-entropy + backward): Ember vs PyTorch side by side.

Usage: ``python benchmarks/nn_gpt.py [--threads N] [--quick] [--wall] [--profile]``

The model is a stack of 4 pre-norm GPT blocks (n_embd 256, 4 heads, context 128, batch 16):
LayerNorm -> causal self-attention (qkv Linear, F.scaled_dot_product_attention(is_causal=True),
proj Linear) -> LayerNorm -> MLP (Linear 4x, GELU, Linear), then a final LayerNorm and a linear
head over a 256-token vocabulary. One ``build(m)`` serves ``m = ember`` and ``m = torch``; both
get the same weights and tokens. Timing is ``benchmarks/overhead.py``'s ``compare`` (medians of
~0.1 s loops, the libraries taking turns, CPU time unless ``--wall``). ``--profile`` prints
where Ember's step spends its time (cProfile, top functions by own time).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import compare, machine  # the sibling script, not a package

N_LAYER, N_EMBD, N_HEAD, BLOCK, BATCH, VOCAB = 4, 256, 4, 128, 16, 256


def _gpt_classes(m: Any) -> tuple[type, type]:
    nn, F = m.nn, m.nn.functional

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(N_EMBD)
            self.c_attn = nn.Linear(N_EMBD, 3 * N_EMBD)
            self.c_proj = nn.Linear(N_EMBD, N_EMBD)
            self.ln_2 = nn.LayerNorm(N_EMBD)
            self.c_fc = nn.Linear(N_EMBD, 4 * N_EMBD)
            self.gelu = nn.GELU()
            self.mlp_proj = nn.Linear(4 * N_EMBD, N_EMBD)

        def attn(self, x: Any) -> Any:
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(N_EMBD, dim=2)
            # (B, T, C) -> (B, nh, T, hs)
            q, k, v = (t.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp_proj(self.gelu(self.c_fc(self.ln_2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(VOCAB, N_EMBD)
            self.wpe = nn.Embedding(BLOCK, N_EMBD)
            self.h = nn.ModuleList([Block() for _ in range(N_LAYER)])
            self.ln_f = nn.LayerNorm(N_EMBD)
            self.lm_head = nn.Linear(N_EMBD, VOCAB, bias=False)

        def forward(self, idx: Any, targets: Any) -> Any:
            x = self.wte(idx) + self.wpe(m.arange(idx.shape[1]))
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    return Block, GPT


def build(m: Any) -> Callable[[], None]:
    """The GPT, its weights and a batch in library m; returns one training step."""
    _, GPT = _gpt_classes(m)
    model = GPT()
    rng = np.random.default_rng(0)
    state = {
        k: m.tensor(rng.normal(0, 0.02, tuple(v.shape)).astype(np.float32))
        for k, v in model.state_dict().items()
    }
    model.load_state_dict(state)
    idx = m.tensor(rng.integers(0, VOCAB, (BATCH, BLOCK)))
    targets = m.tensor(rng.integers(0, VOCAB, (BATCH, BLOCK)))

    def step() -> None:
        model.zero_grad()
        model(idx, targets).backward()

    return step


def profile(top: int = 25) -> None:
    import cProfile
    import pstats

    step = build(ember)
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        step()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    parser.add_argument("--profile", action="store_true", help="profile Ember's step instead")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    if args.profile:
        profile()
        return
    repeat = 3 if args.quick else 9
    timer = time.perf_counter if args.wall else time.process_time
    cases = {
        "ember": ("step()", {"step": build(ember)}),
        "torch": ("step()", {"step": build(torch)}),
    }
    seconds = compare(cases, repeat, timer=timer)
    e, t = seconds["ember"] * 1e3, seconds["torch"] * 1e3
    clock = "wall" if args.wall else "CPU"
    print(
        machine(args.threads)
        + f"\n\nGPT training step ({N_LAYER} blocks, n_embd {N_EMBD}, {N_HEAD} heads, context "
        f"{BLOCK}, batch {BATCH}): milliseconds of {clock} time, medians of {repeat}.\n\n"
        "| workload | Ember (ms) | PyTorch (ms) | Ember/PyTorch |\n| --- | ---: | ---: | ---: |\n"
        f"| GPT step fwd+bwd | {e:.1f} | {t:.1f} | {e / t:.2f}x |"
    )


if __name__ == "__main__":
    main()
