"""`rulec check` and `rulec explain` on the tutorial's videos: exit codes, JSON, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rulec.cli import app

TUTORIAL = Path(__file__).resolve().parents[1] / "examples" / "tutorial"
RULES = TUTORIAL / "deliver.rules"


def run(*args) -> "object":
    return CliRunner().invoke(app, [str(a) for a in args])


def test_good_video_passes_with_exit_0():
    result = run("check", RULES, TUTORIAL / "good.mp4")
    assert result.exit_code == 0, result.output
    assert "PASS: 6/6 rules pass" in result.output


def test_broken_video_fails_with_exit_1_naming_the_broken_rules():
    result = run("check", RULES, TUTORIAL / "broken.mp4", "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert set(data) == {"schema", "video", "rules_file", "frames", "passed", "rules_passed", "rules"}
    assert data["schema"] == "rulec.verdict/1" and data["rules_passed"] == 3
    assert data["passed"] is False and data["frames"] == 16
    verdicts = {r["name"]: r["passed"] for r in data["rules"]}
    assert verdicts == {"route": False, "stop": True, "safe": False, "one": True, "steady": True, "scene": False}
    for rule in data["rules"]:
        assert set(rule) == {"name", "kind", "weight", "passed", "robustness", "failed_frames"}
        assert (rule["robustness"] > 0) == rule["passed"]
        assert (rule["failed_frames"] == []) == rule["passed"]
    safe = next(r for r in data["rules"] if r["name"] == "safe")
    assert safe["failed_frames"] == [5, 6, 7, 8, 9]  # the frames the disc crosses the orange zone


def test_corrupt_video_is_a_clear_error_with_exit_2(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    result = run("check", RULES, bad)
    assert result.exit_code == 2
    assert "cannot read video" in result.output and "bad.mp4" in result.output
    assert "Traceback" not in result.output


def test_missing_files_and_invalid_rules(tmp_path):
    assert run("check", tmp_path / "none.rules", TUTORIAL / "good.mp4").exit_code == 2
    assert run("check", RULES, tmp_path / "none.mp4").exit_code == 2
    broken_rules = tmp_path / "typo.rules"
    broken_rules.write_text(RULES.read_text().replace("inside(disc, drop)\n", "insde(disc, drop)\n"))
    result = run("check", broken_rules, TUTORIAL / "good.mp4")
    assert result.exit_code == 2  # unusable input, not "a rule fails" (1)
    assert "E102" in result.output and "did you mean 'inside'" in result.output


def test_window_longer_than_the_video_is_reported_against_the_rule(tmp_path):
    rules = tmp_path / "late.rules"
    rules.write_text(RULES.read_text() + "goal late : eventually[20:] inside(disc, drop)\n")
    result = run("check", rules, TUTORIAL / "good.mp4")
    assert result.exit_code == 2  # rules that do not fit the video are unusable input
    assert "late.rules:16:" in result.output and "window" in result.output


@pytest.mark.parametrize("suffix", [".html", ".png"])
def test_explain_writes_a_report(tmp_path, suffix):
    out = tmp_path / f"report{suffix}"
    result = run("explain", RULES, TUTORIAL / "broken.mp4", "-o", out)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    else:
        text = data.decode()
        assert "FAIL" in text and "safe" in text and "5-9" in text and "data:image/png;base64," in text


def test_explain_refuses_an_unknown_format(tmp_path):
    assert run("explain", RULES, TUTORIAL / "good.mp4", "-o", tmp_path / "r.pdf").exit_code == 2


def _error_object(result) -> dict:
    """The JSON error object ``check --json`` prints for exit code 2 (stdout only, no text)."""
    assert result.exit_code == 2, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"schema", "error"} and data["schema"] == "rulec.verdict/1"
    return data["error"]


def test_check_json_gives_an_error_object_for_unusable_input(tmp_path):
    broken_rules = tmp_path / "typo.rules"
    broken_rules.write_text(RULES.read_text().replace("inside(disc, drop)\n", "insde(disc, drop)\n"))
    err = _error_object(run("check", broken_rules, TUTORIAL / "good.mp4", "--json"))
    assert err["kind"] == "rules" and "E102" in err["message"]
    assert {d["code"] for d in err["diagnostics"]} == {"E102"}  # both misspelt calls
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video")
    err = _error_object(run("check", RULES, bad, "--json"))
    assert err["kind"] == "video" and "bad.mp4" in err["message"]
    err = _error_object(run("check", tmp_path / "none.rules", TUTORIAL / "good.mp4", "--json"))
    assert err["kind"] == "input" and "none.rules" in err["message"]


def test_explain_creates_a_missing_output_folder(tmp_path):
    out = tmp_path / "missing" / "dir" / "x.html"
    result = run("explain", RULES, TUTORIAL / "broken.mp4", "-o", out)
    assert result.exit_code == 0, result.output  # a failing video still gets its report
    assert out.is_file() and "FAIL" in out.read_text()


def test_explain_refuses_an_output_under_a_file_before_any_work(tmp_path, monkeypatch):
    import rulec.check

    (tmp_path / "file").write_text("mine")
    monkeypatch.setattr(rulec.check, "check_file", lambda *a: pytest.fail("checked before the output path"))
    result = run("explain", RULES, TUTORIAL / "broken.mp4", "-o", tmp_path / "file" / "x.png")
    assert result.exit_code == 2 and "cannot create the output folder" in result.output
    assert (tmp_path / "file").read_text() == "mine"
