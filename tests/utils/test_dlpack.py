"""ember.utils.dlpack mirrors torch.utils.dlpack: zero-copy exchange both ways."""

import numpy as np
import pytest
import torch
import torch.utils.dlpack

import ember
from ember.utils import dlpack
from tests.helpers import assert_same


def test_module_surface():
    assert dlpack.__all__ == ["from_dlpack", "to_dlpack"]
    assert all(hasattr(torch.utils.dlpack, name) for name in dlpack.__all__)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.uint8])
def test_torch_to_ember_to_torch(dtype):
    t = (torch.arange(12) % 7).to(dtype).reshape(3, 4)
    e = dlpack.from_dlpack(t)
    assert_same(e, t)
    back = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(e))
    back[2, 3] = 1
    assert t[2, 3].item() == e.tolist()[2][3] == 1  # one memory for all three


def test_ember_tensor_through_torch_from_dlpack():
    e = ember.ones(2, 3).T
    t = torch.from_dlpack(e)  # uses Tensor.__dlpack__ and __dlpack_device__
    assert t.shape == (3, 2) and t.stride() == e.stride()
    t.mul_(4)
    assert e.tolist() == [[4.0, 4.0]] * 3


def test_numpy_reads_an_ember_tensor():
    e = ember.arange(5, dtype=ember.int64)
    a = np.from_dlpack(e)
    a[0] = 9
    assert e.tolist() == [9, 1, 2, 3, 4]


def test_to_dlpack_refuses_grad():
    with pytest.raises(BufferError, match="Can't export tensors that require gradient"):
        dlpack.to_dlpack(ember.ones(2, requires_grad=True))
    assert dlpack.to_dlpack(ember.ones(2, requires_grad=True).detach()) is not None


def test_result_is_detached_and_records_nothing():
    t = torch.ones(3)
    e = dlpack.from_dlpack(t)
    assert not e.requires_grad and e.grad_fn is None
