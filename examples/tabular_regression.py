"""Predict a number from a CSV table with an MLP: the bike-sharing lesson as a train/predict CLI.

The pipeline of the classic "predict hourly bike rentals" lesson: read a CSV with
``ember.datasets.CSVDataset``, split rows into train/valid/test, normalise the features (and
the target) with statistics computed on the training split only, train a small MLP with Adam on
the mean squared error, and save the model *with* its statistics so that ``predict`` normalises
new rows exactly as training did. Figure of merit: test RMSE (in the target's units) and R^2.

Data: no bike-sharing CSV ships with Ember, so without ``--csv`` a realistic synthetic one is
written into ``--out`` (two years of hourly rentals: commute peaks on working days, a midday
bump at weekends, seasons, temperature, humidity, wind, rain, noise). ``--diabetes`` uses
scikit-learn's bundled diabetes table instead (442 patients, 10 features)::

    python examples/tabular_regression.py train --out runs/bikes            # synthetic CSV
    python examples/tabular_regression.py train --csv FILE --target COL --out DIR
    python examples/tabular_regression.py predict --model DIR --csv FILE  # DIR/predictions.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import CSVDataset, NormalizationStats
from ember.utils.data import DataLoader, TensorDataset

BIKE_COLUMNS = ["hr", "weekday", "mnth", "workingday", "weathersit", "temp", "hum", "windspeed"]


def synthetic_bike_csv(path: Path, days: int = 730, seed: int = 0) -> None:
    """Write an hourly bike-rental table (target column 'cnt') with a seeded generator."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * 24)
    hr, day = t % 24, t // 24
    weekday, mnth = (day + 6) % 7, (day % 365) * 12 // 365 + 1  # day 0 is a Saturday
    workingday = ((weekday >= 1) & (weekday <= 5) & (rng.random(days)[day] > 0.03)).astype(int)
    season = np.cos(2 * np.pi * (day % 365 - 200) / 365)  # 1 in July, -1 in January
    temp = np.clip(0.5 + 0.3 * season - 0.08 * np.cos(2 * np.pi * (hr - 4) / 24), 0, 1)
    temp = np.clip(temp + rng.normal(0, 0.05, days)[day], 0.02, 1.0)
    weathersit = np.minimum(1 + rng.poisson(0.45, days)[day] + (rng.random(len(t)) < 0.05), 4)
    hum = np.clip(0.55 + 0.12 * (weathersit - 1) + rng.normal(0, 0.1, len(t)), 0.1, 1.0)
    windspeed = np.clip(rng.gamma(2.0, 0.09, len(t)), 0, 0.85)
    commute = np.exp(-0.5 * ((hr - 8) / 1.0) ** 2) + 1.2 * np.exp(-0.5 * ((hr - 17.5) / 1.3) ** 2)
    leisure = np.exp(-0.5 * ((hr - 14) / 3.0) ** 2)
    night = 0.05 + 0.25 * ((hr >= 7) & (hr <= 22))
    profile = np.where(workingday == 1, 0.9 * commute + 0.25 * leisure, 0.9 * leisure) + night
    mean = 260 * profile * (0.45 + 0.9 * temp - 0.35 * (temp - 0.7).clip(0) ** 2 * 10)
    mean *= (1.25 - 0.25 * weathersit) * (1 - 0.6 * windspeed) * (1 + 0.25 * day / days)
    cnt = rng.poisson(np.maximum(mean, 0.5))
    table = np.stack([hr, weekday, mnth, workingday, weathersit], axis=1)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*BIKE_COLUMNS, "cnt"])
        for row, tm, hm, ws, c in zip(table, temp, hum, windspeed, cnt, strict=True):
            w.writerow([*row.tolist(), f"{tm:.4f}", f"{hm:.4f}", f"{ws:.4f}", int(c)])


def diabetes_csv(path: Path) -> None:
    """Write scikit-learn's bundled diabetes table (target column 'target') as a CSV."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*data.feature_names, "target"])
        w.writerows([*x.tolist(), y] for x, y in zip(data.data, data.target, strict=True))


def split_csv(src: Path, out: Path, seed: int, fractions=(0.8, 0.1)) -> dict[str, Path]:
    """Shuffle the rows of src once and write train.csv, valid.csv and test.csv into out."""
    with open(src, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    order = np.random.default_rng(seed).permutation(len(rows))
    n_train, n_valid = int(fractions[0] * len(rows)), int(fractions[1] * len(rows))
    parts = {"train": order[:n_train], "valid": order[n_train : n_train + n_valid]}
    parts["test"] = order[n_train + n_valid :]
    paths = {}
    for name, idx in parts.items():
        paths[name] = out / f"{name}.csv"
        with open(paths[name], "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *(rows[i] for i in idx)])
    return paths


def make_model(n_features: int, hidden: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(n_features, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 1),
    )


def scores(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """RMSE and the coefficient of determination R^2, in the target's units."""
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    r2 = 1.0 - float(np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))
    return {"rmse": rmse, "r2": r2}


