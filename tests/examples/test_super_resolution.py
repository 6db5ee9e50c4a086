"""examples/super_resolution.py: a smoke run, and PSNR / bicubic baseline checked with torch."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import super_resolution as sr


def test_smoke_run(tmp_path):
    result = sr.main(["--smoke", "--out", str(tmp_path)])
    assert {"psnr", "bicubic_psnr", "train_loss", "psnr_gain"} <= result.keys()
    assert all(math.isfinite(v) for v in result.values())
    assert 15 < result["bicubic_psnr"] < 40  # 2x bicubic on MNIST digits
    assert (tmp_path / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = ember.models.ESPCN(upscale_factor=2)
    model.load_state_dict(ember.load(tmp_path / "model_r2.pt"))
    assert model(ember.rand(1, 1, 14, 14)).shape == (1, 1, 28, 28)


def test_downsample_and_psnr_match_torch():
    rng = np.random.default_rng(0)
    hr = rng.random((3, 1, 28, 28)).astype(np.float32)
    lr = sr.downsample(ember.tensor(hr), 2)
    lr_t = torch.nn.functional.interpolate(torch.tensor(hr), scale_factor=0.5, mode="area")
    np.testing.assert_allclose(lr.numpy(), lr_t.numpy(), rtol=1e-6, atol=1e-6)
    up_t = torch.nn.functional.interpolate(lr_t, scale_factor=2, mode="bicubic")
    mse = ((up_t.clamp(0, 1) - torch.tensor(hr)) ** 2).mean(dim=(1, 2, 3))
    expected = (10 * torch.log10(1 / mse)).mean().item()
    up = ember.nn.functional.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)
    assert math.isclose(sr.psnr(up, ember.tensor(hr)), expected, rel_tol=1e-5)
