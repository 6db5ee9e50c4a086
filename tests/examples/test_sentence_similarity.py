"""examples/sentence_similarity.py: a smoke run with all-MiniLM-L6-v2, or a graceful skip."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import sentence_similarity as ss


def test_smoke_embeds_and_finds_paraphrases(tmp_path):
    pytest.importorskip("tokenizers")
    result = ss.main(["--smoke", "--out", str(tmp_path)])
    if "skipped" in result:
        pytest.skip(f"all-MiniLM-L6-v2 not available: {result['skipped']}")
    assert result["dim"] == 384
    assert result["paraphrase_accuracy"] == 1.0  # the 4 smoke sentences are 2 clear pairs
    saved = ember.load(tmp_path / "embeddings.safetensors")
    assert saved["sentences"] == ss.SENTENCES[:4] and tuple(saved["embeddings"].shape) == (4, 384)


def test_smoke_skips_without_a_model(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_MINILM_DIR", str(tmp_path / "nowhere"))
    result = ss.main(["--smoke", "--out", str(tmp_path)])
    assert "nowhere" in result["skipped"]
    assert not (tmp_path / "embeddings.safetensors").exists()


def test_no_download_when_forbidden(tmp_path, monkeypatch):
    monkeypatch.delenv("EMBER_MINILM_DIR", raising=False)
    monkeypatch.setenv("EMBER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EMBER_NO_DOWNLOAD", "1")
    folder, reason = ss.find_model_dir()
    if folder is not None:  # installed as a package: found without the cache
        assert ss._is_model(folder)
    else:
        assert reason == "EMBER_NO_DOWNLOAD is set"
