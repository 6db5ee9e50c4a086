"""The autograd engine, grad modes, hooks, custom Functions and in-place checks, against PyTorch."""

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, to_numpy

RNG = np.random.default_rng(0)


def pair(*shape, dtype="float32", requires_grad=True):
    a = RNG.standard_normal(shape).astype(dtype)
    return (
        ember.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


def both(fn):
    """Run fn(m) for m in (ember, torch) and return both results."""
    return fn(ember), fn(torch)


# -- backward and grad -------------------------------------------------------------------


def test_backward_accumulates_into_leaves():
    (ex, tx), (ey, ty) = pair(3, 4), pair(4)
    for x, y in ((ex, ey), (tx, ty)):
        (x * y + x.tanh()).sum().backward()
        (x * x).mean().backward()  # a second graph: grads add up
    assert_same(ex.grad, tx.grad)
    assert_same(ey.grad, ty.grad)


def test_backward_with_gradient_argument():
    ex, tx = pair(2, 3)
    g = RNG.standard_normal((2, 3)).astype("float32")
    (ex.exp() * 2).backward(ember.tensor(g))
    (tx.exp() * 2).backward(torch.tensor(g))
    assert_same(ex.grad, tx.grad)


def test_backward_nonscalar_without_gradient_raises():
    ex, _ = pair(2, 3)
    with pytest.raises(
        RuntimeError, match="grad can be implicitly created only for scalar outputs"
    ):
        (ex * 2).backward()


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        ember.ones(2).sum().backward()


def test_grad_does_not_touch_dot_grad():
    ex, tx = pair(3)
    (eg,) = ember.autograd.grad((ex * ex).sum(), ex)
    (tg,) = torch.autograd.grad((tx * tx).sum(), tx)
    assert_same(eg, tg)
    assert ex.grad is None


def test_grad_multiple_outputs_and_inputs():
    (ex, tx), (ey, ty) = pair(3), pair(3)
    go = [RNG.standard_normal(3).astype("float32") for _ in range(2)]

    def run(m, x, y):
        outs = [x * y, (x + y).exp()]
        return m.autograd.grad(outs, [x, y], [m.tensor(g) for g in go])

    assert_same(run(ember, ex, ey), run(torch, tx, ty))


def test_grad_wrt_non_leaf():
    ex, tx = pair(3)

    def run(m, x):
        h = x * 3
        return m.autograd.grad((h.tanh() * h).sum(), h)

    assert_same(run(ember, ex), run(torch, tx))


def test_grad_unused_input():
    (ex, _), (ey, _) = pair(3), pair(3)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ember.autograd.grad((ex * 2).sum(), [ex, ey])
    gx, gy = ember.autograd.grad((ex * 2).sum(), [ex, ey], allow_unused=True)
    assert gy is None
    np.testing.assert_allclose(gx.data, 2.0)
    _, gz = ember.autograd.grad((ex * 2).sum(), [ex, ey], materialize_grads=True)
    np.testing.assert_allclose(gz.data, 0.0)


def test_grad_input_without_requires_grad_raises():
    ex, _ = pair(3)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.autograd.grad((ex * 2).sum(), ember.ones(3))


def test_backward_inputs_argument_limits_accumulation():
    (ex, tx), (ey, ty) = pair(3), pair(3)
    (ex * ey).sum().backward(inputs=[ex])
    (tx * ty).sum().backward(inputs=[tx])
    assert_same(ex.grad, tx.grad)
    assert ey.grad is None and ty.grad is None


def test_diamond_graph_sums_paths():
    ex, tx = pair(4)

    def run(m, x):
        a = x.exp()
        b = a * x
        c = a + b
        return m.autograd.grad((c * a).sum(), x)

    assert_same(run(ember, ex), run(torch, tx))


# -- retain_graph and freed buffers ------------------------------------------------------


def test_second_backward_without_retain_graph_raises():
    ex, _ = pair(3)
    y = (ex * ex).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    ex, tx = pair(3)
    ey, ty = (ex * ex).sum(), (tx * tx).sum()
    ey.backward(retain_graph=True)
    ey.backward()
    ty.backward(retain_graph=True)
    ty.backward()
    assert_same(ex.grad, tx.grad)


def test_saved_tensors_are_freed_after_backward():
    ex, _ = pair(3)
    y = ex.exp()
    node = y.grad_fn
    y.sum().backward()
    assert node._saved is None
    with pytest.raises(RuntimeError, match="after they have already been freed"):
        node.saved_tensors  # noqa: B018


# -- higher order ------------------------------------------------------------------------


def test_hessian_vector_product():
    ex, tx = pair(4, dtype="float64")
    v = RNG.standard_normal(4)

    def run(m, x):
        y = (x.tanh() * x * x).sum() + (x * x * x).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (hv,) = m.autograd.grad((g * m.tensor(v)).sum(), x)
        return hv

    assert_same(run(ember, ex), run(torch, tx), rtol=1e-10, atol=1e-12)


def test_gradient_penalty():
    """WGAN-GP style: the penalty on the input-gradient norm is itself differentiated."""
    a = RNG.standard_normal((5, 3)).astype("float32")
    w = RNG.standard_normal((3, 1)).astype("float32")

    def run(m):
        x = m.tensor(a, requires_grad=True)
        weight = m.tensor(w, requires_grad=True)
        out = (x @ weight).tanh().sum()
        (gx,) = m.autograd.grad(out, x, create_graph=True)
        penalty = (((gx * gx).sum(1) ** 0.5 - 1) ** 2).mean()
        penalty.backward()
        return weight.grad

    assert_same(*both(run), rtol=1e-4, atol=1e-6)


def test_third_derivative():
    ex, tx = pair(3, dtype="float64")

    def run(m, x):
        g = x
        y = (x.exp() * x).sum()
        for _ in range(3):
            (g,) = m.autograd.grad(y, x, create_graph=True)
            y = g.sum()
        return g

    assert_same(run(ember, ex), run(torch, tx), rtol=1e-10)


def test_second_derivative_through_broadcast():
    """d2/dy2 of sum(x*y*y) with y broadcast: needs SumTo/BroadcastTo to be differentiable."""
    (ex, tx), (ey, ty) = pair(3, 4, dtype="float64"), pair(4, dtype="float64")

    def run(m, x, y):
        (gy,) = m.autograd.grad((x * y * y).sum(), y, create_graph=True)
        return m.autograd.grad((gy * gy).sum(), [x, y])

    assert_same(run(ember, ex, ey), run(torch, tx, ty), rtol=1e-10)


def test_gradcheck_and_gradgradcheck():
    x = (
        ember.randn(3, dtype=ember.float64, requires_grad=True)
        if hasattr(ember, "randn")
        else (ember.tensor(RNG.standard_normal(3), requires_grad=True))
    )
    assert ember.autograd.gradcheck(lambda a: (a * a).tanh() * a.exp(), (x,))
    assert ember.autograd.gradgradcheck(lambda a: (a * a).tanh() * a.exp(), (x,))


def test_gradcheck_on_inputs_that_are_not_c_contiguous():
    base = ember.tensor(RNG.standard_normal((3, 4)))
    for x in (base.T, base[:, ::2], ember.tensor(np.asfortranarray(RNG.standard_normal((3, 4))))):
        x = x.detach().requires_grad_()
        assert ember.autograd.gradcheck(lambda a: (a * a).sin() * 2, (x,))
        assert ember.autograd.gradgradcheck(lambda a: (a * a).sin() * 2, (x,))


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, grad):
            return grad  # should be 2 x grad

    x = ember.tensor(RNG.standard_normal(3), requires_grad=True)
    assert not ember.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(Wrong.apply, (x,))


