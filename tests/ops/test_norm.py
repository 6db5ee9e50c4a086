import math

import numpy as np
import pytest
import torch

import ember
from ember.ops import norms, scan, selection
from tests.helpers import check_gradcheck, check_op


@pytest.fixture(autouse=True, scope="module")
def _ops_exported():
    """Expose selection/scan/norms as ember.* while these tests run (no leak to other modules).

    TODO(lead): drop once ember/ops/__init__.py star-imports selection, scan and norms.
    """
    with pytest.MonkeyPatch.context() as patch:
        for module in (selection, scan, norms):
            for name in module.__all__:
                if not hasattr(ember.ops, name):
                    patch.setattr(ember.ops, name, getattr(module, name), raising=False)
                    patch.setattr(ember, name, getattr(module, name), raising=False)
        yield


SHAPE = (3, 4, 5)
ORDS = [2, 1, 3, 0.5, -1, math.inf, -math.inf, 0]


def _vector_norm(m):
    return m.linalg.vector_norm if m is torch else norms.vector_norm


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("dim", [None, 1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_vector_norm(ord, dim, keepdim):
    check_op(lambda m, x: _vector_norm(m)(x, ord, dim, keepdim), SHAPE)


def test_vector_norm_ties_noncontiguous_dtype():
    ties = np.random.default_rng(0).integers(-2, 3, (4, 5)).astype(np.float32)
    ties[ties == 0] = 1
    for ord in (math.inf, -math.inf):
        check_op(lambda m, x, o=ord: _vector_norm(m)(x, o, 1), inputs=[ties])
    check_op(lambda m, x: _vector_norm(m)(x.permute(1, 0)[1:], 2, 0), (4, 5))
    check_op(lambda m, x: _vector_norm(m)(x, 3, dtype=m.float64), (4, 5))


def test_norm_gradient_at_zero():
    a = np.zeros((2, 3), np.float32)
    a[1] = [1.0, -2.0, 0.0]
    for ord in (2, 1, 3, 1.5, math.inf):
        check_op(lambda m, x, o=ord: _vector_norm(m)(x, o, 1), inputs=[a])
    check_op(lambda m, x: x.norm(dim=1), inputs=[a])


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: x.norm(),
        lambda m, x: m.norm(x, "fro", 1, True),
        lambda m, x: m.norm(x, p="fro", dim=(0, 2)),
        lambda m, x: x.norm(1, dim=-1),
        lambda m, x: x.norm(p=math.inf, dim=(1, 2), keepdim=True),
        lambda m, x: m.norm(x, 3, dtype=m.float64),
        lambda m, x: x.norm(0.5),
    ],
)
def test_norm(call):
    check_op(call, SHAPE)


@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(ord, dim, keepdim):
    def fn(m, x):
        f = m.linalg.matrix_norm if m is torch else norms.matrix_norm
        return f(x, ord, dim, keepdim)

    check_op(fn, SHAPE)


def test_errors():
    i = ember.tensor([[1, 2], [3, 4]])
    with pytest.raises(RuntimeError, match=r"linalg\.vector_norm: Expected a floating point"):
        i.norm()
    with pytest.raises(RuntimeError, match="dtype should be floating point or complex"):
        norms.vector_norm(ember.tensor([1.0]), dtype=ember.int64)
    with pytest.raises(RuntimeError, match="must have at least 2 dimensions"):
        norms.matrix_norm(ember.tensor([1.0, 2.0]))
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        ember.tensor(np.ones((2, 2), np.float32)).norm(dim=2)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x: norms.vector_norm(x),
        lambda m, x: norms.vector_norm(x, 1, 1),
        lambda m, x: norms.vector_norm(x, 3, (0, 2), keepdim=True),
        lambda m, x: norms.vector_norm(x, 0.5, 2),
        lambda m, x: norms.vector_norm(x, math.inf, 1),
        lambda m, x: norms.vector_norm(x, -math.inf),
        lambda m, x: norms.matrix_norm(x, 1),
        lambda m, x: norms.matrix_norm(x, "fro"),
        lambda m, x: x.norm(2, 1),
    ],
)
def test_gradcheck(fn):
    rng = np.random.default_rng(0)  # distinct |x|, 0.25 apart: no ties in the inf-norms
    a = (rng.permutation(24) + 1) * 0.25 * rng.choice([-1, 1], 24)
    check_gradcheck(fn, inputs=[a.reshape(3, 4, 2)])


@pytest.mark.parametrize("p", ["nuc", 2, -2])
def test_spectral_matrix_norms_through_norm_and_matrix_norm(p):
    check_op(lambda m, x: m.norm(x, p=p, dim=(1, 2)), (2, 3, 4))
    check_op(lambda m, x: m.linalg.matrix_norm(x, ord=p, keepdim=True), (3, 3))
