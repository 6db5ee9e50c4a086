"""Weight averaging: AveragedModel (SWA and EMA), the SWALR schedule and update_bn.

Mirrors ``torch.optim.swa_utils``. Averages are updated in place under ``no_grad``; with the
default (SWA) the running mean is ``avg + (p - avg) / (n + 1)``, as PyTorch computes it on CPU.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import int64
from ember.nn.module import Module
from ember.nn.normalization import _BatchNorm
from ember.ops.creation import tensor
from ember.optim.lr_scheduler_base import _GET_LR_WARNING, LRScheduler, _format_param
from ember.optim.optimizer import Optimizer
from ember.tensor import Tensor

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]

ParamList = list[Tensor] | tuple[Tensor, ...]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable[[ParamList, ParamList, Any], None]:
    """Return an in-place EMA update over lists: ``ema = lerp(ema, p, 1 - decay)``.

    Mirrors ``torch.optim.swa_utils.get_ema_multi_avg_fn``.
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list: ParamList, current_param_list: ParamList, _: Any) -> None:
        if ema_param_list[0].is_floating_point():
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable[[ParamList, ParamList, Any], None]:
    """Return an in-place SWA update over lists: ``avg = lerp(avg, p, 1 / (n + 1))``.

    Mirrors ``torch.optim.swa_utils.get_swa_multi_avg_fn``.
    """

    @no_grad()
    def swa_update(
        averaged_param_list: ParamList, current_param_list: ParamList, num_averaged: Any
    ) -> None:
        pairs = zip(averaged_param_list, current_param_list, strict=True)
        if averaged_param_list[0].is_floating_point():
            weight = float(1 / (num_averaged + 1))
            for p_avg, p_model in pairs:
                p_avg.lerp_(p_model, weight)
        else:
            for p_avg, p_model in pairs:
                p_avg.copy_(p_avg + (p_model - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable[[Tensor, Tensor, Any], Tensor]:
    """Return the EMA of one parameter: ``decay * ema + (1 - decay) * p``.

    Mirrors ``torch.optim.swa_utils.get_ema_avg_fn``.
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable[[Tensor, Tensor, Any], Tensor]:
    """Return the running mean of one parameter: ``avg + (p - avg) / (n + 1)``.

    Mirrors ``torch.optim.swa_utils.get_swa_avg_fn``.
    """

    @no_grad()
    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """Keep a running average (SWA by default, or EMA) of a model's parameters.

    ``update_parameters(model)`` copies the parameters on the first call and averages them
    afterwards with ``avg_fn(avg, p, n_averaged)`` (per tensor) or ``multi_avg_fn`` (per list
    of tensors of one device and dtype, in place). The buffers are averaged too with
    ``use_buffers=True``, else copied from ``model``. The state_dict holds ``n_averaged`` and
    the copy under ``module.``. Mirrors ``torch.optim.swa_utils.AveragedModel``.
    """

    def __init__(
        self,
        model: Module,
        device: Any = None,
        avg_fn: Callable[[Tensor, Tensor, Any], Tensor] | None = None,
        multi_avg_fn: Callable[[ParamList, ParamList, Any], None] | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model: Module) -> None:
        """Fold the current parameters (and buffers if ``use_buffers``) of ``model`` in."""
        if self.use_buffers:
            own = list(chain(self.module.parameters(), self.module.buffers()))
            theirs = list(chain(model.parameters(), model.buffers()))
        else:
            own, theirs = list(self.parameters()), list(model.parameters())
        pairs = [
            (p_avg.detach(), p_model.detach().to(p_avg.device))
            for p_avg, p_model in zip(own, theirs)
        ]
        n_averaged = self.n_averaged
        if int(n_averaged.item()) == 0:
            for p_avg, p_model in pairs:
                p_avg.copy_(p_model)
        elif self.avg_fn is not None:
            for p_avg, p_model in pairs:
                p_avg.copy_(self.avg_fn(p_avg, p_model, n_averaged.to(p_avg.device)))
        else:
            self._average_groups(pairs, n_averaged)
        if not self.use_buffers:  # keep the buffers in sync with the source model
            for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_avg.detach().copy_(b_model.detach().to(b_avg.device))
        self.n_averaged += 1

    def _average_groups(self, pairs: list[tuple[Tensor, Tensor]], n_averaged: Tensor) -> None:
        """Run multi_avg_fn (or the SWA mean) on the tensors grouped by device and dtype."""
        groups: dict[tuple, tuple[list[Tensor], list[Tensor]]] = {}
        for p_avg, p_model in pairs:
            own, theirs = groups.setdefault((str(p_avg.device), p_avg.dtype), ([], []))
            own.append(p_avg)
            theirs.append(p_model)
        swa_fn = get_swa_avg_fn()
        for own, theirs in groups.values():
            n = n_averaged.to(own[0].device)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(own, theirs, n)
            else:  # PyTorch's CPU path: one tensor at a time
                for p_avg, p_model in zip(own, theirs):
                    p_avg.copy_(swa_fn(p_avg, p_model, n))


@no_grad()
def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` with one pass over ``loader``.

    The statistics are reset and accumulated as a cumulative average (``momentum=None``);
    each batch is a tensor or a list/tuple whose first item is the input.
    Mirrors ``torch.optim.swa_utils.update_bn``.
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for input in loader:
        if isinstance(input, (list, tuple)):
            input = input[0]
        if device is not None:
            input = input.to(device)
        model(input)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it.

    ``anneal_strategy`` is ``'cos'`` or ``'linear'``. Mirrors ``torch.optim.swa_utils.SWALR``.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | list[float],
        anneal_epochs: int = 10,
        anneal_strategy: str = "cos",
        last_epoch: int = -1,
    ) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[Any]:
        if not self._get_lr_called_within_step:
            warnings.warn(_GET_LR_WARNING, UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # recover the lr the annealing started from, then move it one step further
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(groups, prev_lrs, strict=True)
        ]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict[str, Any]:
        """Return every attribute but the optimizer and the annealing function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes, and the annealing function from its name."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
