"""AdaptiveLogSoftmaxWithLoss vs PyTorch with copied weights.

Outputs, loss and gradients (input and every parameter) for batched/unbatched inputs and
targets in some or all clusters; log_prob and predict; state_dict layout, init bounds, repr;
PyTorch's errors for bad cutoffs, shapes and out-of-range targets.
"""

import numpy as np
import pytest
import torch

import ember
from ember.nn.adaptive import AdaptiveLogSoftmaxWithLoss
from tests.helpers import assert_same, check_gradcheck, check_module


def make(m, *args, **kwargs):
    cls = torch.nn.AdaptiveLogSoftmaxWithLoss if m is torch else AdaptiveLogSoftmaxWithLoss
    return cls(*args, **kwargs)


CONFIGS = [
    ((64, 20, [5, 10, 15]), {}),
    ((16, 20, [5, 10, 15]), {"div_value": 2.0, "head_bias": True}),
    ((8, 10, [3]), {"head_bias": True}),
]
TARGETS = [
    np.array([0, 4, 5, 9, 10, 14, 15, 19, 2, 12], np.int64),  # every cluster
    np.array([0, 1, 2, 3, 4, 1], np.int64),  # shortlist only
    np.array([6, 9, 7], np.int64),  # one tail cluster only
]


@pytest.mark.parametrize(("args", "kwargs"), CONFIGS)
@pytest.mark.parametrize("target", TARGETS)
def test_adaptive_forward_matches_torch(args, kwargs, target):
    target = target % args[1]
    x = np.random.default_rng(0).standard_normal((len(target), args[0])).astype(np.float32)
    for i in (0, 1):  # the output, then the loss
        check_module(
            lambda m: make(m, *args, **kwargs),
            inputs=[x, target],
            call=lambda layer, x, t, i=i: layer(x, t)[i],
        )


def test_adaptive_namedtuple_and_unbatched():
    e_layer, t_layer = check_module(
        lambda m: make(m, 8, 10, [3, 6], div_value=2.0),
        inputs=[np.random.default_rng(1).standard_normal(8).astype(np.float32), np.int64(7)],
        call=lambda layer, x, t: layer(x, t).output,
    )
    x, t = np.ones(8, np.float32), np.int64(7)
    e, tt = e_layer(ember.tensor(x), ember.tensor(t)), t_layer(torch.tensor(x), torch.tensor(t))
    assert e._fields == tt._fields == ("output", "loss")
    assert_same(e.output, tt.output.detach())
    assert_same(e.loss, tt.loss.detach())


def test_adaptive_log_prob_and_predict():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((12, 16)).astype(np.float32)
    e_layer, t_layer = check_module(
        lambda m: make(m, 16, 20, [5, 10, 15], div_value=2.0, head_bias=True),
        inputs=[x],
        call=lambda layer, x: layer.log_prob(x),
    )
    lp = e_layer.log_prob(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(np.exp(lp).sum(1), 1, rtol=1e-5)
    assert_same(e_layer.predict(ember.tensor(x)), t_layer.predict(torch.tensor(x)))
    # all in the shortlist, then all outside it
    for boost in (range(5), range(5, 8), [0, 6]):  # shortlist, clusters, mixed rows
        with torch.no_grad():
            t_layer.head.bias.fill_(-100)
            t_layer.head.bias[list(boost)] = 100
        e_layer.head.bias.data[...] = t_layer.head.bias.detach().numpy()
        t_pred = t_layer.predict(torch.tensor(x))
        head = t_layer.head(torch.tensor(x)).argmax(1)
        assert (head >= 5).any() == (boost != range(5)) and (head < 5).any() == (5 not in boost)
        assert_same(e_layer.predict(ember.tensor(x)), t_pred)


def test_adaptive_structure_and_init():
    e, t = (
        make(ember, 16, 20, [5, 10, 15], div_value=2.0),
        make(torch, 16, 20, [5, 10, 15], div_value=2.0),
    )
    assert repr(e) == repr(t)
    assert {k: tuple(v.shape) for k, v in e.state_dict().items()} == {
        k: tuple(v.shape) for k, v in t.state_dict().items()
    }
    assert e.cutoffs == t.cutoffs and e.shortlist_size == t.shortlist_size
    assert e.head_size == t.head_size and e.n_clusters == t.n_clusters
    for name, p in e.named_parameters():
        bound = 1 / np.sqrt(p.shape[1])
        assert np.abs(p.detach().numpy()).max() <= bound, name
    before = e.head.weight.detach().numpy().copy()
    e.reset_parameters()
    assert not np.array_equal(before, e.head.weight.detach().numpy())


BAD_CUTOFFS = [
    ([], "cutoffs should be a sequence of length larger than 0"),
    ([5, 3], "cutoffs should be a sequence of unique, positive integers"),
    ([0, 3], "unique, positive"),
    ([3, 10], "between 1 and n_classes-1"),
    ([3, 3], "unique"),
    ([2.5], "unique"),
]


@pytest.mark.parametrize(("cutoffs", "match"), BAD_CUTOFFS)
def test_adaptive_bad_cutoffs(cutoffs, match):
    for m in (torch, ember):
        with pytest.raises(ValueError, match=match):
            make(m, 8, 10, cutoffs)


FORWARD_ERRORS = [
    ((3, 8), [1, 2], "Input and target should have the same size in the batch dimension"),
    ((2, 2, 8), [1, 2], "1D target tensor expects 2D input tensors"),
    ((2, 8), 1, "0D target tensor expects 1D input tensors"),
    ((2, 8), [[1, 2]], "0D or 1D target tensor expected, multi-target not supported"),
    ((2, 8), [1, 10], r"Target values should be in \[0, 9\], but values in range \[1, 10\]"),
    ((2, 8), [-1, 3], r"Target values should be in \[0, 9\], but values in range \[-1, 3\]"),
]


@pytest.mark.parametrize(("shape", "target", "match"), FORWARD_ERRORS)
def test_adaptive_forward_errors(shape, target, match):
    for m in (torch, ember):
        with pytest.raises(RuntimeError, match=match):
            make(m, 8, 10, [3, 6], div_value=2.0)(m.randn(*shape), m.tensor(target))


def test_adaptive_gradcheck():
    ember.manual_seed(0)
    layer = AdaptiveLogSoftmaxWithLoss(6, 8, [2, 5], div_value=2.0, dtype=ember.float64)
    target = ember.tensor([0, 3, 7, 5])
    check_gradcheck(lambda m, x: layer(x, target).loss, (4, 6), low=-1, high=1)
    check_gradcheck(lambda m, x: layer.log_prob(x), (3, 6), low=-1, high=1)
