"""Upscale digit images 2x with ESPCN (sub-pixel convolution): PyTorch's ``super_resolution``.

Model: ``ember.models.ESPCN(upscale_factor)``: four convolutions, then ``PixelShuffle`` turns
r^2 channels into an r-times larger image. Data: the 5,000 MNIST digits of
``ember.datasets.load_mnist_5k()`` (pixels / 255, shuffled with seed 0: 4,000 train, 1,000
held out); the 28x28 images are the targets, their area-downsampled (28 / r)x(28 / r) versions
the inputs. Trained with Adam (lr 0.01 as the example) on the MSE. Figure of merit: the mean
PSNR (dB) on the held-out images, for ESPCN and for bicubic upsampling of the same inputs
(``F.interpolate(mode="bicubic")``): the net should beat bicubic. Writes ``samples.png``: rows of
low-resolution input (nearest-upscaled), bicubic, ESPCN and the original.

    python examples/super_resolution.py
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from pathlib import Path

import numpy as np

import ember
from ember.datasets import load_mnist_5k
from ember.models import ESPCN
from ember.nn import functional as F


def save_grid(images: np.ndarray, path: Path, nrow: int = 8, pad: int = 2) -> None:
    """Write grey images (N, H, W) in [0, 1] as one PNG grid, like torchvision's save_image."""
    n, h, w = images.shape
    grid = np.zeros((-(-n // nrow) * (h + pad) + pad, nrow * (w + pad) + pad), np.float32)
    for k, image in enumerate(images):
        top, left = pad + (k // nrow) * (h + pad), pad + (k % nrow) * (w + pad)
        grid[top : top + h, left : left + w] = image
    pixels = (np.clip(grid, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.imsave(path, pixels, cmap="gray", vmin=0, vmax=255)
    except ImportError:  # a minimal 8-bit greyscale PNG: signature, IHDR, IDAT, IEND
        rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter 0 per row

        def chunk(kind: bytes, body: bytes) -> bytes:
            crc = struct.pack(">I", zlib.crc32(kind + body))
            return struct.pack(">I", len(body)) + kind + body + crc

        header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, 0, 0, 0, 0)
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        path.write_bytes(png + chunk(b"IEND", b""))


def downsample(hr: ember.Tensor, r: int) -> ember.Tensor:
    """Average r x r blocks: (N, 1, H, W) -> (N, 1, H / r, W / r)."""
    return F.interpolate(hr, scale_factor=1.0 / r, mode="area")


def psnr(sr: ember.Tensor, hr: ember.Tensor) -> float:
    """Mean PSNR in dB over the images of a batch, pixel range [0, 1]."""
    mse = ((sr.clamp(0.0, 1.0) - hr) ** 2).mean(dim=(1, 2, 3)).numpy()  # (N,)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-10))))


def main(argv: list[str] | None = None) -> dict:
    """Train ESPCN, compare it with bicubic upsampling on held-out digits; return both PSNRs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upscale-factor", type=int, default=2, choices=(2, 4))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=250)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--out", default="runs/super_resolution")
    parser.add_argument("--smoke", action="store_true", help="1 epoch on 128 images")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    r = args.upscale_factor

    ember.manual_seed(args.seed)
    images = load_mnist_5k().images.numpy().astype(np.float32) / 255.0
    images = images[np.random.default_rng(0).permutation(len(images)), None]  # (N, 1, 28, 28)
    train, test = images[:4000], images[4000:]
    if args.smoke:
        args.epochs, train, test = 1, train[:128], test[:64]

    model = ESPCN(upscale_factor=r)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    criterion = ember.nn.MSELoss()
    rng = np.random.default_rng(args.seed)

    def evaluate() -> tuple[float, float]:
        model.eval()
        net = bicubic = 0.0
        with ember.no_grad():
            for start in range(0, len(test), args.test_batch_size):
                hr = ember.from_numpy(test[start : start + args.test_batch_size])
                lr = downsample(hr, r)
                up = F.interpolate(lr, scale_factor=r, mode="bicubic", align_corners=False)
                net += psnr(model(lr), hr) * len(hr)
                bicubic += psnr(up, hr) * len(hr)
        return net / len(test), bicubic / len(test)

    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        order = rng.permutation(len(train))
        for start in range(0, len(train), args.batch_size):
            hr = ember.from_numpy(train[order[start : start + args.batch_size]])
            optimizer.zero_grad()
            loss = criterion(model(downsample(hr, r)), hr)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(hr)
        net_psnr, bicubic_psnr = evaluate()
        print(
            f"===> Epoch {epoch} Complete: Avg. Loss: {total / len(train):.4f}"
            f"  test PSNR: {net_psnr:.2f} dB (bicubic {bicubic_psnr:.2f} dB)"
        )

    with ember.no_grad():  # rows: input (nearest), bicubic, ESPCN, original
        hr = ember.from_numpy(test[:8])
        lr = downsample(hr, r)
        rows = [
            F.interpolate(lr, scale_factor=r, mode="nearest"),
            F.interpolate(lr, scale_factor=r, mode="bicubic", align_corners=False),
            model(lr),
            hr,
        ]
        save_grid(
            np.concatenate([x.numpy()[:, 0] for x in rows]), out / "samples.png", nrow=len(hr)
        )
    ember.save(model.state_dict(), out / f"model_r{r}.pt")
    result = {
        "psnr": net_psnr,
        "bicubic_psnr": bicubic_psnr,
        "train_loss": total / len(train),
        "psnr_gain": net_psnr - bicubic_psnr,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
