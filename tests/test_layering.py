"""Keep the architecture true: imports inside ``ember/`` point down the layers only.

Layers, lowest first (DESIGN.md section 2, refined in STYLE.md section 8)::

    0 backend
    1 tensor, printing
    2 autograd.function, autograd.grad_mode
    3 ops
    4 autograd.engine, autograd.gradcheck, autograd (its __init__)
    5 nn, optim, utils, utils.data, io, linalg
    6 models
    7 train

A module may import from its own layer or any layer below. ``ember/__init__.py`` is the public
namespace and may import anything. The sanctioned exceptions are listed in ``ALLOWED_UPWARD``.

Module-level imports form no cycle (importing ``ember.a.b`` runs ``ember/a/__init__.py`` too),
apart from tensor.py's late import of ``ember.ops``. ``cupy`` is imported only in
``ember/backend/cuda.py``; ``numpy`` only outside ``ember/ops/`` (plus the array factories and
dtype checks named in ``NUMPY_IN_OPS``); and ``ember`` imports, at module level, only the
standard library and its declared dependencies.

The test reads the source with ``ast`` (nothing is imported), so it also sees imports inside
functions. Imports under ``if TYPE_CHECKING:`` never run and are skipped.
"""

from __future__ import annotations

import ast
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ember"

# Module prefix -> layer. The longest matching prefix wins, so "ember.autograd.function" (2)
# beats "ember.autograd" (4).
LAYERS: dict[str, int] = {
    "ember.backend": 0,
    "ember.tensor": 1,
    "ember.printing": 1,  # beside tensor: Tensor.__repr__ imports it lazily
    "ember.autograd.function": 2,
    "ember.autograd.grad_mode": 2,
    "ember.ops": 3,
    "ember.autograd": 4,  # __init__, engine, gradcheck
    "ember.autograd.engine": 4,
    "ember.autograd.gradcheck": 4,
    "ember.nn": 5,
    "ember.optim": 5,
    "ember.utils": 5,
    "ember.utils.data": 5,
    "ember.io": 5,
    "ember.linalg": 5,
    "ember.special": 5,
    "ember.distributions": 5,
    "ember.func": 5,
    "ember.func_vmap": 5,
    "ember.testing": 5,
    "ember.datasets": 5,
    "ember.transforms": 5,
    "ember.models": 6,
    "ember.train": 7,
    "ember.cli": 7,  # the `ember` command, beside train at the top
    "ember.__main__": 7,  # python -m ember: runs ember.cli
}
LAYER_NAMES = {
    0: "backend",
    1: "tensor",
    2: "autograd.function/grad_mode",
    3: "ops",
    4: "autograd.engine/gradcheck",
    5: "nn/optim/utils.data/io/linalg",
    6: "models",
    7: "train",
}
TOP = "ember"  # the root __init__: the public namespace, may import anything

# (importing module, imported module, where) -> why it is allowed. where is "module" for a
# module-level import, "function" for one inside a function or method.
ALLOWED_UPWARD: dict[tuple[str, str, str], str] = {
    ("ember.tensor", "ember.ops", "module"): "the one late import: Tensor methods call ops",
    ("ember.tensor", "ember.autograd.engine", "function"): "Tensor.backward runs the engine",
    ("ember.tensor", "ember.printing", "function"): "Tensor.__repr__ formats lazily",
    ("ember.utils.benchmark.timer", "ember", "function"): (
        "Timer's statements see `ember`, as torch's Timer gives them `torch`"
    ),
}

NUMPY_IN_OPS = {
    "ember/ops/creation.py": "factories build arrays on the CPU",
    "ember/ops/random.py": "factories build arrays on the CPU",
    "ember/ops/common.py": "dtype checks on scalars",
}
CUPY_FILES = {"ember/backend/cuda.py"}
CUPY_MODULES = {"cupy", "cupyx", "cupy_backends"}

