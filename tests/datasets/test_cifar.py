import os
import pickle
import tarfile

import numpy as np
import pytest

from ember.datasets import CIFAR10, CIFAR100, load_batch


def write_batch(path, n, seed, label_key="labels", bytes_keys=False):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = rng.integers(0, 10, n).tolist()
    batch = {"batch_label": "batch", label_key: labels, "data": data, "filenames": ["a.png"] * n}
    if bytes_keys:
        batch = {k.encode(): v for k, v in batch.items()}
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)  # the batches are protocol-2 pickles
    return data, labels


def write_cifar10(root, n=4):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    train = [write_batch(folder / f"data_batch_{i}", n, i) for i in range(1, 6)]
    test = write_batch(folder / "test_batch", n, 9)
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": names, "num_cases_per_batch": n}, f, protocol=2)
    return train, test


def hwc(data):
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_cifar10(tmp_path):
    train, test = write_cifar10(tmp_path)
    ds = CIFAR10(tmp_path, train=True)
    assert len(ds) == 20 and ds.data.shape == (20, 32, 32, 3) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data, hwc(np.concatenate([d for d, _ in train])))
    assert ds.targets == [label for _, labels in train for label in labels]
    image, target = ds[5]
    np.testing.assert_array_equal(image, hwc(train[1][0])[1])
    assert target == train[1][1][1]
    assert ds.classes[3] == "cat" and ds.class_to_idx["truck"] == 9
    ds = CIFAR10(tmp_path, train=False, transform=lambda x: x.shape, target_transform=str)
    assert len(ds) == 4 and ds[0] == ((32, 32, 3), str(test[1][0]))


def test_cifar100(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data, labels = write_batch(folder / "train", 6, 0, label_key="fine_labels")
    write_batch(folder / "test", 3, 1, label_key="fine_labels")
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)]}, f, protocol=2)
    ds = CIFAR100(tmp_path)
    np.testing.assert_array_equal(ds.data, hwc(data))
    assert ds.targets == labels and len(ds.classes) == 100
    assert len(CIFAR100(tmp_path, train=False)) == 3


def test_load_batch_bytes_keys(tmp_path):
    data, labels = write_batch(tmp_path / "b", 3, 0, bytes_keys=True)
    batch = load_batch(tmp_path / "b")
    np.testing.assert_array_equal(batch["data"], data)
    assert batch["labels"] == labels


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_refuses_code(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": Evil()}, protocol=2))
    with pytest.raises(
        RuntimeError, match=r"data_batch_1: refusing to load global '(posix|os)\.system'"
    ):
        load_batch(path)


def test_refuses_object_arrays(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps({"data": np.array([1, "x"], dtype=object)}, protocol=2))
    with pytest.raises(RuntimeError, match=r"b: "):
        load_batch(path)


def test_truncated_batch(tmp_path):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(RuntimeError, match=r"data_batch_3: truncated or corrupt"):
        CIFAR10(tmp_path)


def test_wrong_shape_batch(tmp_path):
    write_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}))
    with pytest.raises(RuntimeError, match=r"test_batch: expected data of shape \(N, 3072\)"):
        CIFAR10(tmp_path, train=False)


def test_not_a_dict(tmp_path):
    path = tmp_path / "b"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(RuntimeError, match="expected a dict batch, got list"):
        load_batch(path)


def test_missing(tmp_path):
    with pytest.raises(RuntimeError, match=r"Dataset not found.*download=True"):
        CIFAR10(tmp_path)
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").unlink()
    with pytest.raises(RuntimeError, match="data_batch_2 is missing"):
        CIFAR10(tmp_path)


def test_download_extracts_archive(tmp_path, monkeypatch):
    # The archive as published: cifar-10-batches-py/ inside a .tar.gz, fetched by download=True
    src = tmp_path / "src"
    write_cifar10(src)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    from ember.datasets import cifar, download

    resource = download.Resource(archive.name, download.sha256sum(archive), (archive.as_uri(),))
    monkeypatch.setattr(cifar.CIFAR10, "resource", resource)
    ds = CIFAR10(tmp_path / "root", download=True)
    assert len(ds) == 20
    assert sorted(p.name for p in (tmp_path / "root").iterdir()) == [
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ]
