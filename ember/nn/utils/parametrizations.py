"""orthogonal, weight_norm and spectral_norm parametrizations. Mirrors ``parametrizations``.

All register through ``parametrize.register_parametrization``, so the state_dict keys are
PyTorch's: ``parametrizations.weight.original0`` (g) and ``original1`` (v) for weight_norm;
``parametrizations.weight.original`` and ``parametrizations.weight.0._u`` / ``._v`` for
spectral_norm; ``parametrizations.weight.original`` and ``parametrizations.weight.0.base``
for orthogonal.
"""

from __future__ import annotations

from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import finfo
from ember.linalg.decompositions import solve
from ember.nn import conv
from ember.nn.module import Module
from ember.nn.utils import parametrize
from ember.ops.combine import clamp_min, where
from ember.ops.comparison import allclose
from ember.ops.creation import empty, zeros_like
from ember.ops.interop_extras import geqrf
from ember.ops.join import cat
from ember.ops.linalg import mv, vdot
from ember.ops.matrix_functions import householder_product, matrix_exp
from ember.ops.norms import vector_norm
from ember.ops.random import randn
from ember.ops.ranges import eye
from ember.tensor import Tensor

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _normalize(x: Tensor, eps: float) -> Tensor:
    """Return x / max(||x||_2, eps) along dim 0, as ``F.normalize(x, dim=0, eps=eps)``."""
    return x / clamp_min(vector_norm(x, 2, 0, True), eps)


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm over every dim but dim, kept as size-1 dims; dim=-1 means the whole tensor."""
    if dim == -1:
        return vector_norm(v, 2)
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return vector_norm(v, 2, others, True) if others else v.abs()  # 1-d: each entry alone


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


# -- orthogonal -------------------------------------------------------------------------------
_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(q: Tensor) -> bool:
    """Whether q^T q = I up to 10 n eps (q is (..., n, k), n >= k)."""
    n, k = q.shape[-2], q.shape[-1]
    ident = eye(k, dtype=q.dtype, device=q.device)
    return allclose(q.mT @ q, ident, atol=10.0 * n * finfo(q.dtype).eps)


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of a = QR (a tall) with diag(R) made non-negative."""
    x, tau = geqrf(a)
    q = householder_product(x, tau)
    return q * x.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _Orthogonal(Module):
    """Q = map(X) (times ``base`` with the dynamic trivialization), orthonormal columns or rows."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is now tall: n >= k
        if self.orthogonal_map == "householder":
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = householder_product(A, tau)
            # The diagonal of X holds +-1; as ints it is a constant (no gradient, never updated).
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        else:
            # Only n k - k (k - 1) / 2 parameters are used: the lower triangle.
            X = X.tril()
            if n != k:  # embed into a square matrix
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^-1
                ident = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(ident - 0.5 * A, ident + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if Q.shape != self.shape:
            raise ValueError(
                f"Expected a matrix or batch of matrices of shape {self.shape}. "
                f"Got a tensor of shape {Q.shape}."
            )
        q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if not hasattr(self, "base"):
            if self.orthogonal_map != "householder":
                raise NotImplementedError(
                    "It is not possible to assign to the matrix exponential "
                    "or the Cayley parametrizations when use_trivialization=False."
                )
            # Reflectors of Q = QR with diag(R) > 0; the diagonal keeps the signs (flipped where
            # LAPACK skipped a reflection, tau == 0).
            A, tau = geqrf(Q)
            diag = A.diagonal(dim1=-2, dim2=-1)
            signs = diag.sign()
            diag.copy_(where(tau == 0.0, -signs, signs))
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q into a full n x n orthogonal matrix
            N = randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(cat([Q, N], dim=-1))
        self.base = Q
        # -I, as householder(zeros(m, n)) == eye(m, n) then.
        neg_id = zeros_like(q_init)
        neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
        return neg_id


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Reparametrize module.name as an orthogonal matrix. Mirrors ``parametrizations.orthogonal``.

    The weight (m, n), or a batch (..., m, n), gets orthonormal columns when m >= n and
    orthonormal rows otherwise. ``orthogonal_map`` is ``"matrix_exp"`` (default for square
    matrices), ``"cayley"`` or ``"householder"`` (default otherwise). With
    ``use_trivialization`` an extra n x n orthogonal matrix is kept in the buffer
    ``parametrizations.<name>.0.base`` and Q = base @ map(X). The initial value is the weight
    itself if orthogonal, else the Q of its QR decomposition.

    Differences from PyTorch: complex weights are not supported (Ember has no complex dtypes);
    when completing a rectangular weight into ``base`` the random columns come from Ember's
    generator, so they differ from PyTorch's for the same seed.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
