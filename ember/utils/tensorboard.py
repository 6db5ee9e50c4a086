"""TensorBoard event files from Ember tensors. Mirrors ``torch.utils.tensorboard``.

``SummaryWriter`` is a thin layer over ``tensorboardX.SummaryWriter`` (the ``train`` extra):
every Ember tensor argument becomes a NumPy array (bfloat16 as float32) and the call goes on to
tensorboardX, which writes the same records PyTorch's writer does. tensorboardX is imported
when a writer is made, never at ``import ember``; this module is imported on demand, as
``torch.utils.tensorboard`` is.
"""

from __future__ import annotations

import importlib
import time
from types import TracebackType
from typing import Any

import numpy as np

from ember.tensor import Tensor

__all__ = ["SummaryWriter"]


def _tensorboardx() -> Any:
    """Import tensorboardX or say which extra provides it."""
    try:
        module = importlib.import_module("tensorboardX")
        importlib.import_module("tensorboardX.event_file_writer")
        importlib.import_module("tensorboardX.summary")
        importlib.import_module("tensorboardX.writer")
        return module
    except ImportError as error:
        raise ImportError(
            "ember.utils.tensorboard needs the optional package 'tensorboardX': "
            "pip install 'ember[train]'"
        ) from error


def _to_numpy(value: Any) -> Any:
    """An Ember tensor as a NumPy array (detached, on the CPU); anything else unchanged."""
    if not isinstance(value, Tensor):
        return value
    array = np.asarray(value.detach().cpu().numpy())
    if array.dtype.kind == "V" or array.dtype.name == "bfloat16":  # ml_dtypes: not for NumPy math
        array = array.astype(np.float32)
    return array


def _to_python(value: Any) -> Any:
    """A one-element Ember tensor as a Python number (hparams and metrics); else unchanged."""
    return value.item() if isinstance(value, Tensor) else value


def _drain(tensorboardx: Any, event_writer: Any) -> None:
    """Let the writer thread write every queued event, then start a fresh one."""
    worker = getattr(event_writer, "_worker", None)
    if worker is None or getattr(event_writer, "_closed", True) or not worker.is_alive():
        return
    worker.stop()  # queued behind the events: returns once they are written
    module = tensorboardx.event_file_writer
    event_writer._worker = module._EventLoggerThread(
        event_writer._event_queue, event_writer._ev_writer, event_writer._flush_secs
    )
    event_writer._worker.start()


class SummaryWriter:
    """Write events for TensorBoard. Mirrors ``torch.utils.tensorboard.SummaryWriter``.

    Same arguments as ``torch.utils.tensorboard.SummaryWriter``; ``log_dir`` defaults to
    ``runs/<date>_<host><comment>``. Methods take Ember tensors where PyTorch takes torch
    tensors (NumPy arrays and Python numbers work too). Methods not written out here
    (``add_figure``, ``add_video``, ``add_audio``, ``add_embedding``, ``add_pr_curve``,
    ``add_mesh``, ``add_custom_scalars``, ...) go to tensorboardX with their tensors converted.
    Needs the ``train`` extra (tensorboardX).

    Differences from PyTorch: ``add_graph`` raises NotImplementedError (there is no tracer);
    ``add_scalar``'s ``new_style``/``double_precision`` and ``add_hparams``'s
    ``hparam_domain_discrete`` are not supported by tensorboardX (the first two are accepted and
    write the classic simple_value record; the last raises NotImplementedError).
    """

    def __init__(
        self,
        log_dir: str | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
    ) -> None:
        self._tbx = tensorboardx = _tensorboardx()
        self._writer = tensorboardx.SummaryWriter(
            log_dir=None if log_dir is None else str(log_dir),
            comment=comment,
            purge_step=purge_step,
            max_queue=max_queue,
            flush_secs=flush_secs,
            filename_suffix=filename_suffix,
        )
        self.log_dir = str(self._writer.logdir)

    def get_logdir(self) -> str:
        """Return the directory the event files go to. Mirrors ``SummaryWriter.get_logdir``."""
        return self.log_dir

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        """Record one scalar (a number or one-element tensor). Mirrors ``add_scalar``."""
        self._writer.add_scalar(tag, _to_numpy(scalar_value), global_step, walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Record several scalars under main_tag, one run each. Mirrors ``add_scalars``.

        As PyTorch (not tensorboardX), tag's values go to the run ``<log_dir>/<main_tag>_<tag>``
        (slashes in main_tag become underscores), under the tag ``main_tag``.
        """
        writer = self._writer
        walltime = time.time() if walltime is None else walltime
        fw_logdir = writer._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            fw_tag = fw_logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = writer.all_writers.get(fw_tag)
            if fw is None:
                fw = self._tbx.writer.FileWriter(
                    fw_tag, writer._max_queue, writer._flush_secs, writer._filename_suffix
                )
                writer.all_writers[fw_tag] = fw
            fw.add_summary(
                self._tbx.summary.scalar(main_tag, _to_numpy(value)), global_step, walltime
            )

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """Record a histogram of the values. Mirrors ``add_histogram``."""
        self._writer.add_histogram(
            tag, _to_numpy(values), global_step, _to_numpy(bins), walltime, max_bins
        )

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """Record an image (floats in [0, 1] or uint8), CHW by default. Mirrors ``add_image``."""
        self._writer.add_image(tag, _to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """Record a batch of images as one grid, NCHW by default. Mirrors ``add_images``."""
        self._writer.add_images(tag, _to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Record a (markdown) text. Mirrors ``add_text``."""
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """Not supported: PyTorch traces the model with TorchScript. Mirrors ``add_graph``.

        Differences from PyTorch: always raises NotImplementedError.
        """
        raise NotImplementedError(
            "SummaryWriter.add_graph is not supported by Ember: it needs PyTorch's JIT tracer. "
            "Log the model's repr with add_text instead."
        )

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Record hyperparameters and their metrics in a sub-run. Mirrors ``add_hparams``.

        ``run_name`` defaults to the current timestamp, as in PyTorch.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        if hparam_domain_discrete is not None:
            raise NotImplementedError(
                "SummaryWriter.add_hparams: hparam_domain_discrete is not supported by "
                "tensorboardX, which Ember writes through"
            )
        hparams = {key: _to_python(value) for key, value in hparam_dict.items()}
        metrics = {key: _to_python(value) for key, value in metric_dict.items()}
        self._writer.add_hparams(hparams, metrics, name=run_name, global_step=global_step)

    def flush(self) -> None:
        """Write pending events to disk. Mirrors ``SummaryWriter.flush``.

        As PyTorch's, it returns once every queued event is in the files (tensorboardX's own
        flush leaves the queue to its writer thread).
        """
        for file_writer in (self._writer.all_writers or {}).values():
            _drain(self._tbx, file_writer.event_writer)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event files. Mirrors ``SummaryWriter.close``."""
        self._writer.close()

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not defined above: the rest of tensorboardX's add_* methods.
        if name.startswith("_"):
            raise AttributeError(name)
        method = getattr(self._writer, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(_to_numpy(a) for a in args)
            kwargs = {key: _to_numpy(value) for key, value in kwargs.items()}
            return method(*args, **kwargs)

        call.__name__ = name
        call.__doc__ = method.__doc__
        return call
