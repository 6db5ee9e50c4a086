"""MultivariateNormal, parametrised by covariance, precision or a lower Cholesky factor."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ember import linalg, ops
from ember.distributions import constraints
from ember.distributions.distribution import Distribution
from ember.distributions.utils import lazy_property
from ember.tensor import Size, Tensor

__all__ = ["MultivariateNormal"]


def _tril_solve(L: Tensor, B: Tensor) -> Tensor:
    """Solve L X = B for lower-triangular L (batched, broadcasting); differentiable."""
    return linalg.solve(ops.tril(L), B)


def _batch_mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """Return x^T (L L^T)^-1 x over the last dim, broadcasting L's batch dims with x's."""
    n = x.shape[-1]
    batch = ops.broadcast_shapes(tuple(L.shape[:-2]), tuple(x.shape[:-1]))
    L = L.expand((*tuple(batch), n, n))
    x = x.expand((*tuple(batch), n))
    y = _tril_solve(L, x.unsqueeze(-1)).squeeze(-1)
    return y.pow(2).sum(-1)


def _eye_like(L: Tensor) -> Tensor:
    n = L.shape[-1]
    return ops.eye(n, dtype=L.dtype).expand(L.shape)


def _precision_to_scale_tril(P: Tensor) -> Tensor:
    """Lower Cholesky factor of P^-1, via the Cholesky factor of P with flipped axes."""
    Lf = linalg.cholesky(ops.flip(P, (-2, -1)))
    L_inv = ops.flip(Lf, (-2, -1)).transpose(-2, -1)
    return ops.tril(_tril_solve(L_inv, _eye_like(L_inv)))


class MultivariateNormal(Distribution):
    """The multivariate normal N(loc, Sigma). Mirrors ``torch.distributions.MultivariateNormal``.

    Exactly one of covariance_matrix, precision_matrix or scale_tril is given; the others are
    derived lazily from the (unbroadcast) lower Cholesky factor.
    """

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc: Tensor,
        covariance_matrix: Tensor | None = None,
        precision_matrix: Tensor | None = None,
        scale_tril: Tensor | None = None,
        validate_args: bool | None = None,
    ) -> None:
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = (covariance_matrix is not None) + (scale_tril is not None)
        if given + (precision_matrix is not None) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        if scale_tril is not None:
            matrix, name = scale_tril, "scale_tril"
        elif covariance_matrix is not None:
            matrix, name = covariance_matrix, "covariance_matrix"
        else:
            matrix, name = precision_matrix, "precision_matrix"
        if matrix.ndim < 2:
            raise ValueError(
                f"{name} matrix must be at least two-dimensional, with optional leading batch "
                "dimensions"
            )
        batch_shape = Size(ops.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand((*tuple(batch_shape), -1, -1)))
        self.loc = loc.expand((*tuple(batch_shape), -1))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        """Return a copy with batch dims expanded. Mirrors ``MultivariateNormal.expand``."""
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(cov_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        return (L @ L.transpose(-1, -2)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        L = self._unbroadcasted_scale_tril
        L_inv = _tril_solve(L, _eye_like(L))
        return (L_inv.transpose(-1, -2) @ L_inv).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = ops.randn(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        diag = ops.diagonal(self._unbroadcasted_scale_tril, dim1=-2, dim2=-1)
        return diag.log().sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        if len(self._batch_shape) == 0:
            return H
        return H.expand(self._batch_shape)
