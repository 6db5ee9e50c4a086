"""examples/dcgan.py: a smoke run writes sample grids and the two saved nets reload."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import dcgan


def test_smoke_run(tmp_path):
    result = dcgan.main(["--smoke", "--out", str(tmp_path)])
    assert {"loss_D", "loss_G", "D_x", "D_G_z"} <= result.keys()
    assert all(math.isfinite(v) for v in result.values())
    assert 0 < result["D_x"] < 1 and 0 < result["D_G_z"] < 1
    for name in ("real_samples.png", "fake_samples_epoch_000.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    netG = ember.models.DCGANGenerator(nz=100, ngf=8, nc=1, image_size=32)
    netG.load_state_dict(ember.load(tmp_path / "netG.pt"))
    netG.eval()
    out = netG(ember.randn(2, 100, 1, 1))
    assert out.shape == (2, 1, 32, 32) and out.abs().max().item() <= 1
