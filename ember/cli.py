"""The ``ember`` command: ``info``, ``train``, ``generate`` and ``bench``.

``ember info`` prints versions, devices, the BLAS library and its threads; ``ember train
EXAMPLE [options]`` runs ``examples/EXAMPLE.py``'s ``main(options)``; ``ember generate`` samples
from the char GPT that ``examples/char_gpt.py`` saved (or from a Hugging Face GPT-2 folder);
``ember bench`` runs the scripts in ``benchmarks/``. Every subcommand has ``--help``.

The commands are built with click, imported inside ``build_cli`` (click is the ``cli`` extra,
not a runtime dependency), and the framework itself is imported only by the command that needs
it, so ``ember --help`` starts fast. The work is done by plain functions (``info``,
``run_example``, ``load_char_gpt``, ...) that raise ``CommandError`` for a user mistake; the
click layer turns that into ``Error: ...`` and exit status 1.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    from ember.datasets import Vocabulary
    from ember.nn import Module

__all__ = ["CommandError", "build_cli", "main"]

SOURCE_ROOT = Path(__file__).resolve().parents[1]  # the checkout that holds examples/
# Distribution name -> what it adds, for ``ember info``.
OPTIONAL_PACKAGES = {
    "tokenizers": "hf",
    "scikit-learn": "datasets",
    "mlxtend": "datasets",
    "Pillow": "images",
    "tqdm": "train",
    "tensorboardX": "train",
    "matplotlib": "train",
    "click": "cli",
    "torch": "test oracle",
    "transformers": "test oracle",
    "cupy": "cuda",
}


class CommandError(Exception):
    """A user mistake on the command line (unknown example, missing model folder, ...)."""


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def info() -> list[tuple[str, str]]:
    """Describe the installation as (field, value) rows: versions, devices, BLAS, dtype.

    Returns:
        Rows for ``ember``, ``python``, ``numpy``, ``ml_dtypes``, ``threadpoolctl``,
        ``safetensors``, ``optional`` (the optional packages present), ``missing``,
        ``devices``, ``blas`` and ``default dtype``.
    """
    import ml_dtypes
    import numpy
    from threadpoolctl import threadpool_info

    from ember.backend.dtypes import get_default_dtype

    present = [f"{n} {v}" for n in OPTIONAL_PACKAGES if (v := _version(n))]
    missing = [f"{n} ({why})" for n, why in OPTIONAL_PACKAGES.items() if not _version(n)]
    blas = [
        f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('num_threads')} threads)"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    return [
        ("ember", f"{_version('ember') or 'unknown'} ({Path(__file__).parent})"),
        ("python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("platform", f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"),
        ("numpy", numpy.__version__),
        ("ml_dtypes", ml_dtypes.__version__),
        ("threadpoolctl", _version("threadpoolctl") or "unknown"),
        ("safetensors", _version("safetensors") or "not installed"),
        ("optional", ", ".join(present) or "none"),
        ("missing", ", ".join(missing) or "none"),
        ("devices", "cpu; cuda: not available (the CuPy backend comes later)"),
        ("blas", "; ".join(blas) or "none found"),
        ("default dtype", str(get_default_dtype())),
    ]


def _folder(env: str, name: str) -> Path:
    override = os.environ.get(env)
    return Path(override) if override else SOURCE_ROOT / name


def examples_dir() -> Path:
    """The examples folder: ``$EMBER_EXAMPLES_DIR``, else ``examples/`` beside the package."""
    return _folder("EMBER_EXAMPLES_DIR", "examples")


def benchmarks_dir() -> Path:
    """The benchmarks folder: ``$EMBER_BENCHMARKS_DIR``, else ``benchmarks/`` beside the package."""
    return _folder("EMBER_BENCHMARKS_DIR", "benchmarks")


def list_scripts(folder: Path) -> dict[str, str]:
    """Map each script ``folder/NAME.py`` (not ``_private.py``) to its docstring's first line.

    The scripts are parsed, not imported, so listing them is fast and runs none of their code.
    """
    if not folder.is_dir():
        return {}
    scripts = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        try:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        except (SyntaxError, UnicodeDecodeError, OSError):
            doc = ""
        scripts[path.stem] = doc.strip().split("\n")[0]
    return scripts


def _find_script(folder: Path, name: str, kind: str) -> Path:
    if not folder.is_dir():
        raise CommandError(
            f"no {kind} folder at {folder}: the {kind} ship with the source checkout "
            f"(git clone the repository), or set $EMBER_{kind.upper()}_DIR"
        )
    scripts = list_scripts(folder)
    if name not in scripts:
        raise CommandError(
            f"unknown {kind[:-1]} {name!r}; available: {', '.join(scripts) or 'none'}"
        )
    return folder / f"{name}.py"


def run_example(name: str, argv: list[str]) -> Any:
    """Run ``examples/<name>.py``'s ``main(argv)`` in this process and return its result.

    Args:
        name: the example's file name without ``.py``.
        argv: the options passed to the example's ``main``.

    Returns:
        What ``main`` returned (the examples return a dict of their figures of merit).

    Raises:
        CommandError: the example does not exist or has no ``main``.
    """
    path = _find_script(examples_dir(), name, "examples")
    spec = importlib.util.spec_from_file_location(f"ember_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    saved_argv0 = sys.argv[0]
    sys.argv[0] = f"ember train {name}"  # argparse's prog in the example's usage line
    sys.path.insert(0, str(path.parent))  # an example may import a helper beside it
    try:
        spec.loader.exec_module(module)
        if not callable(getattr(module, "main", None)):
            raise CommandError(f"example {name!r} ({path}) has no main(argv) function")
        return module.main(list(argv))
    finally:
        sys.path.remove(str(path.parent))
        sys.argv[0] = saved_argv0


def load_char_gpt(model_dir: str | os.PathLike) -> tuple[Module, Vocabulary]:
    """Load the char GPT that ``examples/char_gpt.py`` saved into model_dir, in eval mode.

    The folder holds ``model.safetensors`` (the state dict, ``ember.save``), ``config.json``
    (the ``GPTConfig`` fields) and ``vocab.json`` (``Vocabulary.save``).

    Raises:
        CommandError: the folder or one of its files is missing.
    """
    import json

    from ember.datasets import Vocabulary
    from ember.io import load
    from ember.models import GPT, GPTConfig

    folder = Path(model_dir)
    for name in ("model.safetensors", "config.json", "vocab.json"):
        if not (folder / name).is_file():
            raise CommandError(
                f"{folder / name} not found: train a model first with `ember train char_gpt "
                f"--out {folder}`, or pass --model-dir (or --hf-dir for a GPT-2 folder)"
            )
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = GPT(GPTConfig(**config))
    model.load_state_dict(load(folder / "model.safetensors"))
    return model.eval(), Vocabulary.load(folder / "vocab.json")


def _generator(seed: int) -> Any:
    from ember.backend.random import Generator

    return Generator().manual_seed(seed)


def generate_char(
    model_dir: str | os.PathLike,
    prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    seed: int,
) -> str:
    """Sample max_new_tokens characters after prompt (a newline when empty) from a char GPT.

    Returns:
        The prompt followed by the sampled characters.
    """
    from ember.ops.creation import tensor

    model, vocab = load_char_gpt(model_dir)
    context = prompt or "\n"
    unknown = sorted({c for c in context if c not in vocab})
    if unknown:
        raise CommandError(f"the prompt has characters outside the vocabulary: {unknown}")
    idx = tensor([vocab.encode(context)])
    out = model.generate(
        idx, max_new_tokens, temperature=temperature, top_k=top_k, generator=_generator(seed)
    )
    return prompt + "".join(vocab.decode(out[0, len(context) :]))


def generate_hf(
    hf_dir: str | os.PathLike,
    prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_k: int | None,
    seed: int,
) -> str:
    """Sample from a Hugging Face GPT-2 folder (config.json, model.safetensors, tokenizer.json)."""
    from ember.models import GPT2LMHeadModel
    from ember.models.hub import load_tokenizer
    from ember.ops.creation import tensor

    if not Path(hf_dir).is_dir():
        raise CommandError(f"--hf-dir {hf_dir}: no such folder")
    tokenizer = load_tokenizer(hf_dir)
    if tokenizer is None:
        raise CommandError(f"{hf_dir} has no tokenizer.json")
    model = GPT2LMHeadModel.from_pretrained(hf_dir)
    ids = tokenizer.encode(prompt or "\n").ids
    out = model.generate(
        tensor([ids]),
        max_new_tokens,
        do_sample=True,
        temperature=temperature,
        top_k=top_k,
        generator=_generator(seed),
    )
    return tokenizer.decode(out[0].tolist())


def run_benchmarks(names: list[str], extra: list[str]) -> int:
    """Run the named benchmark scripts (all when names is empty) as subprocesses, in order.

    Args:
        names: benchmark names (file names without ``.py``).
        extra: arguments passed on to every script (``--quick``, ``--write``, ...).

    Returns:
        0 when every script exited with 0, else 1.
    """
    folder = benchmarks_dir()
    paths = [_find_script(folder, n, "benchmarks") for n in names]
    if not names:
        paths = [folder / f"{n}.py" for n in list_scripts(folder)]
        if not paths:
            raise CommandError(f"no benchmarks found in {folder}")
    failed = []
    for path in paths:
        print(f"$ {Path(sys.executable).name} {path.name} {' '.join(extra)}".rstrip(), flush=True)
        if subprocess.run([sys.executable, str(path), *extra], check=False).returncode != 0:
            failed.append(path.stem)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _print_scripts(folder: Path, kind: str) -> None:
    import click

    scripts = list_scripts(folder)
    if not scripts:
        raise CommandError(f"no {kind} found in {folder}")
    width = max(map(len, scripts))
    for name, summary in scripts.items():
        click.echo(f"{name:<{width}}  {summary}")


def build_cli() -> click.Group:
    """Build the ``ember`` click group (click is imported here, on first use)."""
    import click

    passthrough = {"ignore_unknown_options": True, "allow_interspersed_args": False}

    def guarded(fn: Any) -> Any:  # CommandError -> "Error: ..." and exit 1
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except CommandError as err:
                raise click.ClickException(str(err)) from None

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper

    @click.group("ember", context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(_version("ember") or "unknown", prog_name="ember")
    def cli() -> None:
        """Ember, a readable deep-learning framework with the PyTorch API."""

    @cli.command("info")
    @guarded
    def info_command() -> None:
        """Print versions, devices, the BLAS library and its threads, the default dtype."""
        rows = info()
        width = max(len(field) for field, _ in rows)
        for field, value in rows:
            click.echo(f"{field + ':':<{width + 1}} {value}")

    @cli.command("train", context_settings=passthrough)
    @click.option("--list", "list_", is_flag=True, help="List the examples and exit.")
    @click.argument("example", required=False)
    @click.argument("options", nargs=-1, type=click.UNPROCESSED)
    @guarded
    def train_command(list_: bool, example: str | None, options: tuple[str, ...]) -> None:
        """Run examples/EXAMPLE.py with OPTIONS (try `ember train EXAMPLE --help`).

        The examples folder is the one beside the package in a source checkout, or
        $EMBER_EXAMPLES_DIR. The returned figures of merit are printed at the end.
        """
        if list_:
            _print_scripts(examples_dir(), "examples")
            return
        if example is None:
            names = ", ".join(list_scripts(examples_dir())) or "none"
            raise click.UsageError(f"missing EXAMPLE; available: {names}")
        result = run_example(example, list(options))
        if isinstance(result, dict):
            for key, value in result.items():
                click.echo(f"{key}: {value}")

    @cli.command("generate")
    @click.option(
        "--model-dir",
        default=os.path.join("runs", "char_gpt"),
        show_default=True,
        help="Folder of a char GPT saved by examples/char_gpt.py.",
    )
    @click.option("--hf-dir", help="Sample from this Hugging Face GPT-2 folder instead.")
    @click.option("--prompt", default="", help="Text to continue (default: a newline).")
    @click.option("--max-new-tokens", default=200, show_default=True, type=click.IntRange(0))
    @click.option(
        "--temperature", default=0.8, show_default=True, type=click.FloatRange(0, min_open=True)
    )
    @click.option("--top-k", default=None, type=click.IntRange(1), help="Keep the k most likely.")
    @click.option("--seed", default=1337, show_default=True, type=int)
    @guarded
    def generate_command(
        model_dir: str,
        hf_dir: str | None,
        prompt: str,
        max_new_tokens: int,
        temperature: float,
        top_k: int | None,
        seed: int,
    ) -> None:
        """Sample text from a trained char GPT (or a GPT-2 folder with --hf-dir)."""
        args = (prompt, max_new_tokens, temperature, top_k, seed)
        text = generate_hf(hf_dir, *args) if hf_dir else generate_char(model_dir, *args)
        click.echo(text)

    @cli.command("bench", context_settings=passthrough)
    @click.option("--list", "list_", is_flag=True, help="List the benchmarks and exit.")
    @click.option("--only", multiple=True, help="Run only this benchmark (repeatable).")
    @click.option("--write", is_flag=True, help="Pass --write: update benchmarks/RESULTS.md.")
    @click.argument("extra", nargs=-1, type=click.UNPROCESSED)
    @guarded
    def bench_command(list_: bool, only: tuple[str, ...], write: bool, extra: tuple) -> None:
        """Run the side-by-side benchmarks vs PyTorch, passing EXTRA arguments on (--quick).

        Each script runs in its own process; needs the test extra (torch).
        """
        if list_:
            _print_scripts(benchmarks_dir(), "benchmarks")
            return
        status = run_benchmarks(list(only), [*extra, *(["--write"] if write else [])])
        if status:
            raise click.exceptions.Exit(status)

    return cli


def main(argv: list[str] | None = None) -> None:
    """Run the ``ember`` command (the console script's entry point)."""
    try:
        import click  # noqa: F401
    except ImportError:
        sys.exit("ember: the command line needs click: pip install 'ember[cli]'")
    build_cli().main(args=argv, prog_name="ember")
