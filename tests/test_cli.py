"""The `ember` command: info, train, generate, bench, through click's CliRunner.

Examples and benchmarks come from small fake scripts in temporary folders (EMBER_EXAMPLES_DIR,
EMBER_BENCHMARKS_DIR); generation is checked against calling the saved model directly.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import cli
from ember.datasets import Vocabulary
from ember.models import GPT, GPT2Config, GPT2LMHeadModel, GPTConfig

click_testing = pytest.importorskip("click.testing")

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    return click_testing.CliRunner().invoke(cli.build_cli(), list(args), catch_exceptions=False)


def write(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


# -- help and info ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["info"], ["train"], ["generate"], ["bench"]])
def test_help_on_every_command(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(['ember', *command])}")
    if not command:
        for name in ("info", "train", "generate", "bench"):
            assert f"  {name} " in result.output


def test_version_option():
    result = invoke("--version")
    assert result.exit_code == 0
    assert ember.__version__ in result.output


def test_info_fields():
    import ml_dtypes
    from threadpoolctl import threadpool_info

    result = invoke("info")
    assert result.exit_code == 0, result.output
    rows = dict(line.split(":", 1) for line in result.output.splitlines())
    rows = {k: v.strip() for k, v in rows.items()}
    assert rows["ember"].startswith(ember.__version__)
    assert rows["python"].startswith(".".join(map(str, sys.version_info[:3])))
    assert rows["numpy"] == np.__version__
    assert rows["ml_dtypes"] == ml_dtypes.__version__
    assert rows["devices"] == "cpu; cuda: not available (the CuPy backend comes later)"
    assert rows["default dtype"] == str(ember.get_default_dtype()) == "ember.float32"
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert f"{blas[0]['internal_api']} {blas[0]['version']}" in rows["blas"]
    assert f"({blas[0]['num_threads']} threads)" in rows["blas"]
    assert rows["safetensors"] == importlib.metadata.version("safetensors")
    assert "cupy (cuda)" in rows["missing"]  # no CuPy in the test environment


# -- train --------------------------------------------------------------------------------------

FAKE_EXAMPLE = '''
    """A fake example: records its options and writes a file.

    More text that the listing leaves out.
    """

    import argparse
    from pathlib import Path


    def main(argv=None):
        p = argparse.ArgumentParser(description="fake")
        p.add_argument("--epochs", type=int, default=1)
        p.add_argument("--out", default="runs/fake")
        p.add_argument("--smoke", action="store_true")
        args = p.parse_args(argv)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "done.txt").write_text(str(args.epochs))
        return {"accuracy": 0.5 + args.epochs / 100, "smoke": args.smoke}
'''


@pytest.fixture
def examples(tmp_path, monkeypatch):
    folder = tmp_path / "examples"
    write(folder, "fake.py", FAKE_EXAMPLE)
    write(folder, "other.py", '"""Another one."""\n\ndef main(argv=None):\n    return {}\n')
    write(folder, "no_main.py", '"""Has no main."""\n')
    write(folder, "_helper.py", "X = 1\n")  # private: not an example
    monkeypatch.setenv("EMBER_EXAMPLES_DIR", str(folder))
    return folder


def test_train_list(examples):
    result = invoke("train", "--list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["fake", "no_main", "other"]
    assert lines[0].endswith("A fake example: records its options and writes a file.")


def test_train_runs_main_with_the_options(examples, tmp_path):
    out = tmp_path / "run"
    result = invoke("train", "fake", "--epochs", "3", "--smoke", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / "done.txt").read_text() == "3"
    assert result.output.splitlines()[-2:] == ["accuracy: 0.53", "smoke: True"]
    assert cli.run_example("fake", ["--out", str(out)]) == {"accuracy": 0.51, "smoke": False}
    assert str(examples) not in sys.path  # the folder is taken off sys.path again


def test_train_help_goes_to_the_example(examples):
    result = invoke("train", "fake", "--help")
    assert result.exit_code == 0
    assert "usage: ember train fake [-h] [--epochs EPOCHS]" in result.output


def test_train_errors(examples, tmp_path, monkeypatch):
    result = invoke("train", "nope")
    assert result.exit_code == 1
    assert "Error: unknown example 'nope'; available: fake, no_main, other" in result.output
    result = invoke("train")
    assert result.exit_code == 2
    assert "missing EXAMPLE; available: fake, no_main, other" in result.output
    result = invoke("train", "no_main")
    assert result.exit_code == 1
    assert "example 'no_main'" in result.output and "has no main(argv)" in result.output
    result = invoke("train", "fake", "--epochs", "x")  # the example's own argparse error
    assert result.exit_code == 2
    assert "invalid int value: 'x'" in result.output
    monkeypatch.setenv("EMBER_EXAMPLES_DIR", str(tmp_path / "missing"))
    result = invoke("train", "fake")
    assert result.exit_code == 1
    assert "ship with the source checkout" in result.output


def test_examples_folder_is_beside_the_package(monkeypatch):
    monkeypatch.delenv("EMBER_EXAMPLES_DIR", raising=False)
    assert cli.examples_dir() == Path(ember.__file__).resolve().parents[1] / "examples"
    assert "regression_demo" in cli.list_scripts(cli.examples_dir())


# -- generate -----------------------------------------------------------------------------------

TEXT = "to be or not to be, that is the question\n"


@pytest.fixture(scope="module")
def char_gpt(tmp_path_factory):
    """A tiny GPT saved as examples/char_gpt.py saves it (weights, config.json, vocab.json)."""
    folder = tmp_path_factory.mktemp("char_gpt")
    vocab = Vocabulary.build(TEXT, unk_token=None, sort_by="alphabet")
    ember.manual_seed(0)
    config = GPTConfig(block_size=8, vocab_size=len(vocab), n_layer=1, n_head=2, n_embd=16)
    model = GPT(config)
    ember.save(model.state_dict(), folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(vars(config)))
    vocab.save(folder / "vocab.json")
    return folder, model.eval(), vocab


@pytest.mark.parametrize(
    ("prompt", "top_k", "temperature"), [("to be", None, 0.8), ("", 3, 1.5), ("t", 1, 1.0)]
)
def test_generate_char_gpt(char_gpt, prompt, top_k, temperature):
    folder, model, vocab = char_gpt
    args = ["--model-dir", str(folder), "--max-new-tokens", "12", "--seed", "7"]
    args += ["--temperature", str(temperature), "--prompt", prompt]
    args += ["--top-k", str(top_k)] if top_k else []
    result = invoke("generate", *args)
    assert result.exit_code == 0, result.output
    text = result.output[:-1]  # echo adds a newline
    # The oracle: the model called directly with the same seed.
    context = prompt or "\n"
    gen = ember.Generator().manual_seed(7)
    idx = ember.tensor([vocab.encode(context)])
    expected = model.generate(idx, 12, temperature=temperature, top_k=top_k, generator=gen)
    assert text == prompt + "".join(vocab.decode(expected[0, len(context) :]))
    assert len(text) == len(prompt) + 12
    assert invoke("generate", *args).output == result.output  # same seed, same text


def test_generate_errors(char_gpt, tmp_path):
    folder, _, _ = char_gpt
    result = invoke("generate", "--model-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "model.safetensors not found: train a model first with `ember train char_gpt" in (
        result.output
    )
    result = invoke("generate", "--model-dir", str(folder), "--prompt", "XYZ")
    assert result.exit_code == 1
    assert "outside the vocabulary: ['X', 'Y', 'Z']" in result.output
    for option, value in [("--temperature", "0"), ("--top-k", "0"), ("--max-new-tokens", "-1")]:
        result = invoke("generate", "--model-dir", str(folder), option, value)
        assert result.exit_code == 2, option
        assert f"Invalid value for '{option}'" in result.output
    result = invoke("generate", "--hf-dir", str(tmp_path / "missing"))
    assert result.exit_code == 1
    assert "no such folder" in result.output


def test_generate_from_a_hugging_face_folder(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    words = ["[UNK]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "."]
    vocab = {w: i for i, w in enumerate(words)}
    tokenizer = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    tokenizer.decoder = tokenizers.decoders.WordPiece()  # joins the words with spaces
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    # A Hugging Face folder: config.json (GPT2Config's names) and model.safetensors.
    config = GPT2Config(vocab_size=len(words), n_positions=16, n_embd=16, n_layer=1, n_head=2)
    ember.manual_seed(0)
    ember.io.save_safetensors(GPT2LMHeadModel(config).state_dict(), tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text(json.dumps({**vars(config), "eos_token_id": 0}))

    args = ["--hf-dir", str(tmp_path), "--prompt", "the cat", "--max-new-tokens", "6"]
    result = invoke("generate", *args, "--top-k", "4", "--seed", "3")
    assert result.exit_code == 0, result.output
    model = GPT2LMHeadModel.from_pretrained(tmp_path)
    gen = ember.Generator().manual_seed(3)
    ids = ember.tensor([tokenizer.encode("the cat").ids])
    out = model.generate(ids, 6, do_sample=True, temperature=0.8, top_k=4, generator=gen)
    assert result.output == tokenizer.decode(out[0].tolist()) + "\n"
    assert result.output.startswith("the cat")
    (tmp_path / "tokenizer.json").unlink()
    result = invoke("generate", *args)
    assert result.exit_code == 1
    assert "has no tokenizer.json" in result.output


# -- bench --------------------------------------------------------------------------------------

FAKE_BENCH = '''
    """A fake benchmark that records its arguments."""

    import sys
    from pathlib import Path

    Path(__file__).with_suffix(".args").write_text(" ".join(sys.argv[1:]))
    sys.exit({status})
'''


@pytest.fixture
def benchmarks(tmp_path, monkeypatch):
    folder = tmp_path / "benchmarks"
    write(folder, "fast.py", FAKE_BENCH.format(status=0))
    write(folder, "other.py", FAKE_BENCH.format(status=0))
    write(folder, "broken.py", FAKE_BENCH.format(status=3))
    monkeypatch.setenv("EMBER_BENCHMARKS_DIR", str(folder))
    return folder


def test_bench_list(benchmarks):
    result = invoke("bench", "--list")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == ["broken", "fast", "other"]
    assert "A fake benchmark that records its arguments." in result.output


def test_bench_only_passes_arguments_on(benchmarks):
    result = invoke("bench", "--only", "fast", "--quick", "--write", "--threads", "1")
    assert result.exit_code == 0, result.output
    assert (benchmarks / "fast.args").read_text() == "--quick --threads 1 --write"
    assert not (benchmarks / "other.args").exists()
    assert "fast.py --quick --threads 1 --write" in result.output


def test_bench_all_reports_failures(benchmarks):
    result = invoke("bench", "--", "--quick")
    assert result.exit_code == 1
    for name in ("broken", "fast", "other"):
        assert (benchmarks / f"{name}.args").read_text() == "--quick"
    assert "failed: broken" in result.output


def test_bench_unknown(benchmarks):
    result = invoke("bench", "--only", "nope")
    assert result.exit_code == 1
    assert "unknown benchmark 'nope'; available: broken, fast, other" in result.output


def test_bench_real_folder_lists_the_benchmarks(monkeypatch):
    monkeypatch.delenv("EMBER_BENCHMARKS_DIR", raising=False)
    result = invoke("bench", "--list")
    assert result.exit_code == 0
    assert "overhead" in result.output.split()


# -- the console script -------------------------------------------------------------------------


def test_console_script_entry_point():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"ember": "ember.cli:main"}


def test_python_dash_m_ember(tmp_path):
    env = {**os.environ, "EMBER_EXAMPLES_DIR": str(tmp_path)}
    code = (
        "import sys, runpy; sys.argv = ['ember', '--help']\n"
        "try:\n    runpy.run_module('ember', run_name='__main__')\n"
        "except SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = {'torch', 'transformers', 'tokenizers', 'matplotlib'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "Usage: ember [OPTIONS] COMMAND [ARGS]..." in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "ember", "train", "nope"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 1
    assert "Error: unknown example 'nope'; available: none" in done.stderr


def test_main_without_click(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "click", None)  # import click raises ImportError
    with pytest.raises(SystemExit, match=r"needs click: pip install 'ember\[cli\]'"):
        cli.main(["info"])
