"""ember.utils.benchmark mirrors torch.utils.benchmark: the same raw times give the same
statistics, repr text and Compare tables (modulo the package name); Timer measures."""

import re

import numpy as np
import pytest
import torch
import torch.utils.benchmark as tb
from torch.utils.benchmark.utils import common as tcommon

import ember
from ember.utils.benchmark import Colorize, Compare, Measurement, TaskSpec, Timer, common


def _normalize(text):
    text = re.sub(r"<[\w.]+\.Measurement object at 0x[0-9a-f]+>", "<Measurement>", text)
    return text.replace("torch", "ember")


def _pair(raw_times, number_per_run=100, **spec):
    spec.setdefault("stmt", "x + y")
    spec.setdefault("setup", "pass")
    e = Measurement(number_per_run, list(raw_times), TaskSpec(**spec))
    t = tcommon.Measurement(number_per_run, list(raw_times), tcommon.TaskSpec(**spec))
    return e, t


def _raw(n, scale, spread, seed):
    rng = np.random.default_rng(seed)
    return (scale * (1 + spread * rng.standard_exponential(n))).tolist()


RAW_CASES = [
    (1, 3e-4, 0.0),
    (2, 3e-4, 0.05),
    (3, 2e-6, 0.05),
    (4, 5e-3, 0.01),
    (7, 1e-1, 0.2),
    (20, 4.0, 0.002),
    (33, 2.5e-4, 0.5),
    (100, 7e-5, 0.08),
    (250, 1e-7, 0.0005),
]


@pytest.mark.parametrize("n,scale,spread", RAW_CASES)
@pytest.mark.parametrize("number_per_run", [1, 1000])
def test_measurement_statistics_match_torch(n, scale, spread, number_per_run):
    raw = _raw(n, scale, spread, seed=n)
    e, t = _pair(raw, number_per_run)
    assert e.times == t.times
    for name in ("median", "mean", "iqr"):
        assert getattr(e, name) == pytest.approx(getattr(t, name), rel=1e-12, abs=1e-18), name
    assert e.significant_figures == t.significant_figures
    assert e.has_warnings == t.has_warnings
    assert e.meets_confidence(0.05) == t.meets_confidence(0.05)
    assert e.title == t.title
    assert e.env == t.env
    assert e.as_row_name == t.as_row_name
    assert e.num_threads == t.num_threads and e.stmt == t.stmt
    assert _normalize(repr(e)) == _normalize(repr(t))
    # numpy's percentiles are the reference statistics
    times = np.asarray(raw) / number_per_run
    assert e.median == pytest.approx(np.percentile(times, 50), rel=1e-12)
    assert e.iqr == pytest.approx(np.percentile(times, 75) - np.percentile(times, 25), abs=1e-18)


