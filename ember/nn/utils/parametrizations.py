"""weight_norm and spectral_norm as parametrizations. Mirrors ``nn.utils.parametrizations``.

Both register through ``parametrize.register_parametrization``, so the state_dict keys are
PyTorch's: ``parametrizations.weight.original0`` (g) and ``original1`` (v) for weight_norm;
``parametrizations.weight.original`` and ``parametrizations.weight.0._u`` / ``._v`` for
spectral_norm.
"""

from __future__ import annotations

from ember.autograd.grad_mode import no_grad
from ember.nn import conv
from ember.nn.module import Module
from ember.nn.utils import parametrize
from ember.ops.combine import clamp_min
from ember.ops.creation import empty
from ember.ops.linalg import mv, vdot
from ember.ops.norms import vector_norm
from ember.tensor import Tensor

__all__ = ["spectral_norm", "weight_norm"]


def _normalize(x: Tensor, eps: float) -> Tensor:
    """Return x / max(||x||_2, eps) along dim 0, as ``F.normalize(x, dim=0, eps=eps)``."""
    return x / clamp_min(vector_norm(x, 2, 0, True), eps)


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm over every dim but dim, kept as size-1 dims; dim=-1 means the whole tensor."""
    if dim == -1:
        return vector_norm(v, 2)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return vector_norm(v, 2, others, True)


class _WeightNorm(Module):
    """w = g * v / ||v||, the norm taken over every dim but ``dim`` (all of them for None)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize module.name as g * v / ||v||. Mirrors ``parametrizations.weight_norm``.

    g (``original0``) holds the norms over every dim but ``dim`` (one scalar for None), v
    (``original1``) the direction.

    Differences from PyTorch: state_dicts with the old ``weight_g``/``weight_v`` keys are not
    converted on load.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W / sigma(W), sigma estimated by power iteration on buffers ``_u`` and ``_v``."""

    def __init__(
        self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but "
                f"got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            with no_grad():
                like = {"dtype": weight.dtype, "device": weight.device}
                u = empty(h, **like).normal_(0, 1)
                v = empty(w, **like).normal_(0, 1)
            self.register_buffer("_u", _normalize(u, self.eps))
            self.register_buffer("_v", _normalize(v, self.eps))
            self._power_method(weight_mat, 15)  # start from a good estimate

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            order = (self.dim, *(d for d in range(weight.ndim) if d != self.dim))
            weight = weight.permute(*order)
        return weight.flatten(1)  # (size of dim, everything else)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        # In place, as PyTorch's out=: the buffers are updated, never replaced.
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(_normalize(mv(weight_mat, self._v), self.eps))
                self._v.copy_(_normalize(mv(weight_mat.t(), self._u), self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return _normalize(weight, self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # Clones: a later in-place power step must not change what backward saved.
        u, v = self._u.clone(), self._v.clone()
        sigma = vdot(u, mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Reparametrize module.name as W / sigma(W). Mirrors ``parametrizations.spectral_norm``.

    sigma, the largest singular value of W (reshaped to (size of dim, -1)), is estimated by
    power iteration: 15 steps at registration, then ``n_power_iterations`` per access in
    training mode. ``dim`` defaults to 1 for ConvTranspose layers and 0 otherwise.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        transposed = tuple(
            getattr(conv, kind)
            for kind in ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
            if hasattr(conv, kind)
        )
        dim = 1 if transposed and isinstance(module, transposed) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module
