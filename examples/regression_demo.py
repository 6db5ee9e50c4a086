"""Fit a cubic polynomial by gradient descent with Ember's autograd.

The data are y = 0.5 - 1.2 x + 0.8 x^2 + 0.3 x^3 plus a little noise, drawn with a fixed seed;
the model is y_hat = features(x) @ w with features 1, x, x^2, x^3, and the loss the mean
squared error. Each step runs forward, ``loss.backward()``, then updates ``w`` in place under
``no_grad``, the way a PyTorch user would write it by hand. Run it with ``make demo``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ember

TRUE_COEFFICIENTS = (0.5, -1.2, 0.8, 0.3)  # 1, x, x^2, x^3


def make_data(n: int, seed: int) -> tuple[ember.Tensor, ember.Tensor]:
    """Sample n points x in [-2, 2] and noisy targets y, from a fixed seed."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, n).astype(np.float32)
    noise = rng.normal(0.0, 0.1, n).astype(np.float32)
    x = ember.tensor(x)
    y = sum(c * x**k for k, c in enumerate(TRUE_COEFFICIENTS)) + ember.tensor(noise)
    return x, y


def features(x: ember.Tensor) -> ember.Tensor:
    """The design matrix: columns 1, x, x^2, x^3."""
    return ember.stack([x**k for k in range(len(TRUE_COEFFICIENTS))], dim=1)  # (n, 4)


def progress(steps: int, verbose: bool):
    """tqdm's progress bar if it is installed, else a plain range (lines are printed instead)."""
    if verbose:
        try:
            from tqdm import trange

            return trange(steps, desc="fitting", unit="step"), True
        except ImportError:
            pass
    return range(steps), False


def main(steps: int = 600, lr: float = 0.02, n: int = 256, seed: int = 0, verbose: bool = True):
    """Fit the polynomial; return the final loss and the fitted coefficients."""
    x, y = make_data(n, seed)
    X = features(x)  # (n, 4)
    w = ember.zeros(X.shape[1], requires_grad=True)  # (4,)
    bar, is_tqdm = progress(steps, verbose)
    start = time.perf_counter()
    for step in bar:
        loss = ((X @ w - y) ** 2).mean()
        w.grad = None
        loss.backward()
        with ember.no_grad():
            w -= lr * w.grad
        if verbose and is_tqdm and step % 50 == 0:
            bar.set_postfix(loss=f"{loss.item():.5f}")
        elif verbose and not is_tqdm and (step % (steps // 10 or 1) == 0 or step == steps - 1):
            print(f"step {step:5d}  loss {loss.item():.5f}")
    with ember.no_grad():
        final = ((X @ w - y) ** 2).mean().item()
    if verbose:
        seconds = time.perf_counter() - start
        print(f"\n{steps} steps in {seconds:.2f} s; final loss {final:.5f} (noise variance 0.01)")
        print("coefficient   true  fitted")
        for k, (true, fitted) in enumerate(zip(TRUE_COEFFICIENTS, w.tolist())):
            print(f"  x^{k}        {true:5.2f}  {fitted:6.3f}")
    return final, w.detach()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--lr", type=float, default=0.02)
    args = parser.parse_args()
    main(args.steps, args.lr)
