"""Train a tiny character-level GPT on Shakespeare, nanoGPT's "shakespeare_char" in miniature.

Data: the three plays shipped with Ember (``ember.datasets.shakespeare()``, about 318k
characters, 74 distinct ones); the first 90% trains, the last 10% validates. Model:
``ember.models.GPT`` (4 layers, 4 heads, n_embd 128, a context of 64 characters, about 0.8M
parameters), AdamW with a cosine learning-rate schedule and gradient clipping. Figure of merit:
the validation cross-entropy (nats per character; a uniform guess gives ln 74 = 4.30). The
model and its vocabulary are saved into ``--out`` (``model.safetensors``, ``vocab.json``) and a
few lines are sampled at the end::

    python examples/char_gpt.py --iters 300
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import ember
from ember.datasets import Vocabulary, shakespeare, tokenize
from ember.models import GPT, GPTConfig


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iters", type=int, default=300, help="training iterations")
    p.add_argument("--max-seconds", type=float, default=None, help="stop training after this")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block-size", type=int, default=64, help="context length in characters")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--eval-iters", type=int, default=20, help="batches per validation estimate")
    p.add_argument("--samples", type=int, default=300, help="characters to sample at the end")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out", default="runs/char_gpt")
    p.add_argument("--smoke", action="store_true", help="a few steps of a smaller model")
    args = p.parse_args(argv)
    if args.smoke:
        args.iters, args.batch_size, args.block_size = 5, 8, 32
        args.n_layer, args.n_embd, args.eval_iters, args.samples = 2, 64, 2, 40
    return args


def get_batch(data: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator):
    """Random (x, y) blocks of characters, y shifted by one, as int64 tensors (B, T)."""
    ix = rng.integers(0, len(data) - block_size - 1, batch_size)
    x = np.stack([data[i : i + block_size] for i in ix])
    y = np.stack([data[i + 1 : i + 1 + block_size] for i in ix])
    return ember.from_numpy(x), ember.from_numpy(y)


@ember.no_grad()
def estimate_loss(model: GPT, data: np.ndarray, args: argparse.Namespace, seed: int) -> float:
    """Mean loss over eval_iters batches drawn with a fixed seed (the same batches each time)."""
    model.eval()
    rng = np.random.default_rng(seed)
    losses = [
        model(*get_batch(data, args.batch_size, args.block_size, rng))[1].item()
        for _ in range(args.eval_iters)
    ]
    model.train()
    return float(np.mean(losses))


def lr_at(it: int, args: argparse.Namespace) -> float:
    """Linear warmup over the first 5% of iterations, then cosine decay to lr / 10."""
    warmup = max(1, args.iters // 20)
    if it < warmup:
        return args.lr * (it + 1) / warmup
    ratio = (it - warmup) / max(1, args.iters - warmup)
    return args.lr / 10 + 0.5 * (args.lr - args.lr / 10) * (1 + math.cos(math.pi * ratio))


def sample(model: GPT, vocab: Vocabulary, n_chars: int, prompt: str = "\n", seed: int = 0) -> str:
    """Sample n_chars characters after prompt (temperature 0.8, top-k 20)."""
    model.eval()
    idx = ember.tensor([vocab.encode(prompt)], dtype=ember.int64)
    gen = ember.Generator().manual_seed(seed)
    out = model.generate(idx, n_chars, temperature=0.8, top_k=20, generator=gen)
    return "".join(vocab.decode(out[0]))[len(prompt) :]


def save_model(model: GPT, vocab: Vocabulary, out: Path) -> None:
    """Write model.safetensors (weights), config.json and vocab.json into out."""
    out.mkdir(parents=True, exist_ok=True)
    ember.save(model.state_dict(), out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(vars(model.config), indent=1) + "\n")
    vocab.save(out / "vocab.json")


def load_model(out: str | Path) -> tuple[GPT, Vocabulary]:
    """Rebuild the model saved by save_model from its folder."""
    out = Path(out)
    model = GPT(GPTConfig(**json.loads((out / "config.json").read_text())))
    model.load_state_dict(ember.load(out / "model.safetensors"))
    return model.eval(), Vocabulary.load(out / "vocab.json")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text = shakespeare()
    vocab = Vocabulary.build(tokenize(text, "char"), unk_token=None, sort_by="alphabet")
    data = np.array(vocab.encode(text), dtype=np.int64)
    n = int(0.9 * len(data))
    train_data, val_data = data[:n], data[n:]

    config = GPTConfig(
        block_size=args.block_size,
        vocab_size=len(vocab),
        n_layer=args.n_layer,
        n_head=args.n_head,
        n_embd=args.n_embd,
        dropout=args.dropout,
    )
    model = GPT(config)
    print(f"{len(vocab)} characters, {model.get_num_params() / 1e6:.2f}M parameters")
    optimizer = model.configure_optimizers(0.1, args.lr, (0.9, 0.99))

    start = time.perf_counter()
    for it in range(args.iters):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(it, args)
        x, y = get_batch(train_data, args.batch_size, args.block_size, rng)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        elapsed = time.perf_counter() - start
        out_of_time = args.max_seconds is not None and elapsed > args.max_seconds
        if it % 50 == 0 or it == args.iters - 1 or out_of_time:
            print(f"iter {it:5d}  loss {loss.item():.4f}  {elapsed:.1f}s")
        if out_of_time:
            break
    train_seconds = time.perf_counter() - start

    val_loss = estimate_loss(model, val_data, args, seed=0)
    print(f"validation loss {val_loss:.4f} nats/char after {it + 1} iterations")
    out = Path(args.out)
    save_model(model, vocab, out)
    text_out = sample(model, vocab, args.samples)
    print("--- sample ---")
    print(text_out)
    return {
        "val_loss": val_loss,
        "train_loss": loss.item(),
        "iters": it + 1,
        "train_seconds": train_seconds,
        "sample": text_out,
        "model_dir": str(out),
    }


def sample_from_pretrained_or_quick(out_dir: str | Path, n_lines: int = 3) -> str:
    """Return n_lines sampled lines from the model saved in out_dir, training one if there is none.

    Used by the demo: a model from a full run (``python examples/char_gpt.py --out DIR``) gives
    better lines; without one a 2-layer model trains for 500 steps (at most 25 s) and is saved
    into out_dir.
    """
    out_dir = Path(out_dir)
    if (out_dir / "model.safetensors").is_file() and (out_dir / "vocab.json").is_file():
        model, vocab = load_model(out_dir)
    else:
        print(f"no model in {out_dir}: training a small one for up to 25 s")
        quick = ["--iters", "500", "--max-seconds", "25", "--n-layer", "2", "--batch-size", "16"]
        quick += ["--eval-iters", "4", "--samples", "0"]
        main([*quick, "--out", str(out_dir)])
        model, vocab = load_model(out_dir)
    text = sample(model, vocab, 80 * n_lines)
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[:n_lines])


if __name__ == "__main__":
    main()
