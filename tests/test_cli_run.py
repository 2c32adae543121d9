"""``rulec run``: outputs, progress, and clear errors that leave nothing partial."""

from __future__ import annotations

import json

import pytest
import typer
from test_tto_support import RedRightReward
from typer.testing import CliRunner

from rulec.cli import run as cli_run
from rulec.runtime.optimize import solve
from rulec.runtime.tasks import make_instance, write_instance
from rulec.runtime.models.wan import save_tiny_wan

runner = CliRunner()


def app() -> typer.Typer:
    a = typer.Typer()
    cli_run.register(a)
    a.command("noop", hidden=True)(lambda: None)  # keep `run` a sub-command, as in rulec's app
    return a


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    task = write_instance(make_instance("navigate", 0), root / "navigate_0")
    wan = save_tiny_wan(root / "wan")
    return root, task, wan


@pytest.fixture
def fake_rules(monkeypatch):
    """The compiled reward replaced by a fake of the same interface (a redness goal)."""
    monkeypatch.setattr(solve, "load_reward", lambda path, frames: RedRightReward(threshold=0.4))


def invoke(*args):
    return runner.invoke(app(), ["run", *map(str, args)])


@pytest.mark.parametrize("method", ["tto", "best-of-n", "base"])
def test_run_writes_video_reports_and_lora(files, fake_rules, tmp_path, method):
    root, task, wan = files
    out = tmp_path / "out"
    res = invoke(task, "--model", wan, "--method", method, "--budget", 2, "--sample-steps", 2, "-o", out)
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"video.mp4", "frames", "report.json", "report.png"} <= names
    assert ("lora.safetensors" in names) == (method == "tto")
    report = json.loads((out / "report.json").read_text())
    assert report["method"] == method and "final" in report and "rules" in report["final"]
    assert report["base"]["evaluations"] == 2
    if method == "tto":
        assert [h["step"] for h in report["history"]] == list(range(len(report["history"])))
        assert all({"loss", "rules", "evaluations"} <= set(h) for h in report["history"])
    if method == "best-of-n":
        assert report["n"] == 2 and report["evaluations"] == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]


def test_run_with_screening_records_the_screened_seeds(files, fake_rules, tmp_path):
    root, task, wan = files
    out = tmp_path / "out"
    res = invoke(task, "--model", wan, "--budget", 1, "--sample-steps", 2, "--screen", 3, "-o", out)
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["screen"] == 3
    assert [c["seed"] for c in report["screened"]] == [0, 1, 2]
    assert report["history"][0]["seed"] in (0, 1, 2)
    bad = invoke(task, "--model", wan, "--screen", -1, "-o", tmp_path / "bad")
    assert bad.exit_code != 0 and "screen must be >= 0" in bad.output and not (tmp_path / "bad").exists()


def test_missing_task_folder(files, tmp_path):
    res = invoke(tmp_path / "nope", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "task folder not found" in res.output
    assert not (tmp_path / "out").exists()


def test_missing_model_path(files, fake_rules, tmp_path):
    root, task, wan = files
    res = invoke(task, "--model", tmp_path / "no-model", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "model path does not exist" in res.output
    assert not (tmp_path / "out").exists()


def test_model_folder_that_is_not_wan(files, fake_rules, tmp_path):
    root, task, wan = files
    bad = tmp_path / "bad-model"
    bad.mkdir()
    (bad / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    res = invoke(task, "--model", bad, "-o", tmp_path / "out")
    assert res.exit_code == 2 and "not supported" in res.output
    assert not (tmp_path / "out").exists()


def test_rules_that_do_not_compile(files, tmp_path):
    root, task, wan = files
    rules = tmp_path / "bad.rules"
    rules.write_text("goal reach : eventually insde(agent, goal)\n")
    res = invoke(task, "--rules", rules, "--model", wan, "-o", tmp_path / "out")
    assert res.exit_code == 1 and "insde" in res.output
    assert not (tmp_path / "out").exists()


def test_minimal_vbvr_folder_and_plan_caption(files, fake_rules, tmp_path):
    """A folder with only first_frame.png (+ metadata) runs; --caption plan needs plan_caption."""
    import shutil

    root, task, wan = files
    minimal = tmp_path / "minimal"
    minimal.mkdir()
    shutil.copy(task / "first_frame.png", minimal / "first_frame.png")
    res = invoke(minimal, "--model", wan, "--method", "base", "--sample-steps", 2, "--caption", "plan", "-o", tmp_path / "o1")
    assert res.exit_code == 2 and "plan_caption" in res.output and not (tmp_path / "o1").exists()
    res = invoke(task, "--model", wan, "--method", "base", "--sample-steps", 2, "--caption", "plan", "-o", tmp_path / "o2")
    assert res.exit_code == 0, res.output
    meta = json.loads((task / "question_metadata.json").read_text())
    assert json.loads((tmp_path / "o2" / "report.json").read_text())["caption"] == meta["plan_caption"]
    res = invoke(minimal, "--model", wan, "--method", "base", "--sample-steps", 2, "-o", tmp_path / "o3")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "o3" / "report.json").read_text())["caption"] == ""  # no prompt.txt: empty
    res = invoke(task, "--model", wan, "--method", "base", "--sample-steps", 2, "-o", tmp_path / "o4")
    assert res.exit_code == 0, res.output
    prompt = (task / "prompt.txt").read_text().strip()
    assert prompt and json.loads((tmp_path / "o4" / "report.json").read_text())["caption"] == prompt  # default: the prompt
    res = invoke(task, "--model", wan, "--method", "base", "--sample-steps", 2, "--caption", "none", "-o", tmp_path / "o5")
    assert res.exit_code == 0 and json.loads((tmp_path / "o5" / "report.json").read_text())["caption"] == ""


def test_missing_rules_file(files, tmp_path):
    root, task, wan = files
    res = invoke(task, "--rules", tmp_path / "none.rules", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "rules file not found" in res.output
    assert not (tmp_path / "out").exists()


def test_unknown_method(files, fake_rules, tmp_path):
    root, task, wan = files
    res = invoke(task, "--method", "magic", "-o", tmp_path / "out")
    assert res.exit_code == 2 and "--method" in res.output
    assert not (tmp_path / "out").exists()


def test_failure_while_writing_leaves_nothing(files, fake_rules, tmp_path, monkeypatch):
    root, task, wan = files
    from rulec.runtime.optimize import report as run_report

    def boom(*a, **k):
        raise RunBoom("disk full")

    class RunBoom(Exception):
        pass

    monkeypatch.setattr(run_report, "write_visual_report", boom)
    res = invoke(task, "--model", wan, "--method", "base", "--sample-steps", 2, "-o", tmp_path / "out")
    assert res.exit_code != 0
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.partial")]
