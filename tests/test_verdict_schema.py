"""One verdict schema (docs/verdict.schema.json) for every output that carries a verdict:
``rulec check --json`` (verdicts and error objects), report.json of ``rulec run``, bench
records and ``RewardReport.to_dict()``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from rulec.cli import app
from rulec.verdict import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "examples" / "tutorial"
TASK = ROOT / "examples" / "tasks" / "navigate_00000"
VALIDATOR = jsonschema.Draft202012Validator(json.loads((ROOT / "docs" / "verdict.schema.json").read_text()))


def valid(data) -> dict:
    VALIDATOR.validate(data)
    return data


def is_verdict(data) -> bool:
    return "error" not in valid(data)


def rulec(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_schema_file_is_a_schema_and_names_the_version():
    jsonschema.Draft202012Validator.check_schema(VALIDATOR.schema)
    assert VALIDATOR.schema["$defs"]["schema"]["const"] == SCHEMA


def test_the_schema_rejects_the_old_shapes():
    """The two schemas of before (a dict keyed by rule name with ``exact``; no version) fail."""
    old_run = {"passed": True, "rules_passed": 1, "rules": {"reach": {"exact": 1.0, "smooth": 0.5, "passed": True}}}
    old_check = {"passed": True, "rules": [{"name": "r", "kind": "goal", "weight": 1.0, "passed": True,
                                            "robustness": 1.0, "failed_frames": []}]}
    for data in (old_run, old_check, {**old_check, "schema": SCHEMA, "rules_passed": 1, "rules": [{"name": "r", "exact": 1.0}]}):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(data)


@pytest.mark.parametrize("video, code", [("good.mp4", 0), ("broken.mp4", 1)])
def test_check_json_is_a_verdict(video, code):
    result = rulec("check", TUTORIAL / "deliver.rules", TUTORIAL / video, "--json")
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert is_verdict(data) and data["passed"] == (code == 0)


def test_check_json_errors_are_error_objects(tmp_path):
    bad = tmp_path / "bad.rules"
    bad.write_text("goal g : always presnt(x)\n")
    for args in ((bad, TUTORIAL / "good.mp4"), (TUTORIAL / "deliver.rules", bad), (tmp_path / "none", TUTORIAL / "good.mp4")):
        result = rulec("check", *args, "--json")
        assert result.exit_code == 2 and not is_verdict(json.loads(result.stdout)), result.output


def test_reward_report_to_dict_is_a_verdict_both_semantics():
    from rulec.check import frames_to_tensor
    from rulec.compile import compile_rules
    from rulec.runtime.video_io import read_video

    frames = read_video(TUTORIAL / "broken.mp4")
    compiled = compile_rules(TUTORIAL / "deliver.rules", num_frames=int(frames.shape[0]))
    for semantics in ("exact", "smooth"):
        data = compiled.to_reward(semantics=semantics)(frames_to_tensor(frames)).to_dict()
        assert is_verdict(data) and ("loss" in data) == (semantics == "smooth")
        assert data["rules_passed"] == sum(r["passed"] for r in data["rules"]) == 3


@pytest.mark.parametrize("method", ["tto", "best-of-n"])
def test_run_report_json_holds_verdicts(tmp_path, method):
    out = tmp_path / "out"
    result = rulec("run", TASK, "--method", method, "--budget", 1 if method == "tto" else 2, "--sample-steps", 2, "--screen", 0, "-o", out)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert is_verdict(report["final"]) and is_verdict(report["base"]["final"])
    names = [r["name"] for r in report["final"]["rules"]]
    for step in report.get("history", []):  # each step's rules are the verdict's rule entries
        assert is_verdict({"schema": SCHEMA, "passed": step["passed"], "rules_passed": step["rules_passed"], "rules": step["rules"]})
        assert [r["name"] for r in step["rules"]] == names
    assert method != "tto" or report["history"]


def test_bench_records_carry_a_verdict(tmp_path):
    args = ["--tasks", TASK, "--methods", "base", "--budget", "2", "--sample-steps", "2"]
    assert rulec("bench", *args, "-o", tmp_path).exit_code == 0
    (record,) = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert is_verdict(record["verdict"]) and record["rules_passed"] == record["verdict"]["passed"]