# Third-party modules ember may import at module level: pyproject's runtime dependencies
# (import names). Anything else (torch, scipy, safetensors, tqdm) may be imported lazily
# inside a function only, for an optional feature.
RUNTIME_DEPENDENCIES = {"numpy", "ml_dtypes", "threadpoolctl"} | CUPY_MODULES


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to a module name."""

    source: str  # relative path of the importing file
    importer: str  # dotted name of the importing module
    target: str  # dotted name of the imported module
    line: int
    where: str  # "module" or "function"

    def __str__(self) -> str:
        return f"{self.source}:{self.line} ({self.where}-level) imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """Whether ``ember.a.b`` names a file or package (rather than an attribute)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, where: str):
    """Yield (import node, where) for every import below node, skipping TYPE_CHECKING blocks."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, where
        elif isinstance(child, ast.If) and _is_type_checking(child):
            for orelse in child.orelse:
                yield from _walk(ast.Module(body=[orelse], type_ignores=[]), where)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _walk(child, "function")
        else:
            yield from _walk(child, where)


def _targets(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolve against the importing package
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    # "from ember.ops import elementwise" imports the submodule; "from ember import float32"
    # imports from the package itself.
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if base.startswith("ember") and is_module(sub) else base)
    return out


def collect_imports() -> list[Import]:
    imports = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.relative_to(ROOT).as_posix()
        importer = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=source)
        for node, where in _walk(tree, "module"):
            for target in _targets(node, importer, path.name == "__init__.py"):
                imports.append(Import(source, importer, target, node.lineno, where))
    return imports


IMPORTS = collect_imports()


def layer_of(module: str) -> int | None:
    """The layer of an ember module (longest matching prefix), or None if it has none."""
    parts = module.split(".")
    for n in range(len(parts), 1, -1):
        layer = LAYERS.get(".".join(parts[:n]))
        if layer is not None:
            return layer
    return None


def describe(layer: int | None) -> str:
    return (
        "the public namespace `ember`" if layer is None else f"layer {layer} ({LAYER_NAMES[layer]})"
    )


def test_found_the_package():
    # Guards against a test that passes because it parsed nothing.
    importers = {imp.importer for imp in IMPORTS}
    assert {"ember.tensor", "ember.ops.elementwise", "ember.autograd.engine"} <= importers


def test_every_module_has_a_layer():
    missing = sorted(
        module_name(p)
        for p in PACKAGE.rglob("*.py")
        if module_name(p) != TOP and layer_of(module_name(p)) is None
    )
    if missing:
        pytest.fail(
            "modules outside every layer (add their package to LAYERS in "
            f"tests/test_layering.py and to DESIGN.md section 2): {missing}",
            pytrace=False,
        )


def test_imports_point_down():
    violations = []
    for imp in IMPORTS:
        if imp.importer == TOP or imp.target.split(".")[0] != "ember":
            continue
        own, theirs = layer_of(imp.importer), layer_of(imp.target)
        if own is None:
            continue  # reported by test_every_module_has_a_layer
        if imp.target == TOP:
            if (imp.importer, imp.target, imp.where) not in ALLOWED_UPWARD:
                violations.append(f"{imp}: {describe(own)} imports from {describe(None)}")
        elif theirs is not None and theirs > own:
            if (imp.importer, imp.target, imp.where) in ALLOWED_UPWARD:
                continue
            violations.append(f"{imp}: {describe(own)} imports upward from {describe(theirs)}")
    if violations:
        pytest.fail("upward imports:\n  " + "\n  ".join(violations), pytrace=False)


def test_sanctioned_exceptions_still_exist():
    # An exception nobody uses any more should be deleted, not kept as a loophole.
    used = {(i.importer, i.target, i.where) for i in IMPORTS}
    stale = [key for key in ALLOWED_UPWARD if key not in used]
    if stale:
        pytest.fail(f"ALLOWED_UPWARD entries no longer needed: {stale}", pytrace=False)


def _import_time_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], str]]:
    """Module-level imports between ember modules, as edges importer -> imported.

    Importing ``ember.a.b`` first runs ``ember/a/__init__.py``, so that is an edge too (unless
    the importer lives inside ``ember.a``, whose __init__ is then already running).
    """
    graph: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for imp in IMPORTS:
        if imp.where != "module" or imp.target.split(".")[0] != "ember":
            continue
        if (imp.importer, imp.target, imp.where) in ALLOWED_UPWARD:
            continue  # the late import in tensor.py runs after Tensor exists
        parts = imp.target.split(".")
        for n in range(2, len(parts) + 1):
            target = ".".join(parts[:n])
            if target != imp.importer and not imp.importer.startswith(target + "."):
                graph.setdefault(imp.importer, set()).add(target)
                how = "" if target == imp.target else f" imports {imp.target}, which runs {target}"
                why.setdefault((imp.importer, target), f"{imp.source}:{imp.line}{how}")
    return graph, why


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def _shortest_cycle(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """The shortest cycle through the component's first module, as [a, b, ..., a]."""
    start, members = component[0], set(component)
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph.get(node, ())):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if nxt in members and nxt not in parents:
                    parents[nxt] = node
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return component


