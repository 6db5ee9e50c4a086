import math
from collections import Counter, OrderedDict

import ml_dtypes
import numpy as np
import pytest
import safetensors.torch
import torch

import ember
from ember.io import (
    ChecksumError,
    SerializationError,
    TruncatedFileError,
    load,
    load_safetensors,
    save,
    save_safetensors,
)
from ember.io.serialization import load as serialization_load

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64"]
DTYPES += ["uint8", "bool"]


def random_array(dtype, shape=(3, 5), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in ("float16", "bfloat16", "float32", "float64"):
        values = rng.standard_normal(shape) * 100
        np_dtype = ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype
        return values.astype(np_dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)


def bits(array):
    return np.ascontiguousarray(array).view(np.uint8) if array.dtype != np.bool_ else array


@pytest.mark.parametrize("dtype", DTYPES)
def test_save_load_every_dtype_bit_exact(tmp_path, dtype):
    array = random_array(dtype)
    if dtype in ("float16", "bfloat16"):
        array.reshape(-1)[:3] = [np.nan, np.inf, -0.0]  # special values survive bit for bit
    tensor = ember.tensor(array)
    save(tensor, tmp_path / "t.safetensors")
    out = load(tmp_path / "t.safetensors")
    assert out.dtype == tensor.dtype and out.shape == tensor.shape
    np.testing.assert_array_equal(bits(out.numpy()), bits(array))


def test_nested_structure_round_trip(tmp_path):
    x = ember.randn(3, 4)
    obj = {
        "x": x,
        "alias": x,
        "list": [ember.arange(5), (1, 2.5, "s", None, True, False)],
        "floats": [math.nan, math.inf, -math.inf, 1e-300, 0.1],
        "ints": {3: "three", (1, 2): [7], "__odd": 1, None: 0.0},
        "od": OrderedDict([("b", ember.ones(2)), ("a", ember.zeros(1, dtype=ember.int64))]),
        "empty": {"t": ember.zeros(0, 3), "d": {}, "l": [], "tuple": ()},
        "scalar": ember.tensor(2.5),
        "grad": ember.ones(2, requires_grad=True),
        "np": np.arange(4, dtype=np.int32).reshape(2, 2),
        "counter": Counter([3, 3, 5]),
    }
    save(obj, tmp_path / "o.safetensors")
    out = load(tmp_path / "o.safetensors")
    assert out.keys() == obj.keys()
    assert out["alias"] is out["x"]  # one object saved once comes back as one object
    np.testing.assert_array_equal(out["x"].numpy(), x.numpy())
    assert out["list"][1] == (1, 2.5, "s", None, True, False)
    assert math.isnan(out["floats"][0]) and out["floats"][1:] == [math.inf, -math.inf, 1e-300, 0.1]
    assert out["ints"] == {3: "three", (1, 2): [7], "__odd": 1, None: 0.0}
    assert type(out["od"]) is OrderedDict and list(out["od"]) == ["b", "a"]
    assert out["od"]["a"].dtype == ember.int64
    assert out["empty"]["t"].shape == (0, 3) and out["empty"]["d"] == {}
    assert out["empty"]["tuple"] == () and out["empty"]["l"] == []
    assert out["scalar"].shape == () and out["scalar"].item() == 2.5
    assert out["grad"].requires_grad and not out["x"].requires_grad
    assert isinstance(out["np"], np.ndarray) and out["np"].dtype == np.int32
    assert type(out["counter"]) is Counter and out["counter"] == Counter([3, 3, 5])


def test_non_contiguous_and_views(tmp_path):
    base = ember.randn(4, 6)
    obj = {"t": base.T, "s": base[:, 1::2], "b": base, "e": ember.randn(3).expand(2, 3)}
    save(obj, tmp_path / "v.safetensors")
    out = load(tmp_path / "v.safetensors")
    for key, value in obj.items():
        np.testing.assert_array_equal(out[key].numpy(), value.numpy())
    # Views are independent copies after loading, as safetensors stores no aliasing.
    out["b"].data[0, 0] = 100.0
    assert out["t"].numpy()[0, 0] != 100.0
    # The file is an ordinary safetensors file: torch reads the entries by path.
    loaded = safetensors.torch.load_file(tmp_path / "v.safetensors")
    assert set(loaded) == {"t", "s", "b", "e"}
    np.testing.assert_array_equal(loaded["s"].numpy(), obj["s"].numpy())


def test_state_dict_into_model(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    save(model.state_dict(), tmp_path / "m.safetensors")
    other = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    other.load_state_dict(load(tmp_path / "m.safetensors"))
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        assert a.dtype == b.dtype, k
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_map_location(tmp_path):
    save({"a": ember.ones(2)}, tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors", map_location="cpu")["a"].device.type == "cpu"


def test_plain_safetensors_from_torch(tmp_path):
    tensors = {"w": torch.randn(3, 4), "h": torch.randn(2).to(torch.bfloat16), "i": torch.arange(3)}
    safetensors.torch.save_file(tensors, tmp_path / "p.safetensors", metadata={"format": "pt"})
    out = load(tmp_path / "p.safetensors")
    assert set(out) == set(tensors)
    for key, value in tensors.items():
        assert str(out[key].dtype).split(".")[-1] == str(value.dtype).split(".")[-1]
        np.testing.assert_array_equal(out[key].float().numpy(), value.float().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_safetensors_interchange_with_torch(tmp_path, dtype):
    array = random_array(dtype, (2, 3, 4))
    # Ember -> torch, including a non-contiguous tensor and two views of one storage.
    base = ember.tensor(array)
    ours = {"full": base, "t": base.transpose(0, 2), "slice": base[:, 1:]}
    save_safetensors(ours, tmp_path / "e.safetensors", metadata={"k": "v"})
    theirs = safetensors.torch.load_file(tmp_path / "e.safetensors")
    for key, value in ours.items():
        t = theirs[key]
        assert str(t.dtype).split(".")[-1] == str(value.dtype).split(".")[-1]
        assert tuple(t.shape) == tuple(value.shape)
        np.testing.assert_array_equal(bits(t.view(torch.uint8).numpy()), bits(value.numpy()))
    # torch -> Ember.
    t = (
        torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
        if dtype == "bfloat16"
        else (torch.from_numpy(array))
    )
    safetensors.torch.save_file({"x": t, "y": t[:1].clone()}, tmp_path / "t.safetensors")
    back = load_safetensors(tmp_path / "t.safetensors")
    assert back["x"].dtype == base.dtype and back["x"].shape == base.shape
    np.testing.assert_array_equal(bits(back["x"].numpy()), bits(array))
    np.testing.assert_array_equal(bits(back["y"].numpy()), bits(array[:1]))


def test_safetensors_torch_model_round_trip(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    safetensors.torch.save_model(tmodel, tmp_path / "t.safetensors")
    model = ember.nn.Sequential(ember.nn.Linear(5, 4), ember.nn.Tanh(), ember.nn.Linear(4, 3))
    model.load_state_dict(load_safetensors(tmp_path / "t.safetensors"))
    x = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    out = model(ember.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out, tmodel(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    save_safetensors(model.state_dict(), tmp_path / "e.safetensors")
    tmodel2 = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    tmodel2.load_state_dict(safetensors.torch.load_file(tmp_path / "e.safetensors"))
    for a, b in zip(tmodel2.state_dict().values(), tmodel.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_checksum_covers_header_and_data(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"a": ember.arange(6, dtype=ember.float32), "n": 12345}, path)
    good = path.read_bytes()
    # A digit of the structure JSON in the header, then a byte of the payload.
    header_pos = good.index(b"12345")
    for pos in (header_pos, len(good) - 2):
        data = bytearray(good)
        data[pos] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(ChecksumError, match=r"c\.safetensors: corrupt file: SHA-256"):
            load(path)


def test_truncated_and_garbage_files(tmp_path):
    path = tmp_path / "c.safetensors"
    save({"a": ember.arange(6, dtype=ember.float32)}, path)
    good = path.read_bytes()
    for cut in (3, 20, len(good) - 4):
        path.write_bytes(good[:cut])
        with pytest.raises(TruncatedFileError, match=r"c\.safetensors: truncated"):
            load(path)
    path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(SerializationError, match="corrupt safetensors header"):
        load(path)
    header = b'{"a": {"dtype": "F32", "shape": [1]}}'
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    with pytest.raises(SerializationError, match=r"corrupt safetensors header.*data_offsets"):
        load(path)
    path.write_bytes(b"\xff" * 64)
    with pytest.raises(SerializationError, match="not a safetensors file"):
        load(path)


def test_unsupported_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store an object of type set at 'a\.b'"):
        save({"a": {"b": {1, 2}}}, tmp_path / "x.safetensors")
    assert not list(tmp_path.iterdir())  # nothing written, no temporary file left
    with pytest.raises(TypeError, match="expected a dict of str to Tensor"):
        save_safetensors({"a": 1}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="'sha256' is reserved"):
        save_safetensors({"a": ember.ones(1)}, tmp_path / "x.safetensors", {"sha256": "x"})
    with pytest.raises(TypeError, match="metadata keys and values must be str"):
        save_safetensors({"a": ember.ones(1)}, tmp_path / "x.safetensors", {"k": 1})
    with pytest.raises(ValueError, match="weights_only=False is not supported"):
        serialization_load(tmp_path / "x.safetensors", weights_only=False)


def test_missing_safetensors_package(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)
    with pytest.raises(
        ImportError, match=r"needs the 'safetensors' package .*pip install 'safetensors>=0.4'"
    ):
        save({"a": ember.ones(1)}, tmp_path / "x.safetensors")
