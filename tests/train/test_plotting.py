"""plot_history: a PNG of the loss and metric curves, of the requested pixel size."""

from __future__ import annotations

import io
import struct

import pytest

from ember.train import History, plot_history

pytest.importorskip("matplotlib")


def png_size(path):
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    assert raw[12:16] == b"IHDR"
    return struct.unpack(">II", raw[16:24])


def history():
    h = History()
    for epoch in range(5):
        h.append(
            epoch,
            {
                "loss": 1 / (epoch + 1),
                "accuracy": 0.5 + 0.1 * epoch,
                "val_loss": 1.2 / (epoch + 1),
                "val_accuracy": 0.45 + 0.1 * epoch,
                "lr": 0.1,
            },
        )
    return h


def test_plot_history_writes_png_of_the_right_size(tmp_path):
    path = tmp_path / "curves.png"
    plot_history(history(), path, figsize=(6, 3), dpi=50)
    assert png_size(path) == (300, 150)


def test_plot_history_default_size_one_panel_per_curve(tmp_path):
    path = tmp_path / "curves.png"
    plot_history(history().history, str(path))  # a plain dict works too
    assert png_size(path) == (800, 350)  # two panels (loss, accuracy), lr left out


def test_plot_history_panels():
    import matplotlib.figure

    saved = {}
    original = matplotlib.figure.Figure.savefig

    def capture(self, *args, **kwargs):
        saved["titles"] = [ax.get_title() for ax in self.axes]
        saved["lines"] = [len(ax.get_lines()) for ax in self.axes]
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matplotlib.figure.Figure, "savefig", capture)
        plot_history(history(), io.BytesIO())
    assert saved == {"titles": ["loss", "accuracy"], "lines": [2, 2]}


def test_plot_history_empty():
    with pytest.raises(ValueError, match="no curves to plot"):
        plot_history({"lr": [0.1]}, "unused.png")
