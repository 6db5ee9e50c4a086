"""Hook-based spectral normalization (the old API). Mirrors ``torch.nn.utils.spectral_norm``.

Kept for old checkpoints (GAN discriminators, ...), whose state_dict keys are
``weight_orig``, ``weight_u`` and ``weight_v``: a forward pre-hook sets
``weight = weight_orig / sigma`` before every forward, sigma estimated by power iteration on
the buffers u and v (one update per forward in training mode, none in eval mode). New code
should use ``nn.utils.parametrizations.spectral_norm``.

Differences from PyTorch: the state_dict version metadata hook and the load pre-hook that
converts version-0 checkpoints (those holding a plain ``weight``) are not provided.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ember.autograd.grad_mode import no_grad
from ember.nn import conv
from ember.nn.module import Module
from ember.nn.parameter import Parameter, UninitializedParameter
from ember.nn.utils.parametrizations import _normalize
from ember.ops.creation import empty
from ember.ops.linalg import dot, mv
from ember.tensor import Tensor

__all__ = ["SpectralNorm", "remove_spectral_norm", "spectral_norm"]

T_module = TypeVar("T_module", bound=Module)


class SpectralNorm:
    """The forward pre-hook: name, dim (the output dim), n_power_iterations and eps."""

    _version: int = 1
    name: str
    dim: int
    n_power_iterations: int
    eps: float

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but "
                f"got n_power_iterations={n_power_iterations}"
            )
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """Return weight as a (size of dim, -1) matrix, dim moved first."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        """Return name_orig / sigma, first updating u and v in place if do_power_iteration."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(mv(weight_mat.t(), u), self.eps))
                    u.copy_(_normalize(mv(weight_mat, v), self.eps))
                # Clones: the next in-place update must not change what backward saved.
                u, v = u.clone(), v.clone()
        sigma = dot(u, mv(weight_mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        """Turn the normalized weight (no power step) into a plain parameter ``name``."""
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(
        module: Module, name: str, n_power_iterations: int, dim: int, eps: float
    ) -> SpectralNorm:
        """Move module.name to ``name_orig``, add buffers ``name_u``/``name_v``, add the hook."""
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if isinstance(weight, UninitializedParameter):
            raise ValueError(
                "The module passed to `SpectralNorm` can't have uninitialized parameters. "
                "Make sure to run the dummy forward before applying spectral normalization"
            )
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            like = {"dtype": weight.dtype, "device": weight.device}
            u = _normalize(empty(h, **like).normal_(0, 1), fn.eps)
            v = _normalize(empty(w, **like).normal_(0, 1), fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def _is_conv_transpose(module: Module) -> bool:
    kinds = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
    return isinstance(module, tuple(getattr(conv, k) for k in kinds if hasattr(conv, k)))


def spectral_norm(
    module: T_module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> T_module:
    """Divide module.name by its spectral norm in a hook. Mirrors ``torch.nn.utils.spectral_norm``.

    Parameter ``name`` moves to ``name_orig``; buffers ``name_u`` and ``name_v`` hold the
    power-iteration vectors, and before every forward ``name = name_orig / sigma`` with
    ``sigma = u . (W v)``, W the weight reshaped to (size of dim, -1). In training mode u and
    v first take ``n_power_iterations`` steps in place.

    Differences from PyTorch: no state_dict version metadata and no conversion of version-0
    checkpoints on load.

    Args:
        module: The module holding the parameter.
        name: The parameter's name.
        n_power_iterations: Power-iteration steps per training-mode forward.
        eps: Epsilon of the normalizations.
        dim: The output dim; None means 1 for ConvTranspose layers and 0 otherwise.

    Returns:
        The module, with the hook.

    Raises:
        RuntimeError: If ``name`` already has a spectral_norm hook.
        ValueError: If n_power_iterations <= 0 or the parameter is None or uninitialized.
    """
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: T_module, name: str = "weight") -> T_module:
    """Remove the spectral_norm hook. Mirrors ``torch.nn.utils.remove_spectral_norm``.

    The kept weight is ``name_orig / sigma`` from the stored u and v (no power step).

    Args:
        module: The module holding the hook.
        name: The parameter's name.

    Returns:
        The module, with a plain parameter ``name``.

    Raises:
        ValueError: If ``name`` has no spectral_norm hook.
    """
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
