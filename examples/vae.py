"""Train a variational autoencoder on MNIST digits: PyTorch's ``examples/vae``.

Model: ``ember.models.VAE`` (784 -> 400 -> 2 x 20 latent -> 400 -> 784, Bernoulli decoder),
trained with Adam (lr 1e-3) on the negative ELBO (binary cross-entropy + KL). Data: the 5,000
MNIST digits of ``ember.datasets.load_mnist_5k()`` (pixels / 255), shuffled with seed 0: 4,000
train, 1,000 test (the split of ``examples/mnist.py``). Figure of merit: the test loss per
sample (negative ELBO in nats, posterior mean as the code: lower is better). Writes
``reconstruction_<epoch>.png`` (test digits above their reconstructions) and
``sample_<epoch>.png`` (64 decoded N(0, I) codes).

    python examples/vae.py
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
from ember.models import VAE


def save_grid(images: np.ndarray, path: Path, nrow: int = 8, pad: int = 2) -> None:
    """Write grey images (N, H, W) in [0, 1] as one PNG grid, like torchvision's save_image."""
    n, h, w = images.shape
    ncol = -(-n // nrow)
    grid = np.zeros((ncol * (h + pad) + pad, nrow * (w + pad) + pad), np.float32)
    for k, image in enumerate(images):
        r, c = divmod(k, nrow)
        grid[
            pad + r * (h + pad) : pad + r * (h + pad) + h,
            pad + c * (w + pad) : pad + c * (w + pad) + w,
        ] = image
    pixels = (np.clip(grid, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.imsave(path, pixels, cmap="gray", vmin=0, vmax=255)
    except ImportError:  # a minimal 8-bit greyscale PNG: signature, IHDR, IDAT, IEND
        rows = b"".join(b"\x00" + row.tobytes() for row in pixels)  # filter 0 per row

        def chunk(kind: bytes, body: bytes) -> bytes:
            return (
                struct.pack(">I", len(body))
                + kind
                + body
                + struct.pack(">I", zlib.crc32(kind + body))
            )

        header = struct.pack(">IIBBBBB", pixels.shape[1], pixels.shape[0], 8, 0, 0, 0, 0)
        png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        path.write_bytes(png + chunk(b"IEND", b""))


def main(argv: list[str] | None = None) -> dict:
    """Train the VAE, evaluate each epoch, write the image grids; return the losses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=10, help="batches between logs")
    parser.add_argument("--out", default="runs/vae")
    parser.add_argument("--smoke", action="store_true", help="1 epoch on 512 images")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ember.manual_seed(args.seed)
    images = load_mnist_5k().images.numpy().reshape(-1, 784).astype(np.float32) / 255.0
    images = images[np.random.default_rng(0).permutation(len(images))]  # the file is sorted
    train, test = images[:4000], images[4000:]
    if args.smoke:
        args.epochs, train, test = 1, train[:512], test[:256]
    rng = np.random.default_rng(args.seed)

    model = VAE()
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    train_loss = test_loss = float("nan")
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        order = rng.permutation(len(train))
        for batch_idx, start in enumerate(range(0, len(train), args.batch_size)):
            data = ember.from_numpy(train[order[start : start + args.batch_size]])
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = VAE.loss_function(recon, data, mu, logvar)
            loss.backward()
            total += loss.item()
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                per_sample = loss.item() / len(data)
                print(f"Train Epoch: {epoch} [{start}/{len(train)}]\tLoss: {per_sample:.6f}")
        train_loss = total / len(train)
        print(f"====> Epoch: {epoch} Average loss: {train_loss:.4f}")

        model.eval()
        total = 0.0
        with ember.no_grad():
            for start in range(0, len(test), args.batch_size):
                data = ember.from_numpy(test[start : start + args.batch_size])
                recon, mu, logvar = model(data)
                total += VAE.loss_function(recon, data, mu, logvar).item()
                if start == 0:
                    n = min(8, len(data))
                    both = np.concatenate([data.numpy()[:n], recon.numpy()[:n]])
                    save_grid(both.reshape(-1, 28, 28), out / f"reconstruction_{epoch}.png", nrow=n)
            test_loss = total / len(test)
            print(f"====> Test set loss: {test_loss:.4f}")
            sample = model.decode(ember.randn(64, 20)).numpy()  # (64, 784)
            save_grid(sample.reshape(64, 28, 28), out / f"sample_{epoch}.png")

    result = {"train_loss": train_loss, "test_loss": test_loss}
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
