"""ember.autograd.graph (saved-tensor hooks, multi-grad hooks, Node, Variable) against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from ember.autograd import function as _function
from ember.autograd import graph as ember_graph
from ember.autograd.function import TensorFunction
from ember.autograd.graph import (
    Node,
    Variable,
    disable_saved_tensors_hooks,
    saved_tensors_hooks,
    set_multithreading_enabled,
)
from tests.helpers import assert_same

MODS = pytest.mark.parametrize("m", [ember, torch], ids=["ember", "torch"])


def _graph(m):
    """The graph namespace of m: Ember's module or torch.autograd.graph."""
    return ember_graph if m is ember else torch.autograd.graph


@pytest.fixture(autouse=True)
def _no_leftover_hooks():
    yield
    assert not _function._saved_hooks


class Counter:
    """pack/unpack hooks that count calls and keep what they saw."""

    def __init__(self, m, pack=None, unpack=None):
        self.m, self.packed, self.unpacked = m, [], []
        self._pack, self._unpack = pack, unpack

    def pack(self, t):
        self.packed.append(t)
        return self._pack(t) if self._pack else t

    def unpack(self, p):
        self.unpacked.append(p)
        return self._unpack(p) if self._unpack else p

    def hooks(self):
        return _graph(self.m).saved_tensors_hooks(self.pack, self.unpack)


def _inputs(seed=0, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2, shape).astype(np.float32), rng.uniform(0.5, 2, shape).astype(
        np.float32
    )


OPS = {
    "mul": lambda m, x, y: x * y,
    "div": lambda m, x, y: x / y,
    "exp": lambda m, x, y: x.exp(),
    "tanh": lambda m, x, y: x.tanh(),
    "sigmoid": lambda m, x, y: x.sigmoid(),
    "sin": lambda m, x, y: x.sin(),
    "log": lambda m, x, y: x.log(),
    "sqrt": lambda m, x, y: x.sqrt(),
    "matmul_T": lambda m, x, y: x @ y.T,
    "softmax": lambda m, x, y: m.softmax(x[:, 1:], 1),
    "add": lambda m, x, y: x + y,
    "sum": lambda m, x, y: x.sum(0),
}


@pytest.mark.parametrize("name", list(OPS))
def test_pack_unpack_counts_and_grads_match_torch(name):
    a, b = _inputs()
    results, counts = [], []
    for m in (ember, torch):
        counter = Counter(m)
        x = m.tensor(a, requires_grad=True)
        y = m.tensor(b, requires_grad=True) * 2  # a non-leaf input
        with counter.hooks():
            out = OPS[name](m, x, y)
        assert len(counter.unpacked) == 0
        out.sum().backward()
        counts.append((len(counter.packed), len(counter.unpacked)))
        results.append((out, x.grad))
    assert counts[0] == counts[1]
    assert_same(results[0], results[1])


@MODS
def test_docs_example_packs_leaf_and_nonleaf(m):
    a = m.ones(5, requires_grad=True)
    b = m.ones(5, requires_grad=True) * 2
    counter = Counter(m)
    with counter.hooks():
        y = a * b
    packed_values = sorted(float(t.detach().sum()) for t in counter.packed)
    assert packed_values == [5.0, 10.0]
    y.sum().backward()
    assert len(counter.unpacked) == 2
    assert a.grad.tolist() == [2.0] * 5


@MODS
def test_custom_function_saves_input_and_output(m):
    base = TensorFunction if m is ember else torch.autograd.Function

    class Exp(base):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(x, out)
            return out

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            x2, _ = ctx.saved_tensors  # each read unpacks again
            return g * out + 0 * x * x2

    x = m.tensor([0.5, 1.0, -1.0], requires_grad=True)
    counter = Counter(m)
    with counter.hooks():
        y = Exp.apply(x)
    assert len(counter.packed) == 2
    y.sum().backward()
    assert len(counter.unpacked) == 4
    assert np.allclose(np.asarray(x.grad.tolist()), np.exp([0.5, 1.0, -1.0]), rtol=1e-6)


def test_pack_to_numpy_round_trip_and_double_backward():
    """A pack hook may return any object; the unpacked tensor keeps its place in the graph."""
    a, _ = _inputs(1, (2, 3))
    results = []
    for m in (ember, torch):
        to_tensor = (lambda p: ember.tensor(p)) if m is ember else torch.from_numpy
        counter = Counter(
            m, pack=lambda t: np.array(t.detach().tolist(), np.float32), unpack=to_tensor
        )
        x = m.tensor(a, requires_grad=True)
        h = x * 1.5
        with counter.hooks():
            y = (h * x).exp().tanh()
        assert counter.packed and all(not isinstance(p, np.ndarray) for p in counter.packed)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)
        assert counter.unpacked
        results.append((y, g, gg))
    assert_same(results[0], results[1], rtol=1e-4, atol=1e-5)


