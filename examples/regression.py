"""Fit a degree-4 polynomial with one ``nn.Linear`` layer: PyTorch's ``examples/regression``.

A random target function y = w . [x, x^2, x^3, x^4] + b (w and b drawn from N(0, 25) with the
seed) is sampled in fresh batches of x ~ N(0, 1); a ``Linear(4, 1)`` is trained on the
smooth L1 loss with SGD until the batch loss falls below ``--tol`` (1e-3), then the learned and
the actual function are printed. Data: synthetic. Figure of merit: the number of steps to
converge and the final loss (plus the largest coefficient error).

    python examples/regression.py
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import ember
from ember import nn
from ember.nn import functional as F

POLY_DEGREE = 4


def make_features(x: ember.Tensor) -> ember.Tensor:
    """Build the design matrix with columns x, x^2, x^3, x^4: (N,) -> (N, 4)."""
    x = x.unsqueeze(1)
    return ember.cat([x**i for i in range(1, POLY_DEGREE + 1)], 1)


def poly_desc(w: list[float], b: float) -> str:
    """Write the polynomial as text, e.g. 'y = +1.23 x^1 -0.50 x^2 ... +0.10'."""
    terms = " ".join(f"{c:+.2f} x^{i}" for i, c in enumerate(w, 1))
    return f"y = {terms} {b:+.2f}"


def main(argv: list[str] | None = None) -> dict:
    """Train until the loss is below the tolerance; return steps, loss and coefficient error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--tol", type=float, default=1e-3, help="stop when the loss is below")
    parser.add_argument("--max-steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="runs/regression")
    parser.add_argument("--smoke", action="store_true", help="a few hundred steps only")
    args = parser.parse_args(argv)
    if args.smoke:
        args.max_steps = 200

    ember.manual_seed(args.seed)
    w_target = ember.randn(POLY_DEGREE, 1) * 5
    b_target = ember.randn(1) * 5

    def get_batch(batch_size: int) -> tuple[ember.Tensor, ember.Tensor]:
        x = make_features(ember.randn(batch_size))  # (B, 4)
        return x, x.mm(w_target) + b_target.item()  # (B, 4), (B, 1)

    fc = nn.Linear(POLY_DEGREE, 1)
    optimizer = ember.optim.SGD(fc.parameters(), lr=args.lr)
    step = 0
    while step < args.max_steps:
        step += 1
        batch_x, batch_y = get_batch(args.batch_size)
        optimizer.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        optimizer.step()
        if loss < args.tol:
            break

    learned_w = fc.weight.reshape(-1).tolist()
    actual_w = w_target.reshape(-1).tolist()
    print(f"Loss: {loss:.6f} after {step} batches")
    print("==> Learned function:\t" + poly_desc(learned_w, fc.bias.item()))
    print("==> Actual function:\t" + poly_desc(actual_w, b_target.item()))
    learned, actual = [*learned_w, fc.bias.item()], [*actual_w, b_target.item()]
    coef_error = max(abs(a - b) for a, b in zip(learned, actual))
    result = {"loss": loss, "steps": step, "max_coef_error": coef_error}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
