"""What every ``rulec`` command does the same way: --version, python -m rulec, -o/--out,
choices listed by --help, output folders made (or refused) before any work."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rulec.cli import app

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "examples" / "tasks" / "navigate_00000"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def rulec(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def commands(group, prefix: str = ""):
    """Every (name, command) of the CLI, sub-commands included."""
    for name, cmd in getattr(group, "commands", {}).items():
        yield f"{prefix}{name}", cmd
        yield from commands(cmd, f"{prefix}{name} ")


def test_version_and_python_dash_m():
    result = rulec("--version")
    assert result.exit_code == 0 and result.output.strip() == f"rulec {VERSION}"
    done = subprocess.run([sys.executable, "-m", "rulec", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == f"rulec {VERSION}", done.stderr


def test_every_output_option_is_dash_o_and_out():
    seen = []
    for name, cmd in commands(typer.main.get_command(app)):
        for param in cmd.params:
            if param.param_type_name == "option" and param.name in ("out", "output"):
                seen.append(name)
                assert {"-o", "--out"} <= set(param.opts), (name, param.opts)
    assert {"run", "explain", "bench", "tasks make", "tasks show", "toy sample", "toy train", "teach"} <= set(seen)


def test_old_output_spelling_still_works_for_teach(tmp_path):
    result = rulec("teach", tmp_path / "none", "--output", tmp_path / "r.rules", "--model", "m", "--base-url", "http://127.0.0.1:9")
    assert result.exit_code == 2 and "No such option" not in result.output


def test_run_method_is_a_choice_that_help_lists():
    result = rulec("run", "--help")
    assert result.exit_code == 0
    for method in ("tto", "best-of-n", "base"):
        assert method in result.output
    bad = rulec("run", TASK, "--method", "nope", "-o", "/tmp/never")
    assert bad.exit_code == 2 and "nope" in bad.output and "best-of-n" in bad.output


def test_missing_output_folders_are_created(tmp_path):
    sheet = tmp_path / "a" / "b" / "sheet.png"
    assert rulec("tasks", "show", TASK, "-o", sheet).exit_code == 0 and sheet.is_file()
    out = tmp_path / "c" / "d" / "run"
    result = rulec("run", TASK, "--method", "base", "--sample-steps", "2", "-o", out)
    assert result.exit_code == 0, result.output
    assert (out / "report.json").is_file()


@pytest.mark.parametrize("args", [
    ("run", TASK, "--method", "base", "-o", "{file}/out"),
    ("tasks", "show", TASK, "-o", "{file}/x.png"),
    ("toy", "sample", TASK, "-o", "{file}/x.mp4"),
    ("bench", "--tasks", TASK, "--methods", "base", "-o", "{file}/results"),
    ("tasks", "make", "-o", "{file}/instances", "--n", "1"),
    ("teach", TASK, "--model", "m", "--base-url", "http://127.0.0.1:9", "--no-cache", "--log", "{file}/log.json"),
    ("toy", "train", "--state", "{file}/state.safetensors", "--max-minutes", "0.01"),
])
def test_an_output_under_a_file_is_refused_before_any_work(tmp_path, monkeypatch, args):
    from rulec.runtime.models import load as reasoners
    from rulec.runtime.tasks import folder

    monkeypatch.setattr(folder, "load_task_folder", lambda *a, **k: pytest.fail("read the task before the output path"))
    monkeypatch.setattr(reasoners, "load_reasoner", lambda *a, **k: pytest.fail("loaded a model first"))
    (tmp_path / "file").write_text("mine")
    result = rulec(*[str(a).replace("{file}", str(tmp_path / "file")) for a in args])
    assert result.exit_code == 2 and "cannot create the output folder" in result.output, result.output
    assert (tmp_path / "file").read_text() == "mine"


def test_list_options_take_commas_or_repeats(tmp_path, monkeypatch):
    """One style for list options: comma-separated, repeated, or both (--families a,b == --family a --family b)."""
    from rulec.runtime.bench import run as bench

    asked = []

    def plan_items(**kwargs):
        asked.append((kwargs["families"], kwargs["methods"], kwargs["budgets"]))
        raise ValueError("stop here")

    monkeypatch.setattr(bench, "plan_items", plan_items)
    for args in (["--families", "navigate,maze", "--methods", "base,tto", "--budget", "12,24"],
                 ["--family", "navigate", "--family", "maze", "--method", "base", "--method", "tto", "--budget", "12", "--budget", "24"],
                 ["--families", "navigate", "--families", "maze", "--methods", "base,tto", "--budgets", "12,24"]):
        assert rulec("bench", *args, "-o", tmp_path / "b").exit_code == 2
    assert asked == [(["navigate", "maze"], ["base", "tto"], [12, 24])] * 3
    for i, args in enumerate((["--families", "navigate,maze"], ["-f", "navigate", "--family", "maze"])):
        result = rulec("tasks", "make", "-o", tmp_path / f"t{i}", *args, "--n", "1")
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / f"t{i}").iterdir()) == ["maze_00000", "navigate_00000"]


def test_tasks_make_takes_dash_o_and_its_old_positional_folder(tmp_path):
    assert rulec("tasks", "make", tmp_path / "old", "--n", "1", "-f", "navigate").exit_code == 0
    assert (tmp_path / "old" / "navigate_00000").is_dir()
    result = rulec("tasks", "make", "--n", "1")
    assert result.exit_code == 2 and "-o/--out" in result.output


@pytest.mark.parametrize("command, choices", [
    (("run",), ["tto", "best-of-n", "base"]),
    (("bench",), ["fixed|fresh", "prompt|none", "base|plan-in-prompt|best-of-n|tto"]),
    (("toy", "train"), ["latent|pixel", "x0|v"]),
    (("compile",), ["text|json|dot"]),
    (("teach",), ["openai|transformers"]),
])
def test_choices_are_listed_by_help(command, choices, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = rulec(*command, "--help")
    assert result.exit_code == 0
    for choice in choices:
        assert choice in result.output, (command, choice)


def test_a_bad_choice_names_the_choices(tmp_path):
    result = rulec("bench", "--noise", "loud", "-o", tmp_path / "x")
    assert result.exit_code == 2 and "fixed" in result.output and "fresh" in result.output
    assert not (tmp_path / "x").exists()