def test_grads_unchanged_by_hooks_on_a_chain():
    a, b = _inputs(2)
    grads = []
    for use_hooks in (False, True):
        x = ember.tensor(a.T, requires_grad=True)  # non-contiguous
        w = ember.tensor(b[:, 1:], requires_grad=True)
        counter = Counter(ember, pack=lambda t: t.detach().clone())
        if use_hooks:
            with counter.hooks():
                y = ((x[1:] @ w).sigmoid() * x[1:, :3].log()).mean()
            assert counter.packed
        else:
            y = ((x[1:] @ w).sigmoid() * x[1:, :3].log()).mean()
        grads.append(ember.autograd.grad(y, (x, w)))
    for g0, g1 in zip(*grads):
        np.testing.assert_array_equal(g0.data, g1.data)


@MODS
def test_hooks_only_inside_the_block_and_not_without_grad(m):
    x = m.ones(3, requires_grad=True)
    counter = Counter(m)
    with counter.hooks():
        with m.no_grad():
            x.exp()
        m.ones(3).exp()  # nothing requires grad: nothing saved
    assert counter.packed == []
    x.exp().sum().backward()
    assert counter.packed == [] and counter.unpacked == []


@MODS
def test_only_innermost_hooks_apply(m):
    x = m.ones(3, requires_grad=True)
    outer, inner = Counter(m), Counter(m)
    with outer.hooks():
        with inner.hooks():
            y = x.exp()
        z = x.sin()
    assert len(inner.packed) == 1 and len(outer.packed) == 1
    (y + z).sum().backward()
    assert len(inner.unpacked) == 1 and len(outer.unpacked) == 1


@MODS
def test_unpack_must_return_a_tensor(m):
    x = m.ones(2, requires_grad=True)
    with _graph(m).saved_tensors_hooks(lambda t: 1, lambda p: 5):
        y = x.exp()
    with pytest.raises(
        TypeError,
        match="Output of saved tensor unpack_hook expected to be a Tensor but got result of "
        "type int",
    ):
        y.sum().backward()


@MODS
def test_no_version_check_on_hooked_tensors(m):
    # PyTorch does not check versions of tensors saved through hooks: the hooks own them.
    x = m.ones(2, requires_grad=True)
    with _graph(m).saved_tensors_hooks(lambda t: t, lambda p: p):
        y = x.exp()
    with m.no_grad():
        y.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad.tolist()), [np.e + 1] * 2, rtol=1e-6)
    x2 = m.ones(2, requires_grad=True)
    y2 = x2.exp()  # without hooks the change is caught
    with m.no_grad():
        y2.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.sum().backward()


@MODS
def test_save_on_cpu_keeps_gradients(m):
    a, b = _inputs(3)
    x = m.tensor(a, requires_grad=True)
    w = m.tensor(b, requires_grad=True)
    with _graph(m).save_on_cpu(pin_memory=False):
        y = (x * w).tanh().sum()
    y.backward()
    expected = (1 - np.tanh(a * b) ** 2) * b
    np.testing.assert_allclose(np.asarray(x.grad.tolist()), expected, rtol=1e-5, atol=1e-6)


@MODS
def test_disable_saved_tensors_hooks(m):
    graph = _graph(m)
    with graph.disable_saved_tensors_hooks("hooks are off here"):
        hooks = graph.saved_tensors_hooks(lambda t: t, lambda p: p)
        with pytest.raises(RuntimeError, match=r"^hooks are off here$"), hooks:
            pass
        with pytest.raises(RuntimeError, match=r"^hooks are off here$"), graph.save_on_cpu():
            pass
        inner = graph.disable_saved_tensors_hooks("inner message")
        with inner, pytest.raises(RuntimeError, match=r"^inner message$"), graph.save_on_cpu():
            pass
        with pytest.raises(RuntimeError, match=r"^hooks are off here$"), graph.save_on_cpu():
            pass
    x = m.ones(2, requires_grad=True)
    counter = Counter(m)
    with counter.hooks():  # allowed again
        x.exp()
    assert len(counter.packed) == 1


@MODS
def test_disable_while_hooks_are_active_raises(m):
    graph = _graph(m)
    hooks = graph.saved_tensors_hooks(lambda t: t, lambda p: p)
    disable = graph.disable_saved_tensors_hooks("no hooks please")
    with hooks, pytest.raises(RuntimeError, match=r"^no hooks please$"), disable:
        pass