def predict_array(model: nn.Module, features: ember.Tensor, target_stats: dict) -> np.ndarray:
    """Run the model in eval mode and undo the target normalisation."""
    model.eval()
    with ember.no_grad():
        out = model(features).data[:, 0].astype(np.float64)
    return out * target_stats["std"] + target_stats["mean"]


def train(args: argparse.Namespace) -> dict:
    ember.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.csv is None:
        args.csv = out / "data.csv"
        if args.diabetes:
            diabetes_csv(args.csv)
            args.target = "target"
        else:
            synthetic_bike_csv(args.csv, days=60 if args.smoke else 730, seed=args.seed)
    paths = split_csv(Path(args.csv), out, args.seed)
    train_set = CSVDataset(paths["train"], args.target, target_dtype=ember.float32)
    stats = train_set.stats  # computed on the training rows only, reused for all the others
    valid_set = CSVDataset(paths["valid"], args.target, stats=stats, target_dtype=ember.float32)
    test_set = CSVDataset(paths["test"], args.target, stats=stats, target_dtype=ember.float32)
    y_train = train_set.targets.data.astype(np.float64)
    target_stats = {"mean": float(y_train.mean()), "std": float(y_train.std() or 1.0)}
    y_norm = (train_set.targets - target_stats["mean"]) / target_stats["std"]
    loader = DataLoader(
        TensorDataset(train_set.features, y_norm), batch_size=args.batch_size, shuffle=True
    )

    model = make_model(len(train_set.feature_columns), args.hidden)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    y_valid = valid_set.targets.data.astype(np.float64)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for x, y in loader:
            loss = F.mse_loss(model(x)[:, 0], y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        if epoch % max(1, args.epochs // 10) == 0 or epoch == args.epochs:
            valid = scores(predict_array(model, valid_set.features, target_stats), y_valid)
            print(
                f"epoch {epoch:3d}  train loss {total / len(train_set):.4f} (normalised)"
                f"  valid RMSE {valid['rmse']:.3f}  R^2 {valid['r2']:.3f}"
            )

    # Everything predict needs lies side by side in the model folder.
    ember.save(model.state_dict(), out / "model.safetensors")
    stats.save(out / "stats.json")
    meta = {"target": args.target, "features": train_set.feature_columns, "hidden": args.hidden}
    meta["target_stats"] = target_stats
    (out / "model.json").write_text(json.dumps(meta, indent=1) + "\n")
    y_test = test_set.targets.data.astype(np.float64)
    test = scores(predict_array(model, test_set.features, target_stats), y_test)
    print(f"test RMSE {test['rmse']:.3f}  R^2 {test['r2']:.3f}  ({len(test_set)} rows)")
    return {"test_rmse": test["rmse"], "test_r2": test["r2"], "model_dir": str(out)}


def read_features(path: Path, columns: list[str]) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Read the named feature columns of a CSV as float32 (N, F), and all its columns."""
    with open(path, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    missing = [c for c in columns if c not in header]
    if missing:
        raise SystemExit(f"{path}: missing feature column(s) {missing}; the header has {header}")
    table = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    values = np.array([[float(v) for v in table[c]] for c in columns], dtype=np.float32).T
    return values, table


def predict(args: argparse.Namespace) -> dict:
    folder = Path(args.model)
    meta = json.loads((folder / "model.json").read_text())
    stats = NormalizationStats.load(folder / "stats.json")
    model = make_model(len(meta["features"]), meta["hidden"])
    model.load_state_dict(ember.load(folder / "model.safetensors"))
    values, table = read_features(Path(args.csv), meta["features"])
    features = ember.from_numpy(np.ascontiguousarray(stats.apply(values)))
    pred = predict_array(model, features, meta["target_stats"])
    out = Path(args.output) if args.output else folder / "predictions.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["prediction"])
        w.writerows([[f"{p:.4f}"] for p in pred])
    result = {"n": len(pred), "predictions": str(out)}
    if meta["target"] in table:  # labelled rows: report how good the predictions are
        y = np.array([float(v) for v in table[meta["target"]]])
        result.update(scores(pred, y))
        print(f"RMSE {result['rmse']:.3f}  R^2 {result['r2']:.3f}")
    print(f"{len(pred)} predictions written to {out}")
    return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train on a CSV and save model + statistics into --out")
    t.add_argument("--csv", default=None, help="the table (default: a synthetic bike CSV)")
    t.add_argument("--target", default="cnt", help="the column to predict")
    t.add_argument("--diabetes", action="store_true", help="use scikit-learn's diabetes table")
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", default="runs/tabular_regression")
    t.add_argument("--smoke", action="store_true", help="a small table, two epochs")
    q = sub.add_parser("predict", help="predict the target for the rows of a CSV")
    q.add_argument("--model", required=True, help="the folder train wrote")
    q.add_argument("--csv", required=True)
    q.add_argument("--output", default=None, help="default: MODEL/predictions.csv")
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "predict", "-h", "--help"):
        argv = ["train", *argv]  # main(["--smoke", ...]) means train
    args = p.parse_args(argv)
    if args.command == "train" and args.smoke:
        args.epochs = 2
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    return train(args) if args.command == "train" else predict(args)


if __name__ == "__main__":
    main()
