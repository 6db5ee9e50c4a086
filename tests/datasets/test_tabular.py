import json

import numpy as np
import pytest

from ember.datasets import CSVDataset, NormalizationStats


def write_csv(path, rows, header=("a", "b", "c", "label")):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n")


def table(seed, n=10):
    rng = np.random.default_rng(seed)
    x = rng.normal(3, 2, (n, 3)).round(3)
    y = rng.integers(0, 3, n)
    return x, y, [[*row, label] for row, label in zip(x.tolist(), y.tolist())]


def test_features_targets_and_stats(tmp_path):
    x, y, rows = table(0)
    write_csv(tmp_path / "train.csv", rows)
    ds = CSVDataset(tmp_path / "train.csv", target_columns="label")
    assert ds.feature_columns == ["a", "b", "c"] and len(ds) == 10
    assert ds.features.dtype.name == "float32" and ds.targets.dtype.name == "int64"
    mean, std = x.mean(0), x.std(0)
    np.testing.assert_allclose(ds.features.numpy(), (x - mean) / std, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ds.targets.numpy(), y)
    features, target = ds[4]
    np.testing.assert_allclose(features.numpy(), ((x - mean) / std)[4], rtol=1e-5)
    assert int(target.item()) == y[4]


def test_stats_round_trip_applies_training_statistics(tmp_path):
    x, _, rows = table(0)
    x2, _, rows2 = table(1)
    write_csv(tmp_path / "train.csv", rows)
    write_csv(tmp_path / "test.csv", rows2)
    train = CSVDataset(tmp_path / "train.csv", "label")
    train.stats.save(tmp_path / "model.stats.json")
    loaded = NormalizationStats.load(tmp_path / "model.stats.json")
    assert loaded == train.stats
    assert json.loads((tmp_path / "model.stats.json").read_text())["columns"] == ["a", "b", "c"]
    test = CSVDataset(tmp_path / "test.csv", "label", stats=tmp_path / "model.stats.json")
    expected = (x2 - x.mean(0)) / x.std(0)  # the training split's statistics, not the test's
    np.testing.assert_allclose(test.features.numpy(), expected, rtol=1e-5, atol=1e-6)
    same = CSVDataset(tmp_path / "test.csv", "label", stats=loaded)
    np.testing.assert_array_equal(same.features.numpy(), test.features.numpy())


def test_feature_subset_string_labels_float_targets(tmp_path):
    path = tmp_path / "iris.csv"
    path.write_text("w,h,kind,score\n1,2,setosa,0.5\n3,4,virginica,1.5\n5,6,setosa,2\n")
    ds = CSVDataset(path, "kind", feature_columns=["h"], normalize=False)
    assert ds.classes == ["setosa", "virginica"] and ds.stats is None
    np.testing.assert_array_equal(ds.targets.numpy(), [0, 1, 0])
    np.testing.assert_array_equal(ds.features.numpy(), [[2], [4], [6]])
    reg = CSVDataset(path, ["score"], feature_columns=["w", "h"])
    assert reg.targets.dtype.name == "float32"
    np.testing.assert_allclose(reg.targets.numpy(), [0.5, 1.5, 2.0])


def test_constant_column_has_unit_std(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("a,y\n2,0\n2,1\n")
    ds = CSVDataset(path, "y")
    assert ds.stats.std == [1.0]
    np.testing.assert_array_equal(ds.features.numpy(), [[0.0], [0.0]])


def test_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,y\n1,0\nx,1\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 3, column 'a'"):
        CSVDataset(path, "y")
    path.write_text("a,y\n1,0\n2\n")
    with pytest.raises(ValueError, match=r"bad\.csv, line 3: 1 fields, the header has 2"):
        CSVDataset(path, "y")
    path.write_text("a,y\n1,0\n")
    with pytest.raises(ValueError, match=r"no column\(s\) \['z'\]"):
        CSVDataset(path, "z")
    stats = NormalizationStats(["q"], [0.0], [1.0])
    with pytest.raises(ValueError, match="statistics are for columns"):
        CSVDataset(path, "y", stats=stats)
    (tmp_path / "s.json").write_text("{}")
    with pytest.raises(ValueError, match=r"s\.json: not a normalisation statistics file"):
        NormalizationStats.load(tmp_path / "s.json")
