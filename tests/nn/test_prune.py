import math

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import ember
from ember.nn.utils import prune as eprune

PRUNE = {ember: eprune, torch: tprune}


def pair(make):
    """Build the layer in both libraries with identical (Ember's) weights."""
    e = make(ember)
    t = make(torch)
    t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in e.state_dict().items()})
    return e, t


def np_(x):
    return x.detach().numpy()


def assert_masks_equal(e, t, name="weight"):
    e_mask, t_mask = getattr(e, name + "_mask"), getattr(t, name + "_mask")
    assert e_mask.dtype.name == str(t_mask.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(np_(e_mask), np_(t_mask))


def assert_forward_and_grads_equal(e, t, *shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    e_out, t_out = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(np_(e_out), np_(t_out), rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(np.float32)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    for (e_name, e_p), (t_name, t_p) in zip(
        e.named_parameters(), t.named_parameters(), strict=True
    ):
        assert e_name == t_name
        np.testing.assert_allclose(np_(e_p.grad), np_(t_p.grad), rtol=1e-4, atol=1e-5)


def conv(m):
    return m.nn.Conv2d(3, 6, 3)


def linear(m):
    return m.nn.Linear(5, 4)


DETERMINISTIC = {
    "l1_float": (linear, lambda p, mod: p.l1_unstructured(mod, "weight", amount=0.3)),
    "l1_int": (conv, lambda p, mod: p.l1_unstructured(mod, "weight", amount=17)),
    "l1_zero": (linear, lambda p, mod: p.l1_unstructured(mod, "weight", amount=0)),
    "l1_all": (linear, lambda p, mod: p.l1_unstructured(mod, "weight", amount=1.0)),
    "l1_bias": (linear, lambda p, mod: p.l1_unstructured(mod, "bias", amount=2)),
    "ln2_dim0": (conv, lambda p, mod: p.ln_structured(mod, "weight", amount=2, n=2, dim=0)),
    "ln1_dim1": (conv, lambda p, mod: p.ln_structured(mod, "weight", amount=0.4, n=1, dim=1)),
    "lninf_last": (conv, lambda p, mod: p.ln_structured(mod, "weight", 1, n=math.inf, dim=-1)),
    "ln_neginf": (linear, lambda p, mod: p.ln_structured(mod, "weight", 2, n=-math.inf, dim=0)),
    "ln_fro": (linear, lambda p, mod: p.ln_structured(mod, "weight", 0.5, n="fro", dim=1)),
    "ln_zero": (linear, lambda p, mod: p.ln_structured(mod, "weight", 0, n=2, dim=1)),
    "identity": (linear, lambda p, mod: p.identity(mod, "weight")),
}


@pytest.mark.parametrize("case", sorted(DETERMINISTIC))
def test_deterministic_masks_match_torch(case):
    make, prune_fn = DETERMINISTIC[case]
    e, t = pair(make)
    assert prune_fn(eprune, e) is e
    prune_fn(tprune, t)
    name = "bias" if case == "l1_bias" else "weight"
    assert_masks_equal(e, t, name)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    np.testing.assert_array_equal(np_(getattr(e, name)), np_(getattr(t, name)))
    shape = (2, 3, 5, 5) if make is conv else (3, 5)
    assert_forward_and_grads_equal(e, t, *shape)


def test_custom_from_mask_matches_torch():
    e, t = pair(linear)
    mask = np.random.default_rng(2).integers(0, 2, (4, 5))
    eprune.custom_from_mask(e, "weight", mask=ember.tensor(mask))
    tprune.custom_from_mask(t, "weight", mask=torch.tensor(mask))
    assert_masks_equal(e, t)
    assert_forward_and_grads_equal(e, t, 3, 5)


def test_importance_scores_match_torch():
    e, t = pair(conv)
    scores = np.random.default_rng(3).standard_normal((6, 3, 3, 3)).astype(np.float32)
    eprune.l1_unstructured(e, "weight", amount=20, importance_scores=ember.tensor(scores))
    tprune.l1_unstructured(t, "weight", amount=20, importance_scores=torch.tensor(scores))
    assert_masks_equal(e, t)
    eprune.ln_structured(e, "weight", 2, n=1, dim=0, importance_scores=ember.tensor(scores))
    tprune.ln_structured(t, "weight", 2, n=1, dim=0, importance_scores=torch.tensor(scores))
    assert_masks_equal(e, t)


def test_iterative_pruning_composes_masks_like_torch():
    e, t = pair(conv)
    for m, mod in ((ember, e), (torch, t)):
        p = PRUNE[m]
        p.l1_unstructured(mod, "weight", amount=0.2)
        p.ln_structured(mod, "weight", amount=2, n=2, dim=0)
        p.l1_unstructured(mod, "weight", amount=10)
        p.ln_structured(mod, "weight", amount=1, n=1, dim=1)
    assert_masks_equal(e, t)
    (hook,) = e._forward_pre_hooks.values()
    assert isinstance(hook, eprune.PruningContainer) and len(hook) == 4
    assert [type(h).__name__ for h in hook] == [
        type(h).__name__ for h in next(iter(t._forward_pre_hooks.values()))
    ]
    assert isinstance(hook[0], eprune.L1Unstructured)
    assert list(e.state_dict()) == list(t.state_dict())
    assert_forward_and_grads_equal(e, t, 2, 3, 5, 5)


def test_global_unstructured_matches_torch():
    def make(m):
        return m.nn.Sequential(m.nn.Linear(6, 4), m.nn.ReLU(), m.nn.Linear(4, 3))

    e, t = pair(make)
    for m, net in ((ember, e), (torch, t)):
        p = PRUNE[m]
        p.l1_unstructured(net[2], "weight", amount=3)  # a pruned parameter keeps its mask
        params = [(net[0], "weight"), (net[0], "bias"), (net[2], "weight")]
        p.global_unstructured(params, pruning_method=p.L1Unstructured, amount=0.4)
    for i in (0, 2):
        assert_masks_equal(e[i], t[i])
    assert_masks_equal(e[0], t[0], "bias")
    assert list(e.state_dict()) == list(t.state_dict())
    assert_forward_and_grads_equal(e, t, 5, 6)


def test_global_unstructured_importance_scores_match_torch():
    e, t = pair(lambda m: m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Linear(4, 2)))
    scores = np.random.default_rng(4).standard_normal((4, 3)).astype(np.float32)
    for m, net in ((ember, e), (torch, t)):
        p = PRUNE[m]
        params = [(net[0], "weight"), (net[1], "weight")]
        p.global_unstructured(
            params,
            p.L1Unstructured,
            importance_scores={(net[0], "weight"): m.tensor(scores)},
            amount=7,
        )
    assert_masks_equal(e[0], t[0])
    assert_masks_equal(e[1], t[1])


def test_random_unstructured_counts_match_torch():
    e, t = pair(conv)
    for amount in (0.25, 11):
        eprune.random_unstructured(e, "weight", amount=amount)
        tprune.random_unstructured(t, "weight", amount=amount)
        e_mask, t_mask = np_(e.weight_mask), np_(t.weight_mask)
        assert set(np.unique(e_mask)) <= {0.0, 1.0}
        assert (e_mask == 0).sum() == (t_mask == 0).sum()
    np.testing.assert_array_equal(np_(e.weight), np_(e.weight_orig) * np_(e.weight_mask))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_random_structured_zeroes_whole_channels(dim):
    e, t = pair(conv)
    eprune.random_structured(e, "weight", amount=0.5, dim=dim)
    tprune.random_structured(t, "weight", amount=0.5, dim=dim)
    e_mask, t_mask = np_(e.weight_mask), np_(t.weight_mask)
    assert set(np.unique(e_mask)) <= {0.0, 1.0}
    other = tuple(d for d in range(4) if d != dim % 4)
    e_channels = e_mask.sum(axis=other)
    t_channels = t_mask.sum(axis=other)
    per_channel = e_mask.size // e_mask.shape[dim]
    assert set(np.unique(e_channels)) <= {0.0, float(per_channel)}  # whole slices
    assert (e_channels == 0).sum() == (t_channels == 0).sum()


def test_random_seeded_by_ember_generator():
    masks = []
    for _ in range(2):
        ember.manual_seed(7)
        mod = eprune.random_unstructured(ember.nn.Linear(6, 6), "weight", amount=0.5)
        masks.append(np_(mod.weight_mask))
    np.testing.assert_array_equal(*masks)


def test_remove_makes_pruning_permanent():
    e, t = pair(conv)
    for m, mod in ((ember, e), (torch, t)):
        p = PRUNE[m]
        p.l1_unstructured(mod, "weight", amount=0.5)
        p.l1_unstructured(mod, "bias", amount=2)
        assert p.is_pruned(mod)
        assert p.remove(mod, "weight") is mod
    assert list(e.state_dict()) == list(t.state_dict())
    assert isinstance(e.weight, ember.nn.Parameter) and e.weight.requires_grad
    np.testing.assert_array_equal(np_(e.weight), np_(t.weight))
    assert eprune.is_pruned(e)
    eprune.remove(e, "bias")
    tprune.remove(t, "bias")
    assert not eprune.is_pruned(e) and not e._forward_pre_hooks
    assert list(e.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    assert_forward_and_grads_equal(e, t, 2, 3, 5, 5)


def test_is_pruned_searches_submodules():
    net = ember.nn.Sequential(ember.nn.Linear(2, 2), ember.nn.Sequential(ember.nn.Linear(2, 2)))
    assert not eprune.is_pruned(net)
    eprune.identity(net[1][0], "bias")
    assert eprune.is_pruned(net)


def test_pruned_state_dict_loads_from_torch():
    e, t = pair(linear)
    eprune.l1_unstructured(e, "weight", amount=0.5)
    tprune.random_unstructured(t, "weight", amount=0.5)
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    x = np.ones((2, 5), np.float32)
    np.testing.assert_allclose(
        np_(e(ember.tensor(x))), np_(t(torch.tensor(x))), rtol=1e-5, atol=1e-6
    )


def test_mask_follows_updates_of_orig():
    e, t = pair(linear)
    for m, mod in ((ember, e), (torch, t)):
        PRUNE[m].l1_unstructured(mod, "weight", amount=8)
        with m.no_grad():
            mod.weight_orig.mul_(2.0)
    x = np.ones((1, 5), np.float32)
    np.testing.assert_allclose(np_(e(ember.tensor(x))), np_(t(torch.tensor(x))), rtol=1e-5)


def test_method_prune_matches_torch():
    x = np.random.default_rng(5).standard_normal((4, 6)).astype(np.float32)
    mask = np.ones((4, 6), np.float32)
    mask[0] = 0
    for amount in (5, 0.5):
        e = eprune.L1Unstructured(amount).prune(ember.tensor(x), default_mask=ember.tensor(mask))
        t = tprune.L1Unstructured(amount).prune(torch.tensor(x), default_mask=torch.tensor(mask))
        np.testing.assert_array_equal(np_(e), np_(t))
    e = eprune.LnStructured(2, n=2, dim=1).prune(ember.tensor(x))
    t = tprune.LnStructured(2, n=2, dim=1).prune(torch.tensor(x))
    np.testing.assert_array_equal(np_(e), np_(t))


def test_pruning_container_construction():
    a = eprune.L1Unstructured(1)
    a._tensor_name = "weight"
    b = eprune.RandomUnstructured(1)
    b._tensor_name = "weight"
    container = eprune.PruningContainer(a)
    container.add_pruning_method(b)
    assert list(container) == [a, b] and container[1] is b
    c = eprune.Identity()
    c._tensor_name = "bias"
    with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter"):
        container.add_pruning_method(c)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        container.add_pruning_method(3)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda p, mod: p.l1_unstructured(mod, "weight", amount="a"), TypeError),
        (lambda p, mod: p.l1_unstructured(mod, "weight", amount=-1), ValueError),
        (lambda p, mod: p.random_unstructured(mod, "weight", amount=1.5), ValueError),
        (lambda p, mod: p.l1_unstructured(mod, "weight", amount=21), ValueError),
        (lambda p, mod: p.ln_structured(mod, "bias", amount=1, n=2, dim=0), ValueError),
        (lambda p, mod: p.ln_structured(mod, "weight", amount=1, n=2, dim=2), IndexError),
        (lambda p, mod: p.random_structured(mod, "weight", amount=5, dim=0), ValueError),
        (lambda p, mod: p.remove(mod, "weight"), ValueError),
        (lambda p, mod: p.global_unstructured(3, p.L1Unstructured, amount=1), TypeError),
        (
            lambda p, mod: p.global_unstructured(
                [(mod, "weight")], p.L1Unstructured, importance_scores=[], amount=1
            ),
            TypeError,
        ),
        (
            lambda p, mod: p.global_unstructured([(mod, "weight")], p.RandomStructured, amount=1),
            TypeError,
        ),
    ],
)
def test_errors_match_torch(call, error):
    e, t = pair(linear)
    with pytest.raises(error) as expected:
        call(tprune, t)
    with pytest.raises(error) as actual:
        call(eprune, e)
    assert str(actual.value).replace("ember.", "torch.") == str(expected.value)
    # A failed pruning restores the parameter (moved to the end of the dict, as in torch).
    assert list(e.state_dict()) == list(t.state_dict())
    assert sorted(e.state_dict()) == ["bias", "weight"]
    assert isinstance(e.weight, ember.nn.Parameter)
    assert not eprune.is_pruned(e)