def test_disable_as_decorator():
    @disable_saved_tensors_hooks("decorated")
    def body():
        with saved_tensors_hooks(lambda t: t, lambda p: p):
            pass

    with pytest.raises(RuntimeError, match=r"^decorated$"):
        body()
    with saved_tensors_hooks(lambda t: t, lambda p: p):
        pass


@MODS
def test_multi_grad_hook_all_mode_docs_example(m):
    a = m.rand(2, 3, requires_grad=True)
    b = m.rand(2, 3, requires_grad=True)
    c = a * b
    d = a * b
    seen = []
    _graph(m).register_multi_grad_hook(
        (a, b, c, d), lambda gs: seen.append([g is not None for g in gs])
    )
    c.sum().backward(retain_graph=True)
    c.sum().backward(inputs=(a,), retain_graph=True)
    (c + d).sum().backward(retain_graph=True)
    assert seen == [[True, True, True, False], [True, False, True, False], [True] * 4]


def test_multi_grad_hook_values_and_remove():
    rng = np.random.default_rng(4)
    a0, b0 = (
        rng.standard_normal((2, 3)).astype(np.float32),
        rng.standard_normal(3).astype(np.float32),
    )
    got = {}
    for m in (ember, torch):
        a = m.tensor(a0, requires_grad=True)
        b = m.tensor(b0, requires_grad=True)
        h = (a * b).sin()
        calls: list = []
        handle = _graph(m).register_multi_grad_hook((a, b, h), calls.append)
        (h * h).sum().backward(retain_graph=True)
        assert len(calls) == 1
        got[m] = calls[0]
        handle.remove()
        (h * h).sum().backward()
        assert len(calls) == 1
    assert_same(tuple(got[ember]), tuple(got[torch]))


@MODS
def test_multi_grad_hook_any_mode(m):
    a = m.ones(2, requires_grad=True)
    b = m.ones(2, requires_grad=True)
    seen = []
    _graph(m).register_multi_grad_hook((a, b), lambda g: seen.append(g), mode="any")
    (a * 2 + b * 3).sum().backward()
    assert len(seen) == 1
    assert float(seen[0].sum()) in (4.0, 6.0)
    (a * 5).sum().backward()
    assert len(seen) == 2
    assert float(seen[1].sum()) == 10.0


@MODS
def test_multi_grad_hook_bad_mode(m):
    x = m.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"Expects mode to be one of \('all', 'any'\) but got x"):
        _graph(m).register_multi_grad_hook((x,), print, mode="x")


@MODS
def test_node_is_the_type_of_grad_fn(m):
    x = m.ones(2, requires_grad=True)
    assert isinstance((x * 2).grad_fn, _graph(m).Node)
    assert not isinstance(x, _graph(m).Node)
    assert x.grad_fn is None


def test_node_export():
    assert isinstance((ember.ones(2, requires_grad=True).exp()).grad_fn, Node)


@MODS
def test_variable(m):
    variable = Variable if m is ember else torch.autograd.Variable
    x = m.ones(2)
    v = variable(x)
    assert v is not x and not v.requires_grad
    v.data[0] = 5  # shares memory
    assert float(x[0]) == 5.0
    y = m.ones(2, requires_grad=True) * 2
    v = variable(y)
    assert v.grad_fn is None and not v.requires_grad
    v = variable(x, requires_grad=True)
    assert v.requires_grad and not x.requires_grad and v.grad_fn is None
    assert isinstance(x, variable) and isinstance(y, variable)
    assert not isinstance([1.0], variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        variable([1.0])


@MODS
def test_set_multithreading_enabled_is_a_context_manager(m):
    setter = set_multithreading_enabled if m is ember else torch.autograd.set_multithreading_enabled
    x = m.ones(3, requires_grad=True)
    with setter(False):
        (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0] * 3

    @setter(True)
    def run():
        return 7

    assert run() == 7


@MODS
def test_saved_integer_output_round_trips(m):
    base = TensorFunction if m is ember else torch.autograd.Function

    class ArgmaxScale(base):
        @staticmethod
        def forward(ctx, x):
            idx = x.argmax(1)
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            (idx,) = ctx.saved_tensors
            assert not idx.requires_grad and idx.dtype == m.int64
            return g * 2

    x = m.tensor([[0.5, 1.0, -1.0], [2.0, 0.0, 1.0]], requires_grad=True)
    counter = Counter(m)
    with counter.hooks():
        y, _ = ArgmaxScale.apply(x)
    assert len(counter.packed) == 1 and counter.packed[0].tolist() == [1, 0]
    y.sum().backward()
    assert len(counter.unpacked) == 1
    assert x.grad.tolist() == [[2.0] * 3] * 2
