"""Count code lines per package under ember/: no docstrings, comments or blank lines.

Usage: ``python tools/sz.py [ROOT]`` (run by ``make lint``). Modelled on tinygrad's sz.py.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from collections import defaultdict
from pathlib import Path

SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}


def docstring_lines(source: str) -> set[int]:
    """Line numbers taken by docstrings (module, class and function)."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(source: str) -> int:
    """Lines that hold at least one token of code (not a comment, not a docstring)."""
    docs = docstring_lines(source)
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in SKIP or tok.type == tokenize.ENDMARKER:
            continue
        lines.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in docs)
    return len(lines)


def package_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1]) if len(parts) > 1 else parts[0]


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "ember"
    per_package: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        n = code_lines(path.read_text(encoding="utf-8"))
        per_package[package_of(path, root)].append((path.name, n))
    width = max(len(p) for p in per_package) + 2
    print(f"{'package':<{width}} {'files':>5} {'lines':>6}  largest file")
    print("-" * (width + 40))
    total = 0
    for package, files in sorted(per_package.items()):
        lines = sum(n for _, n in files)
        total += lines
        name, most = max(files, key=lambda f: f[1])
        print(f"{package:<{width}} {len(files):>5} {lines:>6}  {name} ({most})")
    print("-" * (width + 40))
    print(f"{'total':<{width}} {sum(map(len, per_package.values())):>5} {total:>6}")


if __name__ == "__main__":
    main()
