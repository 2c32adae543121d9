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
    assert {"run", "explain", "bench", "tasks show", "toy sample", "toy train", "teach"} <= set(seen)


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
