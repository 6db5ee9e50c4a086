import gzip
import struct

import numpy as np
import pytest

from ember.datasets import KMNIST, MNIST, FashionMNIST, read_idx


def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder, n=7, gz=True, seed=0, prefix=("train", "t10k")):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split in prefix:
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, array in (("images-idx3-ubyte", images), ("labels-idx1-ubyte", labels)):
            raw = idx_bytes(array)
            name = f"{split}-{kind}"
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
        out[split] = images, labels
    return out


@pytest.mark.parametrize(
    ("dtype", "code"),
    [("u1", 0x08), ("i1", 0x09), ("i2", 0x0B), ("i4", 0x0C), ("f4", 0x0D), ("f8", 0x0E)],
)
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_every_type(tmp_path, dtype, code, gz):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    raw = idx_bytes(array, code)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST, KMNIST])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_family(tmp_path, cls, gz):
    expected = write_mnist(tmp_path / cls.__name__ / "raw", gz=gz)
    for train, split in ((True, "train"), (False, "t10k")):
        ds = cls(tmp_path, train=train)
        images, labels = expected[split]
        assert len(ds) == 7
        assert ds.data.shape == (7, 28, 28) and ds.data.dtype.name == "uint8"
        assert ds.targets.dtype.name == "int64"
        np.testing.assert_array_equal(ds.data.numpy(), images)
        np.testing.assert_array_equal(ds.targets.numpy(), labels)
        image, target = ds[3]
        assert isinstance(target, int) and target == labels[3]
        np.testing.assert_array_equal(image, images[3])
    assert len(ds.classes) == 10 and ds.class_to_idx[ds.classes[4]] == 4


def test_mnist_transforms_applied(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw")
    ds = MNIST(tmp_path, transform=lambda x: x.sum(), target_transform=lambda t: t + 100)
    image, target = ds[0]
    assert image == ds.data.numpy()[0].sum()
    assert target == int(ds.targets.numpy()[0]) + 100
    assert "Split: Train" in repr(ds)


def test_mnist_missing(tmp_path):
    with pytest.raises(RuntimeError, match=r"Dataset not found.*download=True"):
        MNIST(tmp_path)


def test_idx_truncated(tmp_path):
    raw = idx_bytes(np.zeros((3, 28, 28), np.uint8))
    path = tmp_path / "t.idx"
    path.write_bytes(raw[:-10])
    with pytest.raises(RuntimeError, match=r"t\.idx.*truncated or corrupt"):
        read_idx(path)
    path.write_bytes(raw[:10])
    with pytest.raises(RuntimeError, match=r"t\.idx: truncated IDX header"):
        read_idx(path)


def test_idx_bad_magic(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x01\x02\x08\x03" + bytes(100))
    with pytest.raises(RuntimeError, match=r"bad\.idx: not an IDX file"):
        read_idx(path)


def test_idx_corrupt_gzip(tmp_path):
    raw = gzip.compress(idx_bytes(np.zeros((3, 4), np.uint8)))
    path = tmp_path / "c.idx.gz"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match=r"c\.idx\.gz: corrupt or truncated gzip"):
        read_idx(path)
    path.write_bytes(raw[:10] + bytes(len(raw) - 10))
    with pytest.raises(RuntimeError, match=r"c\.idx\.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_mnist_images_labels_mismatch(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    write_mnist(folder, gz=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(RuntimeError, match="do not match"):
        MNIST(tmp_path)
