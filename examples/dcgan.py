"""Train a DCGAN on MNIST digits: PyTorch's ``examples/dcgan`` at 32x32.

Models: ``ember.models.DCGANGenerator`` (noise (N, nz, 1, 1) -> transposed convs -> Tanh image)
and ``ember.models.DCGANDiscriminator`` (strided convs -> Sigmoid probability), both with
``image_size=32`` and one channel. Data: the 5,000 MNIST digits of
``ember.datasets.load_mnist_5k()``, zero-padded from 28x28 to 32x32 and scaled to [-1, 1].
Training is the example's: binary cross-entropy, Adam(lr 2e-4, betas (0.5, 0.999)) for both
nets; D steps on a real and a fake batch, then G steps to make D call its fakes real. Figures
of merit: the last epoch's mean D and G losses and D(x), D(G(z)) (a balanced game keeps
D(G(z)) away from 0); the real check is ``fake_samples_epoch_<e>.png``, 64 samples from a fixed
noise batch (``real_samples.png`` shows the data).

    python examples/dcgan.py
"""

from __future__ import annotations

import argparse
import json
import struct
import zlib
from pathlib import Path

import numpy as np

import ember
from ember import nn
from ember.datasets import load_mnist_5k
from ember.models import DCGANDiscriminator, DCGANGenerator


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


def main(argv: list[str] | None = None) -> dict:
    """Train the GAN, write sample grids each epoch; return the last epoch's mean losses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--nz", type=int, default=100, help="size of the latent z vector")
    parser.add_argument("--ngf", type=int, default=64)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--seed", type=int, default=999)
    parser.add_argument("--log-interval", type=int, default=20, help="batches between logs")
    parser.add_argument("--out", default="runs/dcgan")
    parser.add_argument("--smoke", action="store_true", help="3 batches with small nets")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ember.manual_seed(args.seed)
    images = load_mnist_5k().images.numpy().astype(np.float32) / 127.5 - 1.0  # [-1, 1]
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)), constant_values=-1.0)[:, None]
    if args.smoke:
        args.epochs, args.ngf, args.ndf, images = 1, 8, 8, images[: 3 * args.batch_size]
    save_grid(images[:64, 0] * 0.5 + 0.5, out / "real_samples.png")
    rng = np.random.default_rng(args.seed)

    netG = DCGANGenerator(nz=args.nz, ngf=args.ngf, nc=1, image_size=32)
    netD = DCGANDiscriminator(ndf=args.ndf, nc=1, image_size=32)
    criterion = nn.BCELoss()
    fixed_noise = ember.randn(64, args.nz, 1, 1)
    real_label, fake_label = 1.0, 0.0
    optimizerD = ember.optim.Adam(netD.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optimizerG = ember.optim.Adam(netG.parameters(), lr=args.lr, betas=(args.beta1, 0.999))

    for epoch in range(args.epochs):
        sums = np.zeros(4)  # errD, errG, D(x), D(G(z)) summed over the epoch's batches
        order = rng.permutation(len(images))
        num_batches = -(-len(images) // args.batch_size)
        for i, start in enumerate(range(0, len(images), args.batch_size)):
            # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real = ember.from_numpy(images[order[start : start + args.batch_size]])
            b = real.shape[0]
            label = ember.full((b,), real_label)
            output = netD(real)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()

            noise = ember.randn(b, args.nz, 1, 1)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach())
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()
            errD = errD_real.item() + errD_fake.item()
            optimizerD.step()

            # (2) Update G: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)  # fake labels are real for the generator cost
            output = netD(fake)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()
            optimizerG.step()

            sums += (errD, errG.item(), D_x, D_G_z1)
            if i % args.log_interval == 0:
                print(
                    f"[{epoch}/{args.epochs}][{i}/{num_batches}] Loss_D: {errD:.4f} "
                    f"Loss_G: {errG.item():.4f} D(x): {D_x:.4f} "
                    f"D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}"
                )
        with ember.no_grad():  # batch statistics, as the example (netG stays in train mode)
            fake = netG(fixed_noise).numpy()  # (64, 1, 32, 32)
        save_grid(fake[:, 0] * 0.5 + 0.5, out / f"fake_samples_epoch_{epoch:03d}.png")
        means = sums / num_batches
        print(f"===> Epoch {epoch}: Loss_D {means[0]:.4f} Loss_G {means[1]:.4f}")

    ember.save(netG.state_dict(), out / "netG.pt")
    ember.save(netD.state_dict(), out / "netD.pt")
    result = {"loss_D": means[0], "loss_G": means[1], "D_x": means[2], "D_G_z": means[3]}
    result = {k: float(v) for k, v in result.items()}
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
