"""Predict sine waves with stacked ``LSTMCell``s and L-BFGS: ``time_sequence_prediction``.

A port of PyTorch's example of the same name.

Data: N = 100 sine waves sin(t / 20) of length L = 1000, each shifted by a random phase (drawn
with the seed). The model reads a wave one value at a time (LSTMCell(1, 51) -> LSTMCell(51, 51)
-> Linear(51, 1)) and predicts the next value; waves 3.. train it (float64, MSE, ``LBFGS(lr=0.8)``
for ``--steps`` outer steps), waves 0..2 test it. After the input it keeps going on its own
predictions for ``--future`` more steps. Figure of merit: the test MSE of the next-value
predictions. Writes ``predict<step>.png`` with the test waves and their continuation when
matplotlib is installed.

    python examples/time_sequence_prediction.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import ember
from ember import nn


def generate_sine_wave(n: int, length: int, period: int, seed: int) -> np.ndarray:
    """Return n phase-shifted sine waves sin(t / period), each of the given length: (n, length)."""
    rng = np.random.default_rng(seed)
    x = np.arange(length)[None, :] + rng.integers(-4 * period, 4 * period, n)[:, None]
    return np.sin(x / 1.0 / period).astype(np.float64)


class Sequence(nn.Module):
    """Two LSTMCells and a linear read-out, unrolled over time; optionally continues the wave."""

    def __init__(self, hidden: int = 51) -> None:
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input: ember.Tensor, future: int = 0) -> ember.Tensor:
        """Map waves (N, T) to next-value predictions (N, T + future)."""
        outputs = []
        n = input.shape[0]
        h_t = ember.zeros(n, self.hidden, dtype=input.dtype)
        c_t = ember.zeros(n, self.hidden, dtype=input.dtype)
        h_t2 = ember.zeros(n, self.hidden, dtype=input.dtype)
        c_t2 = ember.zeros(n, self.hidden, dtype=input.dtype)
        output = None
        for input_t in input.split(1, dim=1):  # (N, 1) per time step
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs.append(output)
        for _ in range(future):  # feed the prediction back in
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs.append(output)
        return ember.cat(outputs, dim=1)


def draw(y: np.ndarray, length: int, path: Path) -> bool:
    """Plot the test waves (solid: input, dotted: predicted future); False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig = plt.figure(figsize=(30, 10))
    plt.title("Predict future values for time sequences\n(dashlines are predicted values)")
    plt.xlabel("x")
    plt.ylabel("y")
    for row, color in zip(y, "rgb"):
        plt.plot(np.arange(length), row[:length], color, linewidth=2.0)
        plt.plot(np.arange(length, len(row)), row[length:], color + ":", linewidth=2.0)
    fig.savefig(path)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> dict:
    """Train with L-BFGS, evaluate on the held-out waves; return the train and test MSE."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="outer L-BFGS steps")
    parser.add_argument("--lr", type=float, default=0.8)
    parser.add_argument("--max-iter", type=int, default=20, help="L-BFGS iterations per step")
    parser.add_argument("--waves", type=int, default=100)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--future", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/time_sequence_prediction")
    parser.add_argument("--smoke", action="store_true", help="1 short step on short waves")
    args = parser.parse_args(argv)
    if args.smoke:
        args.steps, args.max_iter, args.waves, args.length, args.future = 1, 3, 8, 40, 20
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    ember.manual_seed(args.seed)
    data = generate_sine_wave(args.waves, args.length, 20, args.seed)
    input, target = ember.from_numpy(data[3:, :-1]), ember.from_numpy(data[3:, 1:])
    test_input, test_target = ember.from_numpy(data[:3, :-1]), ember.from_numpy(data[:3, 1:])

    seq = Sequence().double()
    criterion = nn.MSELoss()
    optimizer = ember.optim.LBFGS(seq.parameters(), lr=args.lr, max_iter=args.max_iter)
    train_loss = test_loss = float("nan")
    for i in range(args.steps):
        print("STEP:", i)

        def closure() -> ember.Tensor:
            optimizer.zero_grad()
            loss = criterion(seq(input), target)
            print("loss:", loss.item())
            loss.backward()
            return loss

        train_loss = float(optimizer.step(closure).item())
        with ember.no_grad():
            pred = seq(test_input, future=args.future)  # (3, L - 1 + future)
            test_loss = criterion(pred[:, : -args.future], test_target).item()
            print("test loss:", test_loss)
        y = pred.numpy()
    draw(y, args.length - 1, out / f"predict{args.steps - 1}.png")
    result = {"train_mse": train_loss, "test_mse": test_loss}
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
