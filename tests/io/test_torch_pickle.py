import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from ember.io import SerializationError, TruncatedFileError, UnsafePickleError, load, load_torch


def to_numpy(t):
    if t.dtype == torch.bfloat16:
        return t.float().numpy()
    return t.detach().numpy()


def assert_same_tensor(e, t):
    assert isinstance(e, ember.Tensor)
    assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(e.shape) == tuple(t.shape)
    got = e.float().numpy() if e.dtype == ember.bfloat16 else e.detach().numpy()
    np.testing.assert_array_equal(got, to_numpy(t))


def assert_same_tree(e, t):
    if isinstance(t, torch.Tensor):
        assert_same_tensor(e, t)
        assert e.requires_grad == t.requires_grad
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for key in t:
            assert_same_tree(e[key], t[key])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t)
        for a, b in zip(e, t):
            assert_same_tree(a, b)
    else:
        assert e == t or (e != e and t != t)


def test_state_dicts_all_dtypes_views_shared(tmp_path):
    torch.manual_seed(0)
    base = torch.randn(4, 6)
    obj = {
        "f32": base,
        "t": base.t(),  # shares base's storage, transposed
        "slice": base[1:, 2:5],  # a storage offset and non-unit strides
        "step": base[:, ::2],
        "f16": torch.randn(3, 2).half(),
        "bf16": torch.randn(5).bfloat16(),
        "f64": torch.randn(2, 2, dtype=torch.float64),
        "i64": torch.arange(-3, 9).reshape(3, 4),
        "i32": torch.arange(5, dtype=torch.int32),
        "i16": torch.arange(5, dtype=torch.int16),
        "i8": torch.arange(-5, 5, dtype=torch.int8),
        "u8": torch.arange(250, 256, dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        "expanded": torch.randn(3, 1).expand(3, 4),
        "nested": {"a": [torch.ones(2), (1, 2.5, "x", None, True)], "n": float("nan")},
        "od": OrderedDict([("z", torch.zeros(1)), ("a", torch.ones(1))]),
    }
    torch.save(obj, tmp_path / "sd.pt")
    out = load_torch(tmp_path / "sd.pt")
    assert_same_tree(out, obj)
    # Loaded views own their memory.
    out["f32"].data[0, 0] = 1000.0
    assert out["t"].numpy()[0, 0] != 1000.0


def test_model_state_dict_and_parameters(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    torch.save(tmodel.state_dict(), tmp_path / "pytorch_model.bin")
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.BatchNorm1d(4))
    model.load_state_dict(load(tmp_path / "pytorch_model.bin"))  # ember.load dispatches
    for (_, e), (_, t) in zip(model.state_dict().items(), tmodel.state_dict().items()):
        assert_same_tensor(e.detach(), t)
    torch.save([torch.nn.Parameter(torch.ones(2)), tmodel[0].weight], tmp_path / "p.pth")
    params = load_torch(tmp_path / "p.pth")
    assert all(p.requires_grad for p in params)
    assert_same_tensor(params[1].detach(), tmodel[0].weight.detach())


def test_optimizer_state_dict(tmp_path):
    torch.manual_seed(0)
    tmodel = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(tmodel.parameters(), lr=0.01, betas=(0.8, 0.9))
    for _ in range(2):
        opt.zero_grad()
        tmodel(torch.randn(5, 3)).pow(2).sum().backward()
        opt.step()
    torch.save(opt.state_dict(), tmp_path / "opt.pt")
    state = load_torch(tmp_path / "opt.pt")
    assert_same_tree(state, opt.state_dict())
    assert state["param_groups"][0]["betas"] == (0.8, 0.9)
    # It loads into Ember's Adam over the same parameters.
    model = ember.nn.Linear(3, 2)
    eopt = ember.optim.Adam(model.parameters(), lr=0.5)
    eopt.load_state_dict(state)
    assert eopt.param_groups[0]["lr"] == 0.01


def test_map_location(tmp_path):
    torch.save({"a": torch.ones(2)}, tmp_path / "m.pt")
    assert load_torch(tmp_path / "m.pt", map_location="cpu")["a"].device.type == "cpu"


class Evil:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class EvalEvil:
    def __reduce__(self):
        import builtins

        return (builtins.eval, ("1 + 1",))


def _torch_like_zip(path, payload, name="archive"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/data.pkl", payload)
        archive.writestr(f"{name}/byteorder", "little")
        archive.writestr(f"{name}/version", "3\n")


@pytest.mark.parametrize(
    ("evil", "refused"), [(Evil(), r"'posix\.system'"), (EvalEvil(), r"'builtins\.eval'")]
)
def test_malicious_pickles_are_refused(tmp_path, evil, refused):
    Evil.marker = str(tmp_path / "pwned")
    payload = pickle.dumps({"w": [1, evil]}, protocol=2)
    refused = refused.replace("posix", os.name if os.name != "nt" else "nt")
    _torch_like_zip(tmp_path / "evil.pt", payload)
    with pytest.raises(UnsafePickleError, match=rf"evil\.pt: refused to load the global {refused}"):
        load_torch(tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError, match=refused):
        load(tmp_path / "evil.pt")
    (tmp_path / "evil.pkl").write_bytes(payload)
    message = rf"evil\.pkl: refused to load the global {refused}"
    with pytest.raises(UnsafePickleError, match=message):
        load_torch(tmp_path / "evil.pkl")
    assert not (tmp_path / "pwned").exists()


def test_torch_save_of_a_module_is_refused(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")
    with pytest.raises(UnsafePickleError, match=r"torch\.nn\.modules\.linear\.Linear"):
        load_torch(tmp_path / "module.pt")


def test_out_of_bounds_storage_view_is_refused(tmp_path):
    torch.save({"a": torch.ones(4)}, tmp_path / "ok.pt")
    with zipfile.ZipFile(tmp_path / "ok.pt") as src:
        entries = {n: src.read(n) for n in src.namelist()}
    prefix = next(n for n in entries if n.endswith("data.pkl"))[: -len("data.pkl")]
    # Rewrite the tensor's size (4,) as (400,): a read past the 4-element storage.
    pkl = entries[prefix + "data.pkl"]
    entries[prefix + "data.pkl"] = pkl.replace(b"K\x04\x85", b"M\x90\x01\x85", 1)
    assert entries[prefix + "data.pkl"] != pkl
    with zipfile.ZipFile(tmp_path / "bad.pt", "w") as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    with pytest.raises(pickle.UnpicklingError, match="reads past its storage of 4 elements"):
        load_torch(tmp_path / "bad.pt")


def test_legacy_format_refused(tmp_path):
    torch.save({"a": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(SerializationError, match=r"legacy \(pre-1\.6\) format is not supported"):
        load_torch(tmp_path / "legacy.pt")


def test_plain_pickle_of_plain_values(tmp_path):
    (tmp_path / "p.pkl").write_bytes(pickle.dumps({"a": [1, 2.5, "s", (None, True)]}, protocol=2))
    assert load_torch(tmp_path / "p.pkl") == {"a": [1, 2.5, "s", (None, True)]}


def test_truncated_and_corrupt_checkpoints(tmp_path):
    torch.save({"a": torch.ones(100)}, tmp_path / "c.pt")
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "c.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError, match=r"c\.pt: truncated"):
        load_torch(tmp_path / "c.pt")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x/other.txt", "hi")
    (tmp_path / "z.pt").write_bytes(buffer.getvalue())
    with pytest.raises(SerializationError, match=r"z\.pt: not a PyTorch checkpoint"):
        load_torch(tmp_path / "z.pt")
    _torch_like_zip(tmp_path / "m.pt", pickle.dumps({"a": 1}, protocol=2)[:-3])
    with pytest.raises(SerializationError, match=r"m\.pt: (truncated|corrupt)"):
        load_torch(tmp_path / "m.pt")


def test_unsupported_dtype_and_parameter_with_state(tmp_path):
    torch.save({"c": torch.ones(2, dtype=torch.complex64)}, tmp_path / "c.pt")
    with pytest.raises(SerializationError, match=r"torch\.ComplexFloatStorage have a dtype Ember"):
        load_torch(tmp_path / "c.pt")
    param = torch.nn.Parameter(torch.arange(3.0))
    param.note = "an attribute makes torch pickle the Parameter with its state"
    torch.save({"p": param}, tmp_path / "p.pt")
    out = load_torch(tmp_path / "p.pt")["p"]
    assert out.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), [0.0, 1.0, 2.0])


def test_flipped_byte_in_a_storage_is_caught_by_the_zip_crc(tmp_path):
    torch.save({"a": torch.arange(64.0)}, tmp_path / "c.pt")
    data = bytearray((tmp_path / "c.pt").read_bytes())
    pos = data.index(np.arange(64.0, dtype=np.float32)[40:42].tobytes())
    data[pos] ^= 0x04
    (tmp_path / "c.pt").write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=r"c\.pt: corrupt checkpoint \(Bad CRC-32"):
        load_torch(tmp_path / "c.pt")
