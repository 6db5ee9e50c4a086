"""examples/vae.py: a smoke run, and the PNG grid writer (with and without matplotlib)."""

from __future__ import annotations

import math
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import vae


def test_smoke_run(tmp_path):
    result = vae.main(["--smoke", "--out", str(tmp_path)])
    assert {"train_loss", "test_loss"} <= result.keys()
    # An untrained Bernoulli(0.5) decoder scores 784 log 2 = 543 nats; one epoch beats it.
    assert math.isfinite(result["test_loss"]) and 0 < result["test_loss"] < 784 * math.log(2)
    for name in ("reconstruction_1.png", "sample_1.png", "result.json"):
        assert (tmp_path / name).is_file(), name


def decode_png(data: bytes) -> np.ndarray:
    """Read back the 8-bit greyscale, filter-0 PNG that the fallback writer makes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(
            kind + body
        )
        chunks[kind] = body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 0) and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:]


def test_png_fallback_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    images = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
    vae.save_grid(images, tmp_path / "grid.png", nrow=2, pad=1)
    pixels = decode_png((tmp_path / "grid.png").read_bytes())
    assert pixels.shape == (2 * 5 + 1, 2 * 6 + 1)  # 2 rows, 2 columns of 4x5 images, pad 1
    expected = (images * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(pixels[1:5, 1:6], expected[0])
    np.testing.assert_array_equal(pixels[1:5, 7:12], expected[1])
    np.testing.assert_array_equal(pixels[6:10, 1:6], expected[2])
    assert (pixels[6:10, 7:12] == 0).all() and (pixels[0] == 0).all()


def test_png_with_matplotlib_reads_back(tmp_path):
    import matplotlib.image

    images = np.linspace(0, 1, 2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    vae.save_grid(images, tmp_path / "grid.png", nrow=2, pad=1)
    read = matplotlib.image.imread(tmp_path / "grid.png")  # RGBA floats in [0, 1]
    assert read.shape[:2] == (5, 9)
    np.testing.assert_allclose(read[1:4, 1:4, 0], images[0], atol=1 / 255)
