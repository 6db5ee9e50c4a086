"""Samplers: coverage, distributions, lengths, seeding and errors, against torch's samplers."""

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata

DATA = list(range(10))


def test_sequential_sampler():
    assert list(edata.SequentialSampler(DATA)) == list(tdata.SequentialSampler(DATA))
    assert len(edata.SequentialSampler(DATA)) == 10


def test_random_sampler_epoch_is_a_permutation_and_epochs_differ():
    sampler = edata.RandomSampler(DATA)
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == DATA
    assert first != second  # a fresh seed per epoch (1 in 10! chance of a false failure)


def test_random_sampler_is_reproducible():
    ember.manual_seed(7)
    a = [list(edata.RandomSampler(DATA)) for _ in range(2)]
    ember.manual_seed(7)
    b = [list(edata.RandomSampler(DATA)) for _ in range(2)]
    assert a == b
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    assert list(edata.RandomSampler(DATA, generator=g1)) == list(
        edata.RandomSampler(DATA, generator=g2)
    )


@pytest.mark.parametrize("num_samples", [3, 10, 25])
def test_random_sampler_num_samples_without_replacement(num_samples):
    e = list(edata.RandomSampler(DATA, num_samples=num_samples))
    t = list(tdata.RandomSampler(DATA, num_samples=num_samples))
    assert len(e) == len(t) == num_samples
    counts = np.bincount(e, minlength=10)
    # whole permutations first, then a partial one: every index appears floor or ceil times
    assert counts.min() >= num_samples // 10 and counts.max() <= -(-num_samples // 10)


def test_random_sampler_with_replacement_is_uniform():
    draws = list(edata.RandomSampler(DATA, replacement=True, num_samples=20000))
    assert len(draws) == 20000 and set(draws) <= set(DATA)
    freq = np.bincount(draws, minlength=10) / 20000
    np.testing.assert_allclose(freq, 0.1, atol=0.015)
    # with replacement, 10 draws of 10 repeat an index (all distinct has chance 10!/10**10)
    assert len(set(edata.RandomSampler(DATA, replacement=True))) < 10


def test_random_sampler_errors():
    for m in (edata, tdata):
        with pytest.raises(TypeError, match="replacement should be a boolean value, but got"):
            m.RandomSampler(DATA, replacement=1)
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            m.RandomSampler(DATA, num_samples=0)
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            m.RandomSampler([])


def test_subset_random_sampler():
    indices = [4, 8, 15, 16, 23, 42]
    sampler = edata.SubsetRandomSampler(indices)
    out = list(sampler)
    assert sorted(out) == indices and len(sampler) == 6
    g = ember.Generator().manual_seed(1)
    a = list(edata.SubsetRandomSampler(indices, generator=g))
    g.manual_seed(1)
    assert list(edata.SubsetRandomSampler(indices, generator=g)) == a


def test_weighted_random_sampler_distribution():
    weights = [1.0, 0.0, 3.0, 4.0]
    draws = list(edata.WeightedRandomSampler(weights, 40000))
    freq = np.bincount(draws, minlength=4) / 40000
    np.testing.assert_allclose(freq, np.array(weights) / 8, atol=0.012)
    assert len(edata.WeightedRandomSampler(ember.tensor(weights), 7)) == 7


def test_weighted_random_sampler_without_replacement():
    for _ in range(20):
        draws = list(edata.WeightedRandomSampler([1.0, 2.0, 0.5, 1.0, 3.0], 5, replacement=False))
        assert sorted(draws) == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist"):
        list(edata.WeightedRandomSampler([1.0, 2.0], 3, replacement=False))


def test_weighted_random_sampler_errors():
    for m in (edata, tdata):
        with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
            m.WeightedRandomSampler([1.0], True)
        with pytest.raises(ValueError, match="replacement should be a boolean value, but got"):
            m.WeightedRandomSampler([1.0], 2, replacement=0)
        with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights"):
            m.WeightedRandomSampler([[1.0, 2.0]], 2)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(batch_size, drop_last):
    e = edata.BatchSampler(edata.SequentialSampler(DATA), batch_size, drop_last)
    t = tdata.BatchSampler(tdata.SequentialSampler(DATA), batch_size, drop_last)
    assert list(e) == list(t) and len(e) == len(t)


def test_batch_sampler_errors():
    for m in (edata, tdata):
        for bad in (0, -1, True, 2.0):
            with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
                m.BatchSampler(DATA, bad, False)
        with pytest.raises(ValueError, match="drop_last should be a boolean value, but got"):
            m.BatchSampler(DATA, 2, 1)


@pytest.mark.parametrize("n", [10, 11, 3, 1])
@pytest.mark.parametrize("replicas", [1, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_matches_torch_unshuffled(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        e = edata.DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        t = tdata.DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(e) == list(t) and len(e) == len(t)


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shards_are_disjoint_and_cover(drop_last):
    n, replicas = 23, 4
    shards = [
        list(edata.DistributedSampler(range(n), replicas, r, seed=5, drop_last=drop_last))
        for r in range(replicas)
    ]
    assert len({len(s) for s in shards}) == 1
    flat = [i for s in shards for i in s]
    if drop_last:  # disjoint, the tail dropped
        assert len(set(flat)) == len(flat) == 20
    else:  # everything covered, padded by wrapping around (here by one sample)
        assert set(flat) == set(range(n)) and len(flat) == 24
        assert len(set(flat)) == 23


def test_distributed_sampler_epochs_and_seeds():
    s = edata.DistributedSampler(range(50), 2, 0, seed=1)
    first = list(s)
    assert list(s) == first  # same epoch, same order
    s.set_epoch(1)
    assert list(s) != first
    other_rank = edata.DistributedSampler(range(50), 2, 1, seed=1)
    other_rank.set_epoch(1)
    assert set(list(s)).isdisjoint(other_rank)


def test_distributed_sampler_rank_error():
    for m in (edata, tdata):
        with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval"):
            m.DistributedSampler(DATA, num_replicas=2, rank=2)
        with pytest.raises(ValueError, match=r"Invalid rank -1, rank should be in the interval"):
            m.DistributedSampler(DATA, num_replicas=2, rank=-1)


def test_torch_sampler_keeps_torch_generator_untouched():
    # Ember's samplers draw from Ember's generators only.
    state = torch.get_rng_state()
    list(edata.RandomSampler(DATA))
    assert torch.equal(state, torch.get_rng_state())
