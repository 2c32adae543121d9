"""`rulec compile`: output formats, exit codes, and no torch on the way."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rulec.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.rules"))
runner = CliRunner()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_compiles_and_prints_its_graph(path):
    result = runner.invoke(app, ["compile", str(path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "declarations:" in out and "rules:" in out and "nodes" in out and "shared" in out
    assert "goal " in out and "process " in out and "#0 color(" in out


def test_three_mistakes_print_all_three_and_exit_1():
    result = runner.invoke(app, ["compile", str(ROOT / "tests/golden/three_mistakes.rules")])
    assert result.exit_code == 1
    err = result.stderr
    assert "error[E102]" in err and "error[E201]" in err and "error[E301]" in err
    assert err.count("^") >= 3 and "3 errors" in err
    assert result.stdout == ""


def test_several_files_exit_1_if_any_is_invalid(tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text("goal g : nothing\n")
    result = runner.invoke(app, ["compile", str(EXAMPLES[0]), str(bad)])
    assert result.exit_code == 1
    assert "undefined name 'nothing'" in result.stderr and "graph:" in result.stdout


def test_missing_file_and_usage_errors_exit_2(tmp_path):
    result = runner.invoke(app, ["compile", str(tmp_path / "nope.rules")])
    assert result.exit_code == 2 and "cannot read" in result.stderr
    assert runner.invoke(app, ["compile"]).exit_code == 2
    assert runner.invoke(app, ["compile", str(EXAMPLES[0]), "--format", "yaml"]).exit_code == 2
    (tmp_path / "bin.rules").write_bytes(b"\xff\xfe")
    result = runner.invoke(app, ["compile", str(tmp_path / "bin.rules")])
    assert result.exit_code == 2 and "E013" in result.stderr


def test_json_format():
    result = runner.invoke(app, ["compile", str(ROOT / "examples/maze.rules"), "--format", "json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert isinstance(listed, list) and len(listed) == 1  # a list for one file too
    data = listed[0]
    assert data["ok"] and data["task"] == "maze" and len(data["rules"]) >= 2
    bad = runner.invoke(app, ["compile", str(ROOT / "tests/golden/three_mistakes.rules"), "-f", "json"])
    assert bad.exit_code == 1
    (data,) = json.loads(bad.stdout)
    assert not data["ok"] and [e["code"] for e in data["errors"]] == ["E102", "E201", "E301"]
    two = runner.invoke(app, ["compile", str(ROOT / "examples/maze.rules"), str(ROOT / "examples/navigate.rules"), "-f", "json"])
    assert two.exit_code == 0 and [d["task"] for d in json.loads(two.stdout)] == ["maze", "navigate"]


def test_dot_format():
    result = runner.invoke(app, ["compile", str(ROOT / "examples/maze.rules"), "--format", "dot"])
    assert result.exit_code == 0 and result.stdout.startswith("digraph rules {")


def test_frames_option_checks_windows():
    result = runner.invoke(app, ["compile", str(ROOT / "examples/navigate.rules"), "--frames", "2"])
    assert result.exit_code == 1 and "E302" in result.stderr
    assert runner.invoke(app, ["compile", str(ROOT / "examples/navigate.rules"), "--frames", "16"]).exit_code == 0


def test_no_colour_codes_when_not_a_terminal():
    result = runner.invoke(app, ["compile", str(ROOT / "tests/golden/three_mistakes.rules")])
    assert "\x1b[" not in result.stderr and "\x1b[" not in result.stdout


def test_compile_does_not_import_torch():
    code = ("import sys\nfrom rulec.cli import main\nsys.argv = ['rulec', 'compile', %r]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "import rulec\nrulec.compile_rules(%r)\nassert 'torch' not in sys.modules\n") % (
        str(ROOT / "examples/maze.rules"), str(ROOT / "examples/push.rules"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
