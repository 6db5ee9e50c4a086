import copy
import functools
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_module, state_dict_to_ember

MODULES = [ember, torch]


@functools.cache
def affine_class(m):
    """A tiny Linear-like layer, defined identically on top of ember and torch."""

    class Affine(m.nn.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.i, self.o = i, o
            self.weight = m.nn.Parameter(m.randn(o, i))
            if bias:
                self.bias = m.nn.Parameter(m.randn(o))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.t()
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"i={self.i}, o={self.o}, bias={self.bias is not None}"

    return Affine


@functools.cache
def tanh_class(m):
    class Tanh(m.nn.Module):
        def forward(self, x):
            return m.tanh(x)

    return Tanh


def affine(m, i, o, bias=True):
    return affine_class(m)(i, o, bias)


def tanh(m):
    return tanh_class(m)()


def same_repr(e, t):
    assert repr(e).replace("ember.", "torch.") == repr(t)


# -- Sequential ----------------------------------------------------------------------------


def mlp(m):
    return m.nn.Sequential(affine(m, 4, 5), tanh(m), affine(m, 5, 3), m.nn.Identity())


def test_sequential_forward_and_grads():
    check_module(mlp, (6, 4))


def test_sequential_from_ordered_dict():
    def make(m):
        return m.nn.Sequential(
            OrderedDict([("fc1", affine(m, 4, 5)), ("act", tanh(m)), ("fc2", affine(m, 5, 2))])
        )

    e, t = check_module(make, (3, 4))
    assert list(e.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    same_repr(e, t)
    assert e.fc1 is e[0] and e.act is e[1]


def test_sequential_repr_and_empty():
    same_repr(mlp(ember), mlp(torch))
    same_repr(ember.nn.Sequential(), torch.nn.Sequential())
    x = ember.randn(2, 3)
    assert ember.nn.Sequential()(x) is x


@pytest.mark.parametrize("m", MODULES)
def test_sequential_indexing(m):
    layers = [affine(m, 2, 2) for _ in range(4)]
    seq = m.nn.Sequential(*layers)
    assert len(seq) == 4 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[3] and seq[-4] is layers[0]
    sub = seq[1:3]
    assert type(sub) is m.nn.Sequential and list(sub) == layers[1:3]
    assert list(sub.state_dict()) == ["1.weight", "1.bias", "2.weight", "2.bias"]  # keys kept
    assert list(seq[::2]) == layers[::2]
    with pytest.raises(IndexError, match="index 4 is out of range"):
        seq[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        seq[-5]
    with pytest.raises(TypeError):
        seq["0"]


def sequential_ops(m):
    """Run the same edits on a Sequential in both libraries; return (state_dict keys, layers)."""
    layers = [affine(m, 2, 2) for _ in range(7)]
    seq = m.nn.Sequential(*layers[:3])
    seq.append(layers[3])
    seq.extend([layers[4]])
    seq.insert(1, layers[5])
    seq.insert(-1, layers[6])
    seq[0] = tanh(m)
    del seq[2]
    del seq[-2:]
    popped = seq.pop(1)
    trace = [layers.index(x) if x in layers else "tanh" for x in seq]
    return list(seq.state_dict()), trace, layers.index(popped)


def test_sequential_edits_match_torch():
    assert sequential_ops(ember) == sequential_ops(torch)


@pytest.mark.parametrize("m", MODULES)
def test_sequential_add_mul(m):
    a, b = affine(m, 2, 2), affine(m, 2, 2)
    s1, s2 = m.nn.Sequential(a), m.nn.Sequential(b)
    s3 = s1 + s2
    assert list(s3) == [a, b] and list(s1) == [a]
    s1 += s2
    assert list(s1) == [a, b]
    s4 = s2 * 3
    assert list(s4) == [b, b, b] and list(s4._modules) == ["0", "1", "2"]
    assert list(2 * s2) == [b, b]
    s2 *= 2
    assert list(s2) == [b, b]
    assert len(list(s4.parameters())) == 2  # shared module, listed once
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        s1 + m.nn.ModuleList([a])
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        s2 * 0
    with pytest.raises(TypeError, match="unsupported operand type"):
        s2 * 1.5


@pytest.mark.parametrize("m", MODULES)
def test_sequential_insert_errors(m):
    seq = m.nn.Sequential(affine(m, 2, 2))
    with pytest.raises(IndexError, match="Index out of range: 3"):
        seq.insert(3, affine(m, 2, 2))
    with pytest.raises(AssertionError, match="module should be of type"):
        seq.insert(0, "relu")


def test_sequential_dir_hides_indices():
    assert "0" not in dir(mlp(ember)) and "append" in dir(mlp(ember))


# -- ModuleList -----------------------------------------------------------------------------


def module_list_ops(m):
    layers = [affine(m, 2, 2) for _ in range(7)]
    ml = m.nn.ModuleList(layers[:2])
    ml.append(layers[2])
    ml.extend(layers[3:4])
    ml += [layers[4]]
    ml.insert(0, layers[5])
    ml[1] = layers[6]
    ml[-1] = layers[4]
    del ml[2]
    popped = ml.pop(-2)
    both = ml + m.nn.ModuleList([layers[0]])
    return (
        list(ml.state_dict()),
        [layers.index(x) for x in ml],
        layers.index(popped),
        [layers.index(x) for x in both],
        [layers.index(x) for x in ml[1:]],
        type(ml[1:]).__name__,
    )


def test_module_list_matches_torch():
    assert module_list_ops(ember) == module_list_ops(torch)


@pytest.mark.parametrize("m", MODULES)
def test_module_list_errors(m):
    ml = m.nn.ModuleList([affine(m, 2, 2)])
    with pytest.raises(IndexError, match="index 1 is out of range"):
        ml[1]
    with pytest.raises(IndexError, match="index -2 is out of range"):
        ml[-2] = affine(m, 2, 2)
    with pytest.raises(TypeError, match=r"ModuleList\.extend should be called with an iterable"):
        ml.extend(affine(m, 2, 2))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        ml.append(3)


def test_module_list_repr_compresses_runs():
    def make(m):
        shared = affine(m, 3, 3)
        return m.nn.ModuleList(
            [shared, shared, affine(m, 3, 3), tanh(m), tanh(m), tanh(m), affine(m, 3, 2)]
        )

    same_repr(make(ember), make(torch))
    same_repr(ember.nn.ModuleList(), torch.nn.ModuleList())
    nested = [m.nn.ModuleList([m.nn.Sequential(tanh(m), affine(m, 2, 2))] * 2) for m in MODULES]
    same_repr(*nested)


def test_module_list_in_model_state_dict():
    def make(m):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = m.nn.ModuleList([affine(m, 3, 3) for _ in range(3)])
                self.head = affine(m, 3, 2)

            def forward(self, x):
                for block in self.blocks:
                    x = m.tanh(block(x))
                return self.head(x)

        return Net()

    e, t = check_module(make, (4, 3))
    same_repr(e, t)


# -- ModuleDict -----------------------------------------------------------------------------


def module_dict_ops(m):
    a, b, c, d = (affine(m, 2, 2) for _ in range(4))
    md = m.nn.ModuleDict({"b": a, "a": b})
    md["c"] = c
    md.update([("d", d), ("a", a)])
    md.update(OrderedDict(z=b))
    md.update(m.nn.ModuleDict({"y": c}))
    del md["b"]
    popped = md.pop("d")
    names = {id(x): n for n, x in zip("abcd", (a, b, c, d))}
    return (
        list(md.keys()),
        [names[id(v)] for v in md.values()],
        [(k, names[id(v)]) for k, v in md.items()],
        list(md),
        "a" in md,
        "b" in md,
        len(md),
        names[id(popped)],
        list(md.state_dict()),
    )


def test_module_dict_matches_torch():
    assert module_dict_ops(ember) == module_dict_ops(torch)


@pytest.mark.parametrize("m", MODULES)
def test_module_dict_errors_and_clear(m):
    md = m.nn.ModuleDict({"a": tanh(m)})
    with pytest.raises(TypeError, match=r"ModuleDict\.update should be called with an iterable"):
        md.update(3)
    with pytest.raises(TypeError, match="element #0 should be Iterable"):
        md.update([3])
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        md.update([("a", tanh(m), 1)])
    with pytest.raises(KeyError, match=r'contain "\.", got: a\.b'):
        md["a.b"] = tanh(m)
    with pytest.raises(KeyError):
        md["missing"]
    md.clear()
    assert len(md) == 0 and list(md.modules()) == [md]


def test_module_dict_repr():
    def make(m):
        return m.nn.ModuleDict({"act": tanh(m), "fc": affine(m, 3, 4)})

    same_repr(make(ember), make(torch))


# -- ParameterList / ParameterDict ----------------------------------------------------------


def test_parameter_list():
    for m in MODULES:
        arrays = [np.ones((2, 3), np.float32), np.zeros(4, np.float32)]
        pl = m.nn.ParameterList([m.tensor(a) for a in arrays])
        pl.append(m.nn.Parameter(m.ones(1), requires_grad=False))
        pl.extend([m.zeros(2, 2)])
        pl += ["not a tensor"]
        assert len(pl) == 5
        assert all(isinstance(pl[i], m.nn.Parameter) for i in range(4))
        assert pl[0].requires_grad and not pl[2].requires_grad
        assert pl[-1] == "not a tensor"
        assert list(pl.state_dict()) == ["0", "1", "2", "3"]
        assert len(list(pl.parameters())) == 4
        assert type(pl[1:3]).__name__ == "ParameterList" and len(pl[1:3]) == 2
        assert pl[1:3][0] is pl[1]
        pl[0] = m.ones(5)
        assert isinstance(pl[0], m.nn.Parameter) and tuple(pl[0].shape) == (5,)
        with pytest.raises(IndexError, match="index 5 is out of range"):
            pl[5]
        with pytest.raises(TypeError, match=r"ParameterList\.extend should be called with an"):
            pl.extend(m.ones(3))
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            pl(1)


def test_parameter_list_repr():
    def make(m):
        return m.nn.ParameterList(
            [m.nn.Parameter(m.zeros(3, 4)), m.zeros(2, dtype=m.float64), "text", 3]
        )

    same_repr(make(ember), make(torch))
    same_repr(ember.nn.ParameterList(), torch.nn.ParameterList())


def parameter_dict_ops(m):
    pd = m.nn.ParameterDict({"b": m.ones(2), "a": m.nn.Parameter(m.zeros(3))})  # sorted
    pd["c"] = m.ones(1)
    pd.update([("e", m.ones(4)), ("d", m.ones(5))])  # order kept
    pd.update(OrderedDict(g=m.ones(1), f=m.ones(1)))
    pd.setdefault("h", m.ones(2))
    pd.setdefault("a", m.ones(7))
    popped = pd.pop("c")
    last = pd.popitem()
    copied = pd.copy()
    merged = pd | m.nn.ParameterDict({"z": m.ones(1)})
    pd |= m.nn.ParameterDict({"y": m.ones(1)})
    del pd["g"]
    return (
        list(pd.keys()),
        [tuple(v.shape) for v in pd.values()],
        [(k, type(v).__name__) for k, v in pd.items()],
        list(reversed(pd)),
        list(pd.state_dict()),
        tuple(popped.shape),
        last[0],
        list(copied),
        list(merged),
        pd.get("nope", 5),
        tuple(pd.get("a").shape),
        "a" in pd,
        list(pd.fromkeys(["p", "q"])),
    )


def test_parameter_dict_matches_torch():
    assert parameter_dict_ops(ember) == parameter_dict_ops(torch)


@pytest.mark.parametrize("m", MODULES)
def test_parameter_dict_errors(m):
    pd = m.nn.ParameterDict()
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        pd[1]
    with pytest.raises(TypeError, match="update should be called with an iterable"):
        pd.update(3)
    with pytest.raises(ValueError, match="has length 1; 2 is required"):
        pd.update([("a",)])
    with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
        pd(1)
    with pytest.raises(KeyError):
        pd.popitem()
    pd["a"] = m.ones(2)
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []


def test_parameter_dict_repr():
    def make(m):
        return m.nn.ParameterDict(
            {"w": m.nn.Parameter(m.zeros(3, 4)), "v": m.zeros(2, dtype=m.float64), "s": "x"}
        )

    same_repr(make(ember), make(torch))


def test_parameter_containers_in_model():
    def make(m):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.ws = m.nn.ParameterList([m.randn(3, 3), m.randn(3, 3)])
                self.bs = m.nn.ParameterDict({"first": m.randn(3), "second": m.randn(3)})

            def forward(self, x):
                x = x @ self.ws[0] + self.bs["first"]
                return m.tanh(x) @ self.ws[1] + self.bs["second"]

        return Net()

    e, t = check_module(make, (4, 3))
    same_repr(e, t)
    clone = copy.deepcopy(e)
    assert list(clone.state_dict()) == list(e.state_dict())
    assert clone.ws[0] is not e.ws[0]
    assert_same(clone(ember.ones(2, 3)), t(torch.ones(2, 3)))


# -- Identity / Flatten / Unflatten ---------------------------------------------------------


def test_identity():
    x = ember.randn(3, 4)
    assert ember.nn.Identity(54, unused="x")(x) is x
    same_repr(ember.nn.Identity(1, 2), torch.nn.Identity(1, 2))
    assert list(ember.nn.Identity().state_dict()) == []


@pytest.mark.parametrize(
    "args, shape",
    [((), (2, 3, 4, 5)), ((0,), (2, 3, 4)), ((1, 2), (2, 3, 4, 5)), ((-3, -2), (2, 3, 4, 5))],
)
def test_flatten(args, shape):
    check_module(lambda m: m.nn.Flatten(*args), shape)
    same_repr(ember.nn.Flatten(*args), torch.nn.Flatten(*args))


def test_flatten_noncontiguous():
    check_module(
        lambda m: m.nn.Flatten(), (3, 4, 5), call=lambda layer, x: layer(x.transpose(0, 2))
    )


@pytest.mark.parametrize(
    "dim, size, shape",
    [(1, (2, 3), (4, 6)), (-1, [2, 2, 2], (3, 8)), (0, (2, -1), (6, 5)), (1, (4,), (2, 4, 3))],
)
def test_unflatten(dim, size, shape):
    check_module(lambda m: m.nn.Unflatten(dim, size), shape)
    same_repr(ember.nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size))


@pytest.mark.parametrize("m", MODULES)
def test_unflatten_errors(m):
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type"):
        m.nn.Unflatten(1, 4)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        m.nn.Unflatten(1, (2, 2.0))


def test_flatten_in_sequential_state_dict_roundtrip():
    def make(m):
        return m.nn.Sequential(m.nn.Flatten(), affine(m, 12, 3), m.nn.Unflatten(1, (3, 1)))

    e, t = check_module(make, (2, 3, 4))
    same_repr(e, t)
    t.load_state_dict({k: torch.tensor(np.asarray(v.data)) for k, v in e.state_dict().items()})
    e.load_state_dict(state_dict_to_ember(t.state_dict()))