SPECS = [
    dict(stmt="x + y", setup="pass"),
    dict(stmt="x + y", setup="x = 1", label="add", sub_label="float", description="n=4"),
    dict(stmt="a = 1\nb = a * 2", setup="x = 1\ny = 2", sub_label="multi"),
    dict(stmt="a = 1\nb = a * 2", setup="", description="big", num_threads=4),
    dict(stmt="f(x)", setup="pass", label="relu", env="new", num_threads=2),
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("n", [1, 3, 12])
def test_measurement_repr_matches_torch(spec, n):
    e, t = _pair(_raw(n, 2.5e-6, 0.3, seed=n), 10, **spec)
    assert _normalize(repr(e)) == _normalize(repr(t))
    assert repr(e).startswith("<ember.utils.benchmark.common.Measurement object at 0x")
    assert e.task_spec.summarize() == t.task_spec.summarize()


def test_measurement_warning_text_matches_torch():
    for spread in (0.15, 0.6):
        e, t = _pair([1e-3, 1e-3 * (1 + spread), 1e-3 * (1 + 2 * spread), 1e-3], 1)
        assert e.has_warnings and t.has_warnings
        assert _normalize(repr(e)) == _normalize(repr(t))
        assert "WARNING" in repr(e)


def test_measurement_merge_matches_torch():
    spec_a, spec_b = dict(stmt="a", setup="pass"), dict(stmt="b", setup="pass", label="L")
    raws = [(_raw(4, 1e-5, 0.1, s), npr) for s, npr in ((1, 10), (2, 100), (3, 1))]
    es, ts = [], []
    for i, (raw, npr) in enumerate(raws):
        spec = spec_a if i != 1 else spec_b
        e, t = _pair(raw, npr, **spec)
        es.append(e)
        ts.append(t)
    es.append(Measurement(10, raws[0][0], TaskSpec(**spec_a), metadata={"k": 1}))
    ts.append(tcommon.Measurement(10, raws[0][0], tcommon.TaskSpec(**spec_a), metadata={"k": 1}))
    me, mt = Measurement.merge(es), tcommon.Measurement.merge(ts)
    assert len(me) == len(mt) == 2
    for a, b in zip(me, mt, strict=True):
        assert a.number_per_run == b.number_per_run == 1
        assert a.raw_times == b.raw_times
        assert a.metadata is None
        assert _normalize(repr(a)) == _normalize(repr(b))


@pytest.mark.parametrize(
    "t", [1e-10, 9.99e-10, 1e-9, 3.2e-8, 1e-6, 5e-6, 1e-3, 0.5, 1.0, 2.0, 1234.5]
)
def test_select_unit_matches_torch(t):
    assert common.select_unit(t) == tcommon.select_unit(t)


@pytest.mark.parametrize("x", [3.14159, 0.000123456, 1234.567, 99.95, 5.5, 2.5, 0.0451])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_trim_sigfig_matches_torch(x, n):
    assert common.trim_sigfig(x, n) == tcommon.trim_sigfig(x, n)


def test_trim_sigfig_error():
    with pytest.raises(AssertionError, match="must be an integer"):
        common.trim_sigfig(3.14, 1.5)
    assert common.unit_to_english("us") == tcommon.unit_to_english("us")


def _compare_pair(entries):
    """entries: (raw_times, number_per_run, spec) -> (ember Compare, torch Compare)."""
    es, ts = [], []
    for raw, npr, spec in entries:
        e, t = _pair(raw, npr, **spec)
        es.append(e)
        ts.append(t)
    return Compare(es), tb.Compare(ts)


def _grid(scale=1e-5, spread=0.05, seed=0):
    entries = []
    k = seed
    for label in ("add", "matmul"):
        for threads in (1, 4):
            for sub in ("float", "double"):
                for desc in ("n=1", "n=16", "n=256"):
                    if (label, sub, desc) == ("matmul", "double", "n=16"):
                        continue  # a missing cell
                    k += 1
                    size = int(desc[2:])
                    slow = 2.5 if sub == "double" else 1.0
                    per_run = scale * slow * (1 + size / 16) / threads
                    raw = _raw(9, 100 * per_run, spread, seed=k)
                    spec = dict(
                        stmt="f(x)",
                        setup="pass",
                        label=label,
                        sub_label=sub,
                        description=desc,
                        num_threads=threads,
                    )
                    entries.append((raw, 100, spec))
    return entries


@pytest.mark.parametrize("options", ["", "trim", "colorize", "rowwise", "warnings", "all"])
@pytest.mark.parametrize("scale,spread", [(1e-5, 0.05), (3e-8, 0.3), (2e-3, 0.01), (1.5, 0.2)])
def test_compare_matches_torch(options, scale, spread):
    ce, ct = _compare_pair(_grid(scale, spread))
    for c in (ce, ct):
        if options in ("trim", "all"):
            c.trim_significant_figures()
        if options in ("colorize", "all"):
            c.colorize()
        if options == "rowwise":
            c.colorize(rowwise=True)
        if options in ("warnings", "all"):
            c.highlight_warnings()
    assert _normalize(str(ce)) == _normalize(str(ct))
    assert "Times are in" in str(ce)


def test_compare_replicates_envs_and_print(capsys):
    def spec(stmt, desc, env):
        return dict(stmt=stmt, setup="pass", description=desc, env=env)

    entries = [
        (_raw(5, 2e-6, 0.02, 1), 10, spec("x + y", "a", "old")),
        (_raw(5, 2e-6, 0.02, 2), 1000, spec("x + y", "a", "old")),
        (_raw(5, 3e-6, 0.02, 3), 10, spec("x * y", "b", "old")),
        (_raw(5, 4e-6, 0.02, 4), 10, spec("x * y", "a", "new-branch")),
        (_raw(5, 4e-6, 0.02, 5), 10, spec("x - y", "b", "new-branch")),
    ]
    ce, ct = _compare_pair(entries)
    extra = _raw(4, 1e-6, 0.01, 6), 1, spec("z", "a", "old")
    ce.extend_results([_pair(extra[0], extra[1], **extra[2])[0]])
    ct.extend_results([_pair(extra[0], extra[1], **extra[2])[1]])
    assert _normalize(str(ce)) == _normalize(str(ct))
    assert "(new-branch)" in str(ce)
    ce.print()
    assert capsys.readouterr().out == str(ce) + "\n"


def test_compare_errors():
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`, got"):
        Compare([1.0])
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        Compare([]).extend_results(["x"])
    assert Colorize("rowwise") is Colorize.ROWWISE


def test_timer_runs_stmt_with_globals():
    x, y = ember.randn(4, 8), ember.randn(8)
    calls = []
    timer = Timer(
        "x + y", globals={"x": x, "y": y}, label="add", sub_label="f32", description="4x8"
    )
    m = timer.blocked_autorange(callback=lambda n, t: calls.append((n, t)), min_run_time=0.02)
    assert isinstance(m, Measurement)
    assert m.number_per_run >= 1 and len(m.raw_times) >= 1
    assert calls and all(n == m.number_per_run for n, _ in calls)
    assert 1e-8 < m.median < 1e-2 and m.mean > 0 and m.iqr >= 0
    assert (m.label, m.sub_label, m.description, m.num_threads) == ("add", "f32", "4x8", 1)
    assert "add: f32" in repr(m) and "4x8" in repr(m)
    assert "Times are in" in str(Compare([m, m]))


def test_timer_timeit_setup_and_ember_global():
    timer = Timer(
        """
        z = ember.ones(3) * k
        """,
        setup="k = 2.0",
    )
    m = timer.timeit(50)
    assert m.number_per_run == 50 and len(m.raw_times) == 1 and m.raw_times[0] > 0
    assert m.stmt == "z = ember.ones(3) * k" and m.task_spec.setup == "k = 2.0"
    t = tb.Timer("\n    z = 1\n", setup="\n    k = 2\n    j = 3\n")
    e = Timer("\n    z = 1\n", setup="\n    k = 2\n    j = 3\n")
    assert e._task_spec.stmt == t._task_spec.stmt and e._task_spec.setup == t._task_spec.setup


def test_timer_adaptive_autorange():
    m = Timer("sum(range(20))").adaptive_autorange(min_run_time=0.005, max_run_time=0.1)
    assert len(m.raw_times) >= 4 or sum(m.raw_times) > 0.1
    assert 0 < m.median < 1e-2


def test_timer_num_threads_applied_and_restored():
    seen = []
    original = ember.get_num_threads()
    record = {"record": lambda: seen.append(ember.get_num_threads())}
    try:
        ember.set_num_threads(2)
        before = ember.get_num_threads()
        Timer("record()", globals=record).timeit(3)
        assert seen and set(seen) == {1}
        assert ember.get_num_threads() == before == 2
        ember.set_num_threads(1)
        seen.clear()
        Timer("record()", globals=record, num_threads=2).blocked_autorange(min_run_time=0.001)
        assert seen and set(seen) == {2}
        assert ember.get_num_threads() == 1
    finally:
        ember.set_num_threads(original)


def test_timer_restores_threads_on_error():
    before = ember.get_num_threads()
    with pytest.raises(ZeroDivisionError):
        Timer("1 / 0").timeit(2)
    assert ember.get_num_threads() == before


def test_timer_errors_match_torch():
    for cls in (Timer, tb.Timer):
        with pytest.raises(ValueError, match=r"Currently only a `str` stmt is supported\."):
            cls(stmt=lambda: None)
        with pytest.raises(ValueError, match=r"global_setup is C\+\+ only"):
            cls("pass", global_setup="#include <x>")
        with pytest.raises(NotImplementedError, match=r"See `Timer\.blocked_autorange\.`"):
            cls().repeat()
        with pytest.raises(NotImplementedError, match=r"See `Timer\.blocked_autorange\.`"):
            cls().autorange()
    with pytest.raises(NotImplementedError, match="valgrind"):
        Timer().collect_callgrind()
    assert torch.get_num_threads() >= 1
