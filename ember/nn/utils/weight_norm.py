"""Hook-based weight normalization (the deprecated API). Mirrors ``torch.nn.utils.weight_norm``.

Kept for old checkpoints (WaveNet/HiFi-GAN vocoders, ...), whose state_dict keys are
``weight_g`` and ``weight_v``: a forward pre-hook recomputes ``weight = g * v / ||v||``
before every forward. New code should use ``nn.utils.parametrizations.weight_norm``.
"""

from __future__ import annotations

import warnings
from typing import Any, TypeVar

from ember.nn.module import Module
from ember.nn.parameter import Parameter, UninitializedParameter
from ember.nn.utils.parametrizations import _norm_except_dim
from ember.tensor import Tensor

__all__ = ["WeightNorm", "remove_weight_norm", "weight_norm"]

T_module = TypeVar("T_module", bound=Module)


class WeightNorm:
    """The forward pre-hook holding ``name`` and ``dim`` (-1: norm over the whole tensor)."""

    name: str
    dim: int

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        """Return g * v / ||v|| from the module's ``name_g`` and ``name_v``."""
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        """Replace module.name by parameters ``name_g``, ``name_v`` and register the hook."""
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of "
            "`torch.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}"
                )
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying weight normalization"
            )
        del module._parameters[name]
        weight = weight.detach()
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        """Turn the computed weight back into a plain parameter ``name``."""
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: T_module, name: str = "weight", dim: int | None = 0) -> T_module:
    """Recompute module.name as g * v / ||v|| in a hook. Mirrors ``torch.nn.utils.weight_norm``.

    Parameter ``name`` is replaced by ``name_g`` (the norms over every dim but ``dim``, kept as
    size-1 dims; a scalar for ``dim=None``) and ``name_v`` (the direction), and the weight is
    recomputed before every forward. Emits PyTorch's deprecation FutureWarning.

    Args:
        module: The module holding the parameter.
        name: The parameter's name.
        dim: The dim kept by the norm (None: norm over the whole tensor).

    Returns:
        The module, with the hook.

    Raises:
        RuntimeError: If ``name`` already has a weight_norm hook.
        ValueError: If the parameter is uninitialized.
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: T_module, name: str = "weight") -> T_module:
    """Remove the weight_norm hook. Mirrors ``torch.nn.utils.remove_weight_norm``.

    Args:
        module: The module holding the hook.
        name: The parameter's name.

    Returns:
        The module, with a plain parameter ``name``.

    Raises:
        ValueError: If ``name`` has no weight_norm hook.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
