"""In-place twins (gcd_, lgamma_, polygamma_, addr_, put_, ...) and angle, vs PyTorch."""

import numpy as np
import pytest
import torch

import ember
from ember.ops import inplace_twins
from tests.helpers import assert_same, check_gradcheck, check_op


def twin(m, name):
    """The in-place op: Ember's function from its module, torch's Tensor method."""
    return getattr(inplace_twins, name) if m is ember else getattr(torch.Tensor, name)


RNG = np.random.default_rng(0)
POS = RNG.uniform(0.5, 3.0, (3, 4)).astype(np.float32)
POS2 = RNG.uniform(0.5, 3.0, (3, 4)).astype(np.float32)
ANY = RNG.uniform(-2.0, 2.0, (3, 4)).astype(np.float32)
ANY2 = RNG.uniform(-2.0, 2.0, (4,)).astype(np.float32)

# name -> (inputs, differentiable)
UNARY = {
    "deg2rad_": ([ANY], True),
    "rad2deg_": ([ANY], True),
    "i0_": ([ANY], True),
    "sinc_": ([ANY], True),
    "lgamma_": ([POS], True),
    "digamma_": ([POS], True),
    "conj_physical_": ([ANY], True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_twin(name):
    inputs, grad = UNARY[name]
    check_op(lambda m, x: twin(m, name)(x * 1), inputs=inputs, grad=grad)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_twin_noncontiguous(name):
    data = POS if name in ("lgamma_", "digamma_") else ANY
    check_op(lambda m, x: twin(m, name)((x * 1).T), inputs=[data])


BINARY = {
    "copysign_": ([ANY, ANY2], False),  # torch has no derivative wrt other's sign here
    "heaviside_": ([ANY, ANY2], False),
    "nextafter_": ([ANY, ANY2], False),
    "xlogy_": ([POS, POS2], True),
    "igamma_": ([POS, POS2], False),
    "igammac_": ([POS, POS2], False),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_twin(name):
    inputs, grad = BINARY[name]
    check_op(lambda m, x, y: twin(m, name)(x * 1, y), inputs=inputs, grad=grad)


def test_copysign_twin_grad_wrt_input():
    check_op(lambda m, x: twin(m, "copysign_")(x * 1, m.tensor([1.0, -1.0, 1.0, -1.0])), (3, 4))


@pytest.mark.parametrize("name", ["gcd_", "lcm_"])
def test_integer_twins(name):
    a = RNG.integers(-20, 20, (3, 4)).astype(np.int64)
    b = RNG.integers(-20, 20, (4,)).astype(np.int64)
    check_op(lambda m, x, y: twin(m, name)(x.clone(), y), inputs=[a, b], dtype="int64")


def test_ldexp_twin():
    e = RNG.integers(-3, 4, (4,)).astype(np.float32)
    check_op(lambda m, x, y: twin(m, "ldexp_")(x * 1, y.long()), inputs=[ANY, e])


@pytest.mark.parametrize("n", [0, 1, 2])
def test_polygamma_twin(n):
    check_op(lambda m, x: twin(m, "polygamma_")(x * 1, n), inputs=[POS], rtol=1e-3)


def test_mvlgamma_twin():
    data = RNG.uniform(1.5, 4.0, (3, 4)).astype(np.float32)
    check_op(lambda m, x: twin(m, "mvlgamma_")(x * 1, 3), inputs=[data])


def test_addr_twin():
    check_op(
        lambda m, x, a, b: twin(m, "addr_")(x * 1, a, b, beta=0.5, alpha=2.0), (3, 4), (3,), (4,)
    )


def test_renorm_twin():
    check_op(lambda m, x: twin(m, "renorm_")(x * 1, 2, 0, 1.5), (3, 4))


@pytest.mark.filterwarnings("ignore:index_reduce\\(\\) is in beta")
@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
def test_index_reduce_twin(reduce):
    index = np.array([0, 2, 0], dtype=np.int64)
    check_op(
        lambda m, x, s: twin(m, "index_reduce_")(x * 1, 0, m.tensor(index), s, reduce),
        (3, 4),
        (3, 4),
        seed=3,
    )


@pytest.mark.parametrize("accumulate", [False, True])
def test_put_twin(accumulate):
    index = np.array([1, 7, 10], dtype=np.int64)
    check_op(lambda m, x, s: twin(m, "put_")(x * 1, m.tensor(index), s, accumulate), (3, 4), (3,))


def test_twins_return_self_and_bump_version():
    e, t = ember.tensor(ANY), torch.tensor(ANY)
    e_before, t_before = e._version_value, t._version
    assert inplace_twins.sinc_(e) is e
    assert t.sinc_() is t
    assert e._version_value - e_before == t._version - t_before == 1
    assert_same(e, t)


def test_twin_through_a_view_writes_the_base():
    e, t = ember.tensor(ANY), torch.tensor(ANY)
    inplace_twins.deg2rad_(e[1])
    t[1].deg2rad_()
    assert_same(e, t)


def test_twin_view_autograd_reaches_the_base():
    check_op(lambda m, x: (lambda y: (twin(m, "sinc_")(y[1:]), y)[1])(x * 1), (3, 4))


@pytest.mark.parametrize(
    "name, args", [("lgamma_", ()), ("sinc_", ()), ("deg2rad_", ()), ("xlogy_", (2.0,))]
)
def test_float_result_into_int_tensor_raises(name, args):
    for m in (ember, torch):
        x = m.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired"):
            twin(m, name)(x, *args)


def test_leaf_requiring_grad_raises():
    for m in (ember, torch):
        x = m.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            twin(m, "lgamma_")(x)


def test_gradcheck_twins():
    check_gradcheck(lambda m, x: inplace_twins.lgamma_(x * 1), (2, 3), low=0.5, high=2.0)
    check_gradcheck(lambda m, x: inplace_twins.sinc_(x * 1), (2, 3))
    check_gradcheck(lambda m, x, y: inplace_twins.xlogy_(x * 1, y), (2, 3), (3,), low=0.5, high=2.0)
    check_gradcheck(
        lambda m, x, a, b: inplace_twins.addr_(x * 1, a, b, beta=0.5), (2, 3), (2,), (3,)
    )


# -- angle ------------------------------------------------------------------------------------
def angle(m):
    return inplace_twins.angle if m is ember else torch.angle


def test_angle_float():
    data = np.array([[1.5, -2.0, 0.0], [-0.0, np.nan, -np.inf]], dtype=np.float32)
    check_op(lambda m, x: angle(m)(x), inputs=[data], grad=False)
    check_op(lambda m, x: angle(m)(x.T), (4, 3))  # zero gradient, as torch


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64"])
def test_angle_dtypes(dtype):
    data = np.array([3, -1, 0]).astype(dtype)
    check_op(lambda m, x: angle(m)(x), inputs=[data], dtype=dtype, grad=False)


def test_angle_errors():
    for m in (ember, torch):
        with pytest.raises(TypeError, match=r"angle\(\): argument 'input' \(position 1\)"):
            angle(m)(3)


# -- Tensor methods (need the lead's wiring of ember.ops) --------------------------------------
def test_tensor_methods():
    e, t = ember.tensor(POS), torch.tensor(POS)
    for name, args in [("lgamma_", ()), ("polygamma_", (1,)), ("mvlgamma_", (1,))]:
        assert_same(getattr(e.clone(), name)(*args), getattr(t.clone(), name)(*args), 1e-3)
    assert_same(e.angle(), t.angle())
    assert_same(ember.gcd_(ember.tensor([4, 6]), ember.tensor([6, 4])), torch.tensor([2, 2]))
