import copy
import functools

import numpy as np
import pytest
import torch

import ember
from tests.helpers import assert_same, check_module, state_dict_to_ember

MODULES = [ember, torch]


@functools.cache
def classes(m):
    """Small modules defined identically on top of ember and torch."""

    class Leaf(m.nn.Module):
        def __init__(self, n=3):
            super().__init__()
            self.n = n
            self.weight = m.nn.Parameter(m.randn(n, n))
            self.bias = m.nn.Parameter(m.zeros(n))
            self.register_buffer("steps", m.zeros((), dtype=m.int64))
            self.register_buffer("cache", m.zeros(n), persistent=False)

        def forward(self, x):
            return x @ self.weight + self.bias

        def extra_repr(self):
            return f"n={self.n}"

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Leaf(3)
            self.block = m.nn.Sequential(Leaf(3), m.nn.Identity(), Leaf(3))
            self.shared = self.first
            self.scale = m.nn.Parameter(m.ones(3))
            self.register_buffer("running", m.zeros(3))

        def forward(self, x):
            return m.tanh(self.shared(self.block(self.first(x)))) * self.scale

    class TwoLines(m.nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    return Leaf, Net, TwoLines


def net(m):
    return classes(m)[1]()


def names(pairs):
    return [name for name, _ in pairs]


def state_dict_from(t_model):
    return state_dict_to_ember(t_model.state_dict())


# -- registration ---------------------------------------------------------------------------


@pytest.mark.parametrize("m", MODULES)
def test_registration_errors(m):
    leaf = classes(m)[0]()
    with pytest.raises(TypeError, match=r"as parameter 'weight' \(torch\.nn\.Parameter or None"):
        leaf.weight = m.ones(3, 3)
    with pytest.raises(TypeError, match=r"as child module 'block' \(torch\.nn\.Module or None"):
        model = net(m)
        model.block = m.ones(2)
    with pytest.raises(TypeError, match=r"as buffer 'steps' \(torch\.(nn\.Buffer, torch\.)?Tensor"):
        leaf.steps = 3
    with pytest.raises(KeyError, match=r'parameter name can.{1,2}t contain "\."'):
        leaf.register_parameter("a.b", None)
    with pytest.raises(KeyError, match=r'buffer name can.{1,2}t contain "\."'):
        leaf.register_buffer("a.b", None)
    with pytest.raises(KeyError, match=r'module name can.{1,2}t contain "\."'):
        leaf.add_module("a.b", None)
    with pytest.raises(KeyError, match=r'parameter name can.{1,2}t be empty string ""'):
        leaf.register_parameter("", None)
    with pytest.raises(TypeError, match="parameter name should be a string"):
        leaf.register_parameter(3, None)
    leaf.plain = 1
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        leaf.register_parameter("plain", None)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        leaf.register_buffer("weight", m.ones(1))
    with pytest.raises(KeyError, match="attribute 'bias' already exists"):
        leaf.add_module("bias", m.nn.Identity())
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'b'"):
        leaf.register_buffer("b", 3)
    with pytest.raises(TypeError, match="cannot assign 'int' object to parameter 'p'"):
        leaf.register_parameter("p", 3)
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        leaf.add_module("c", 3)
    with pytest.raises(AttributeError, match="object has no attribute 'missing'"):
        _ = leaf.missing


@pytest.mark.parametrize("m", MODULES)
def test_assign_before_init(m):
    class Early(m.nn.Module):
        def __init__(self):
            self.w = m.nn.Parameter(m.ones(1))

    class EarlyModule(m.nn.Module):
        def __init__(self):
            self.sub = m.nn.Identity()

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__"):
        EarlyModule()


def reassignments(m):
    """Assign, overwrite, set to None and delete entries; return what the module then holds."""
    leaf = classes(m)[0]()
    leaf.extra = m.nn.Parameter(m.ones(2))
    leaf.weight = m.nn.Parameter(m.ones(1))  # keeps its place in the order
    leaf.bias = None
    leaf.sub = m.nn.Identity()
    leaf.steps = m.ones(2)  # a plain tensor into a buffer slot stays a buffer
    leaf.cache = None
    leaf.register_buffer("late", m.ones(1), persistent=False)
    leaf.register_buffer("late", m.ones(1))  # re-registered as persistent
    del leaf.extra
    leaf.extra = 5  # a plain attribute now
    return (
        list(leaf._parameters.items()).__len__(),
        names(leaf.named_parameters()),
        names(leaf.named_buffers()),
        list(leaf.state_dict()),
        leaf.bias,
        leaf.extra,
        sorted(k for k in dir(leaf) if k in ("weight", "steps", "sub", "late", "extra")),
    )


def test_reassignment_matches_torch():
    assert reassignments(ember) == reassignments(torch)


# -- traversal ------------------------------------------------------------------------------


def traversal(m):
    model = net(m)
    model.block[2].weight = model.block[0].weight  # a shared parameter
    return (
        names(model.named_parameters()),
        names(model.named_parameters(remove_duplicate=False)),
        names(model.named_parameters(prefix="net", recurse=False)),
        names(model.named_buffers()),
        names(model.named_buffers(recurse=False)),
        names(model.named_children()),
        names(model.named_modules()),
        names(model.named_modules(remove_duplicate=False)),
        names(model.named_modules(prefix="root")),
        len(list(model.parameters())),
        len(list(model.buffers())),
        len(list(model.children())),
        len(list(model.modules())),
        list(model.state_dict()),
    )


def test_traversal_matches_torch():
    assert traversal(ember) == traversal(torch)


@pytest.mark.parametrize("m", MODULES)
def test_get_submodule_parameter_buffer(m):
    model = net(m)
    assert model.get_submodule("") is model
    assert model.get_submodule("block.2") is model.block[2]
    assert model.get_parameter("block.0.weight") is model.block[0].weight
    assert model.get_parameter("scale") is model.scale
    assert model.get_buffer("first.steps") is model.first.steps
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        model.get_submodule("block.nope")
    with pytest.raises(AttributeError, match=r"`scale` is not an nn\.Module"):
        model.get_submodule("scale")
    with pytest.raises(AttributeError, match=r"`steps` is not an nn\.Parameter"):
        model.get_parameter("first.steps")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        model.get_buffer("first.weight")


def apply_order(m):
    model = net(m)
    seen = []
    assert model.apply(lambda module: seen.append(type(module).__name__)) is model
    return seen


def test_apply_order_matches_torch():
    assert apply_order(ember) == apply_order(torch)


# -- modes and gradients --------------------------------------------------------------------


@pytest.mark.parametrize("m", MODULES)
def test_train_eval_propagate(m):
    model = net(m)
    assert model.training and all(mod.training for mod in model.modules())
    assert model.eval() is model
    assert not any(mod.training for mod in model.modules())
    model.block.train()
    assert model.block[0].training and not model.first.training and not model.training
    assert model.train() is model and all(mod.training for mod in model.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        model.train(1)


@pytest.mark.parametrize("m", MODULES)
def test_requires_grad_and_zero_grad(m):
    model = net(m)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.block.requires_grad_()
    assert [p.requires_grad for p in model.parameters()] == [False, False, False] + [True] * 4
    model.requires_grad_()
    model(m.ones(2, 3)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    model.zero_grad(set_to_none=False)
    assert all(p.grad is g and float(g.abs().sum()) == 0 for p, g in zip(model.parameters(), grads))
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


# -- dtype conversion -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "convert, dtype",
    [
        (lambda mod, m: mod.double(), "float64"),
        (lambda mod, m: mod.half(), "float16"),
        (lambda mod, m: mod.to(m.float64), "float64"),
        (lambda mod, m: mod.to(dtype=m.float16), "float16"),
        (lambda mod, m: mod.double().float(), "float32"),
        (lambda mod, m: mod.to("cpu", m.float64), "float64"),
    ],
)
def test_dtype_conversion_keeps_identity(convert, dtype):
    for m in MODULES:
        model = net(m)
        model(m.ones(2, 3)).sum().backward()
        params = list(model.parameters())
        assert convert(model, m) is model
        assert [p is q for p, q in zip(model.parameters(), params)] == [True] * len(params)
        assert all(str(p.dtype).endswith(dtype) for p in model.parameters())
        assert all(str(p.grad.dtype).endswith(dtype) for p in model.parameters())
        assert all(isinstance(p, m.nn.Parameter) and p.requires_grad for p in params)
        assert str(model.first.steps.dtype).endswith("int64")  # integer buffers untouched
        assert str(model.running.dtype).endswith(dtype)
        assert str(model.first.cache.dtype).endswith(dtype)


@pytest.mark.parametrize("m", MODULES)
def test_to_integer_dtype_refused(m):
    with pytest.raises(TypeError, match=r"nn\.Module\.to only accepts floating point or complex"):
        net(m).to(m.int32)


def test_converted_model_still_matches_torch():
    e, t = net(ember), net(torch)
    e.load_state_dict(state_dict_from(t))
    e.double()
    t.double()
    x = np.random.default_rng(0).standard_normal((4, 3))
    assert_same(e(ember.tensor(x)), t(torch.tensor(x)))


# -- state_dict and load_state_dict -----------------------------------------------------------


def test_state_dict_keys_values_and_sharing():
    e, t = net(ember), net(torch)
    e.load_state_dict(state_dict_from(t))
    e_sd, t_sd = e.state_dict(), t.state_dict()
    assert list(e_sd) == list(t_sd)
    for key in t_sd:
        assert_same(e_sd[key], t_sd[key])
    assert all(not v.requires_grad for v in e_sd.values())
    e_sd["scale"].data[0] = 7.0  # detached, but the same memory
    assert float(e.scale[0]) == 7.0
    kept = e.state_dict(keep_vars=True)
    assert kept["scale"] is e.scale and kept["first.steps"] is e.first.steps
    assert list(e.block.state_dict(prefix="pre.")) == list(t.block.state_dict(prefix="pre."))


def test_nested_real_layers_round_trip():
    def make(m):
        return m.nn.Sequential(
            m.nn.Linear(3, 4),
            m.nn.BatchNorm1d(4),
            m.nn.ReLU(),
            m.nn.Sequential(m.nn.Linear(4, 2), m.nn.Tanh()),
        )

    e, t = check_module(make, (5, 3))
    assert repr(e) == repr(t)
    t2 = make(torch)
    t2.load_state_dict({k: torch.tensor(np.asarray(v.data)) for k, v in e.state_dict().items()})
    for key, value in t2.state_dict().items():
        assert_same(e.state_dict()[key], value)


def load_errors(m):
    """Run failing loads; return their messages, and check the model did not change."""
    model = net(m)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    good = {k: v.clone() + 1 for k, v in model.state_dict().items()}
    messages = []
    bad_dicts = [
        {k: v for k, v in good.items() if k != "block.0.bias"},
        {**good, "extra.weight": m.ones(1), "zzz": m.ones(2)},
        {**good, "block.2.weight": m.ones(4, 3)},
        {k: v for k, v in {**good, "x": m.ones(1), "scale": m.ones(5)}.items() if k != "running"},
    ]
    for bad in bad_dicts:
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict(bad)
        messages.append(str(info.value))
    if m is ember:  # PyTorch copies the matching keys before it raises; Ember checks first
        for key, value in model.state_dict().items():
            assert bool((value == before[key]).all()), f"{key} changed by a failed load"
    return messages


def test_load_state_dict_errors_match_torch():
    e, t = load_errors(ember), load_errors(torch)
    assert [msg.replace("ember.", "torch.") for msg in e] == t


def test_load_state_dict_non_strict_and_assign():
    results = []
    for m in MODULES:
        model = net(m)
        partial = {"scale": m.full((3,), 2.0), "first.bias": m.ones(3), "unknown": m.ones(1)}
        result = model.load_state_dict(partial, strict=False)
        assert model.scale[1].item() == 2.0 and model.first.bias[0].item() == 1.0
        results.append((list(result.missing_keys), list(result.unexpected_keys)))
        scale = model.scale
        new = m.full((3,), 5.0)
        model.load_state_dict({**model.state_dict(), "scale": new}, assign=True)
        assert model.scale is not scale and isinstance(model.scale, m.nn.Parameter)
        assert model.scale.requires_grad and model.scale[0].item() == 5.0
        new[0] = 9.0  # assign=True keeps the given memory
        assert model.scale[0].item() == 9.0
        results.append(repr(model.load_state_dict(model.state_dict())))
    assert results[:2] == results[2:]
    assert results[1] == "<All keys matched successfully>"


@pytest.mark.parametrize("m", MODULES)
def test_load_state_dict_type_error(m):
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net(m).load_state_dict([1, 2])


# -- hooks ----------------------------------------------------------------------------------


def hook_trace(m):
    leaf = classes(m)[0]()
    with m.no_grad():
        leaf.weight.copy_(m.eye(3))
        leaf.bias.zero_()
    calls = []

    def pre_double(module, args):
        calls.append("pre_double")
        return (args[0] * 2,)

    def pre_single(module, args):
        calls.append("pre_single")
        return args[0] + 1  # a single value is wrapped into a tuple

    def pre_first(module, args):
        calls.append("pre_first")

    def pre_kwargs(module, args, kwargs):
        calls.append(("pre_kwargs", sorted(kwargs)))
        return args, kwargs

    def post_add(module, args, output):
        calls.append("post_add")
        return output + 100

    def post_kwargs(module, args, kwargs, output):
        calls.append(("post_kwargs", len(args)))

    x = m.ones(1, 3)
    h1 = leaf.register_forward_pre_hook(pre_double)
    h2 = leaf.register_forward_pre_hook(pre_single)
    h3 = leaf.register_forward_pre_hook(pre_first, prepend=True)
    h4 = leaf.register_forward_pre_hook(pre_kwargs, with_kwargs=True)
    h5 = leaf.register_forward_hook(post_add)
    h6 = leaf.register_forward_hook(post_kwargs, with_kwargs=True, prepend=True)
    outputs = [leaf(x).tolist()]
    h2.remove()
    h2.remove()  # a second remove does nothing
    h5.remove()
    outputs.append(leaf(x).tolist())
    for handle in (h1, h3, h4, h6):
        handle.remove()
    outputs.append(leaf(x).tolist())
    with leaf.register_forward_hook(post_add):
        outputs.append(leaf(x).tolist())
    outputs.append(leaf(x).tolist())
    return calls, outputs


def test_hooks_match_torch():
    assert hook_trace(ember) == hook_trace(torch)


# -- repr and copies ------------------------------------------------------------------------


def test_repr_matches_torch():
    for make in (net, lambda m: classes(m)[2](), lambda m: m.nn.Module()):
        assert repr(make(ember)) == repr(make(torch))

    def nested(m):
        outer = m.nn.Sequential(classes(m)[2](), m.nn.ModuleDict({"leaf": classes(m)[0](2)}))
        outer.add_module("none", None)
        return outer

    assert repr(nested(ember)) == repr(nested(torch))


def test_deepcopy():
    model = net(ember)
    model(ember.ones(2, 3)).sum().backward()
    clone = copy.deepcopy(model)
    assert clone.shared is clone.first  # sharing kept inside the copy
    for (name, p), (_, q) in zip(model.named_parameters(), clone.named_parameters()):
        assert p is not q and isinstance(q, ember.nn.Parameter) and q.requires_grad, name
        assert np.array_equal(p.data, q.data) and np.array_equal(p.grad.data, q.grad.data)
    assert list(clone.state_dict()) == list(model.state_dict())
    x = ember.ones(2, 3)
    assert np.array_equal(clone(x).data, model(x).data)
    with ember.no_grad():
        clone.scale.mul_(2)
    assert not np.array_equal(clone(x).data, model(x).data)
    assert set(clone.first._non_persistent_buffers_set) == {"cache"}


def test_forward_missing():
    for m in MODULES:
        with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
            m.nn.Module()(1)


def test_module_forward_and_grads_vs_torch():
    check_module(net, (4, 3))