# -- grad modes --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["no_grad", "inference_mode"])
def test_no_grad_records_nothing(name):
    ex, tx = pair(3)
    for m, x in ((ember, ex), (torch, tx)):
        with getattr(m, name)():
            y = x * 2
        assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad_and_decorators():
    ex, _ = pair(3)
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        with ember.enable_grad():
            assert (ex * 2).requires_grad
    assert ember.is_grad_enabled()

    @ember.no_grad()
    def f(x):
        return x * 2

    assert not f(ex).requires_grad
    assert ember.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    ex, _ = pair(3)
    ember.set_grad_enabled(False)
    try:
        assert not (ex * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)
    with ember.set_grad_enabled(False):
        assert not (ex * 2).requires_grad
    assert (ex * 2).requires_grad


# -- hooks and retain_grad ----------------------------------------------------------------


def test_leaf_hook_replaces_gradient():
    (ex, tx) = pair(3)
    seen = []
    for x in (ex, tx):
        x.register_hook(lambda g: seen.append(to_numpy(g)) or g * 3)
        (x * x).sum().backward()
    assert_same(ex.grad, tx.grad)
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-6)


def test_non_leaf_hook_and_removal():
    ex, tx = pair(3)
    results = []
    for x in (ex, tx):
        h = x * 2
        handle = h.register_hook(lambda g: g * 10)
        (h * h).sum().backward(retain_graph=True)
        results.append(x.grad.clone())
        handle.remove()
        x.grad = None
        (h * h).sum().backward()
        results.append(x.grad)
    assert_same(results[0], results[2])
    assert_same(results[1], results[3])