def test_importance_scores_shape_error():
    mod = ember.nn.Linear(5, 4)
    with pytest.raises(AssertionError, match="importance_scores should have the same shape"):
        eprune.l1_unstructured(mod, "weight", 2, importance_scores=ember.ones(3))
    with pytest.raises(AssertionError, match="default_mask shape"):
        eprune.custom_from_mask(mod, "bias", mask=ember.ones(3))
    assert sorted(mod.state_dict()) == ["bias", "weight"] and not eprune.is_pruned(mod)
    assert isinstance(mod.weight, ember.nn.Parameter) and isinstance(mod.bias, ember.nn.Parameter)


def test_failed_repeated_pruning_keeps_the_existing_pruning():
    # Differences from PyTorch: torch drops the existing hook here; Ember keeps the module as is.
    mod = ember.nn.Linear(5, 4)
    eprune.l1_unstructured(mod, "weight", amount=5)
    eprune.l1_unstructured(mod, "weight", amount=5)
    mask = np_(mod.weight_mask).copy()
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        eprune.l1_unstructured(mod, "weight", amount=11)  # only 10 entries remain
    with pytest.raises(TypeError, match="Invalid type for amount"):
        eprune.l1_unstructured(mod, "weight", amount="a")
    with pytest.raises(AssertionError, match="importance_scores should have the same shape"):
        eprune.l1_unstructured(mod, "weight", 2, importance_scores=ember.ones(3))
    (hook,) = mod._forward_pre_hooks.values()
    assert len(hook) == 2
    np.testing.assert_array_equal(np_(mod.weight_mask), mask)
    eprune.remove(mod, "weight")
    assert (np_(mod.weight) == 0).sum() == 10