def test_no_import_cycles():
    # A cycle works or breaks depending on which module is imported first (a partially
    # initialized module); the only sanctioned one is tensor.py's late import of ember.ops.
    graph, why = _import_time_graph()
    found = []
    for component in _cycles(graph):
        path = _shortest_cycle(graph, component)
        steps = [f"{a} -> {b} ({why[a, b]})" for a, b in itertools.pairwise(path)]
        found.append("\n    ".join(steps))
    if found:
        pytest.fail(
            "module-level import cycles (make one of these imports function-level):\n    "
            + "\n  and\n    ".join(found),
            pytrace=False,
        )


def _import_module_calls() -> list[tuple[str, int, str]]:
    """Literal targets of importlib.import_module("x") and __import__("x")."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            arg = node.args[0]
            if name in ("import_module", "__import__") and isinstance(arg, ast.Constant):
                out.append((source, node.lineno, str(arg.value)))
    return out


def test_cupy_only_in_backend_cuda():
    found = [
        str(imp)
        for imp in IMPORTS
        if imp.target.split(".")[0] in CUPY_MODULES and imp.source not in CUPY_FILES
    ]
    found += [
        f"{source}:{line} imports {name} dynamically"
        for source, line, name in _import_module_calls()
        if name.split(".")[0] in CUPY_MODULES and source not in CUPY_FILES
    ]
    if found:
        pytest.fail(
            "cupy imported outside ember/backend/cuda.py:\n  " + "\n  ".join(found), pytrace=False
        )


def _numpy_names_in(path: Path) -> list[str]:
    """Uses of the names np/numpy (catches a numpy re-exported by another module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(ROOT).as_posix()}:{node.lineno} uses the name {node.id}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in ("np", "numpy")
    ]


def test_ops_do_not_name_numpy():
    found = [
        f"{imp} (ops compute with xp = array_module(x), so they run on CuPy too)"
        for imp in IMPORTS
        if imp.source.startswith("ember/ops/")
        and imp.target.split(".")[0] == "numpy"
        and imp.source not in NUMPY_IN_OPS
    ]
    for path in sorted((PACKAGE / "ops").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() not in NUMPY_IN_OPS:
            found += _numpy_names_in(path)
    if found:
        pytest.fail("numpy named in ember/ops:\n  " + "\n  ".join(found), pytrace=False)


def test_module_level_imports_are_runtime_dependencies():
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    found = [
        f"{imp}: not the standard library nor a runtime dependency (import it inside the "
        "function that needs it, or add it to [project] dependencies)"
        for imp in IMPORTS
        if imp.where == "module"
        and (root := imp.target.split(".")[0])
        and root != "ember"
        and root not in stdlib
        and root not in RUNTIME_DEPENDENCIES
    ]
    if found:
        pytest.fail("\n  ".join(["third-party imports at module level:", *found]), pytrace=False)


# -- the checker checks itself on small sources, so a broken walk cannot pass silently ----------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import numpy as np", [("numpy", "module")]),
        (
            "def f():\n    from ember.ops import elementwise",
            [("ember.ops.elementwise", "function")],
        ),
        ("from ember import float32", [("ember", "module")]),
        ("from ember.ops.common import promote", [("ember.ops.common", "module")]),
        ("from . import shape", [("ember.ops.shape", "module")]),
        ("from .common import cast", [("ember.ops.common", "module")]),
        ("if TYPE_CHECKING:\n    import torch\nelse:\n    import json", [("json", "module")]),
        (
            "class A:\n    def f(self):\n        import ember.printing",
            [("ember.printing", "function")],
        ),
    ],
)
def test_checker_resolves_imports(code, expected):
    tree = ast.parse(code)
    got = [
        (target, where)
        for node, where in _walk(tree, "module")
        for target in _targets(node, "ember.ops.elementwise", is_package=False)
    ]
    assert got == expected


def test_checker_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    graph = {"a": {"b", "x"}, "b": {"c"}, "c": {"a"}, "x": {"b"}}
    assert _shortest_cycle(graph, ["a", "b", "c", "x"]) == ["a", "b", "c", "a"]


def test_checker_layers():
    assert layer_of("ember.autograd.function") == 2
    assert layer_of("ember.autograd") == 4
    assert layer_of("ember.autograd.engine") == 4
    assert layer_of("ember.ops.elementwise") == 3
    assert layer_of("ember.utils.data.dataloader") == 5
    assert layer_of("ember.nonexistent") is None
