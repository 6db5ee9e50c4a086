"""``plot_history``: the loss and metric curves of a ``fit`` run as a PNG (matplotlib extra)."""

from __future__ import annotations

import importlib
import os
from typing import Any, BinaryIO

__all__ = ["plot_history"]


def plot_history(
    history: Any,
    path: str | os.PathLike | BinaryIO,
    figsize: tuple[float, float] | None = None,
    dpi: int = 100,
) -> None:
    """Write a PNG with one panel per logged quantity: loss, then each metric.

    A panel shows the training curve and, when logged, its ``val_`` twin; ``lr`` is left
    out. ``history`` is a ``History`` or its dict of lists; ``path`` a file name or a binary
    file object. The image is exactly ``figsize * dpi`` pixels (default width 4 inches per
    panel, height 3.5). Uses matplotlib's Agg canvas (no display needed; the ``train``
    extra).
    """
    try:
        figure_module = importlib.import_module("matplotlib.figure")
        agg = importlib.import_module("matplotlib.backends.backend_agg")
    except ImportError as error:
        raise ImportError(
            "plot_history needs the optional package 'matplotlib': pip install 'ember[train]'"
        ) from error
    logs = getattr(history, "history", history)
    names = [k for k in logs if not k.startswith("val_") and k != "lr"]
    names += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]
    names = sorted(set(names), key=lambda k: (k != "loss", names.index(k)))
    if not names:
        raise ValueError("plot_history: the history has no curves to plot")
    if figsize is None:
        figsize = (4.0 * len(names), 3.5)
    figure = figure_module.Figure(figsize=figsize, dpi=dpi)
    agg.FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            values = logs.get(key)
            if values:
                ax.plot(range(1, len(values) + 1), [float(v) for v in values], label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend()
    figure.tight_layout()
    target = path if hasattr(path, "write") else os.fspath(path)
    figure.savefig(target, format="png", dpi=dpi)