def test_retain_grad():
    ex, tx = pair(2, 3)
    hs = []
    for x in (ex, tx):
        h = x.exp()
        h.retain_grad()
        assert h.retains_grad
        (h * h).sum().backward()
        hs.append(h.grad)
    assert_same(hs[0], hs[1])


def test_hook_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ember.ones(2).register_hook(lambda g: g)


# -- requires_grad rules -----------------------------------------------------------------


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.tensor([1, 2]).requires_grad_()
    ex, _ = pair(3)
    y = ex * 2
    assert not y.is_leaf and ex.is_leaf
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad_(False)
    assert y.detach().requires_grad is False
    assert y.detach().data is y.data


def test_int_outputs_are_not_differentiable():
    ex, _ = pair(3)
    assert not ex.to(ember.int64).requires_grad


# -- custom Function ---------------------------------------------------------------------


class Cube(ember.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


class TorchCube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_first_and_second_order():
    ex, tx = pair(4, dtype="float64")
    ey, ty = Cube.apply(ex, 2.0), TorchCube.apply(tx, 2.0)
    assert_same(ey, ty)
    assert "Cube" in ey.grad_fn.name()
    (eg,) = ember.autograd.grad(ey.sum(), ex, create_graph=True)
    (tg,) = torch.autograd.grad(ty.sum(), tx, create_graph=True)
    assert_same(eg, tg)
    assert_same(ember.autograd.grad(eg.sum(), ex), torch.autograd.grad(tg.sum(), tx))


class SplitMax(ember.autograd.Function):
    """Two outputs, the second non-differentiable: (x * 2, argmax-as-float mask)."""

    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        mask = (x > 0).to(ember.float32)
        ctx.mark_non_differentiable(mask)
        return x * 2, mask

    @staticmethod
    def backward(ctx, grad, grad_mask):
        assert grad_mask is None
        return grad * 2


def test_custom_function_mark_non_differentiable_and_materialize():
    ex, _ = pair(4)
    y, mask = SplitMax.apply(ex)
    assert y.requires_grad and not mask.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(ex.grad.data, 2.0)


def test_custom_function_wrong_gradient_count():
    class Bad(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    (ex, _), (ey, _) = pair(3), pair(3)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        Bad.apply(ex, ey).sum().backward()


# -- in place ----------------------------------------------------------------------------


def test_inplace_on_leaf_requiring_grad_raises():
    ex, _ = pair(3)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        ex.add_(1)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        ex[:2].mul_(2)
    with ember.no_grad():
        ex.add_(1)  # allowed, as in PyTorch (optimizers do this)


def test_modified_saved_tensor_raises():
    ex, _ = pair(3)
    a = ex * 2
    b = a * a
    a.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()


def test_modified_saved_output_raises():
    ex, _ = pair(3)
    y = ex.exp()
    y.mul_(2)  # exp saved its output
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


def test_inplace_history_matches_torch():
    def run(m, x, w):
        h = x * 1.5
        h.mul_(w)
        h.add_(w, alpha=2)
        h.exp_()
        return m.autograd.grad((h * h).sum(), [x, w])

    (ex, tx), (ew, tw) = pair(3, 4), pair(4)
    assert_same(run(ember, ex, ew), run(torch, tx, tw))


def test_inplace_through_views_matches_torch():
    def run(m, w):
        x = m.ones(2, 3) * 2.0
        x[0].mul_(w)
        v = x.T
        v[1].add_(w[:2] * w[:2])
        return x, m.autograd.grad((x * x).sum(), w)

    assert_same(*both(lambda m: run(m, m.tensor([1.0, 2.0, 3.0], requires_grad=True))))


def test_views_share_version_counter():
    x = ember.ones(2, 3)
    v = x.T
    assert v._version is x._version
    x.add_(1)
    assert v._version[0] == 1
    np.testing.assert_allclose(v.data, 2.0)


def test_inplace_dtype_rules():
    x = ember.tensor([1, 2])
    with pytest.raises(
        RuntimeError, match="result type Float can't be cast to the desired output type Long"
    ):
        x.add_(1.5)
    y = ember.tensor([1.0, 2.0])
    y.add_(ember.tensor([1.0, 1.0], dtype=ember.float64))
    assert y.dtype is ember.float32


def test_inplace_shape_error():
    x = ember.ones(3)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(ember.ones(2, 3))
