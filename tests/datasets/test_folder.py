import numpy as np
import pytest

PIL = pytest.importorskip("PIL.Image")

from ember.datasets import ImageFolder  # noqa: E402


def write_images(root):
    rng = np.random.default_rng(0)
    expected = {}
    for cls, names in {"cat": ["b.png", "a.png"], "dog": ["c.png"]}.items():
        (root / cls).mkdir(parents=True)
        for name in names:
            array = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
            PIL.fromarray(array).save(root / cls / name)
            expected[f"{cls}/{name}"] = array
    PIL.fromarray(np.full((4, 4), 200, np.uint8), mode="L").save(root / "dog" / "gray.png")
    (root / "dog" / "notes.txt").write_text("not an image")
    return expected


def test_image_folder(tmp_path):
    expected = write_images(tmp_path)
    ds = ImageFolder(tmp_path)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    names = [p.split("/")[-2] + "/" + p.split("/")[-1] for p, _ in ds.samples]
    assert names == ["cat/a.png", "cat/b.png", "dog/c.png", "dog/gray.png"]  # sorted, no .txt
    assert ds.targets == [0, 0, 1, 1] and ds.imgs == ds.samples and len(ds) == 4
    image, target = ds[1]
    assert image.dtype == np.uint8 and image.shape == (5, 7, 3) and target == 0
    np.testing.assert_array_equal(image, expected["cat/b.png"])
    gray, _ = ds[3]
    assert gray.shape == (4, 4, 3) and (gray == 200).all()  # converted to RGB


def test_image_folder_transforms_and_filter(tmp_path):
    write_images(tmp_path)
    ds = ImageFolder(
        tmp_path,
        transform=lambda x: x.shape,
        target_transform=lambda t: -t,
        is_valid_file=lambda p: p.endswith("c.png"),
        allow_empty=True,
    )
    assert len(ds) == 1 and ds[0] == ((5, 7, 3), -1)


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        ImageFolder(tmp_path)
