"""The VLM teacher: prompt, answer extraction, backends, cache, repair loop and `rulec teach` (all offline).

The OpenAI-compatible server is a scripted loopback server on 127.0.0.1 (tests/fixtures/teacher/loopback.py);
the compiler is the real `rulec.compile_rules`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rulec.primitives import registry
from rulec.runtime.teacher import TeacherError, TeachFailed, build_prompt, extract_rules, system_prompt
from rulec.runtime.teacher.answer import AnswerTooLong
from rulec.runtime.teacher.backends import OpenAIBackend
from rulec.runtime.teacher.cache import AnswerCache
from rulec.runtime.teacher.prompt import grammar_text
from rulec.runtime.teacher.repair import teach
from test_reward import MAZE_RULES

_spec = importlib.util.spec_from_file_location("teacher_loopback", Path(__file__).parent / "fixtures/teacher/loopback.py")
loopback = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(loopback)
ScriptedServer = loopback.ScriptedServer

VALID = MAZE_RULES.lstrip("\n") + "process one_disc : always present(agent)\n"  # the reward tests' maze rules, one rule more
# Two mistakes: two unknown predicates.
BROKEN = VALID.replace("inside(agent, goal)", "insde(agent, goal)").replace("present(agent)", "presnt(agent)")
FIRST_ANSWER = f"Here are the rules.\n\n```rules\n{BROKEN}```\n"
SECOND_ANSWER = f"Fixed:\n```rules\n{VALID}```"


# ------------------------------------------------------------------ the compiler used by the loop
@pytest.fixture
def compiler():
    """(compile_fn, rejects) as the loop uses them by default: the real compiler."""
    from rulec import RulesError, compile_rules

    return compile_rules, (RulesError,)


@pytest.fixture
def image():
    frame = np.full((32, 32, 3), 255, np.uint8)
    frame[4:9, 4:9] = (229, 57, 53)
    frame[24:30, 24:30] = (67, 160, 71)
    return frame


@pytest.fixture
def task_dir(tmp_path, image):
    import imageio.v3 as iio

    folder = tmp_path / "maze-0"
    folder.mkdir()
    (folder / "prompt.txt").write_text("Move the red disc to the green square.\n")
    iio.imwrite(folder / "first_frame.png", image)
    return folder


# ------------------------------------------------------------------ answer extraction
def test_extract_prefers_the_rules_block():
    answer = "```python\nprint(1)\n```\ntext\n```rules\ngoal a : at end present(x)\n```\n"
    assert extract_rules(answer) == "goal a : at end present(x)\n"


def test_extract_falls_back_to_first_block_then_whole_text():
    assert extract_rules("intro\n```\nobject a = box(0, 0, 1, 1)\n```\nbye") == "object a = box(0, 0, 1, 1)\n"
    assert extract_rules("goal a : at end present(x)") == "goal a : at end present(x)\n"


def test_extract_unclosed_rules_fence_takes_the_rest():
    assert extract_rules("sure:\n```rules\ngoal a : at end present(x)\n") == "goal a : at end present(x)\n"


def test_extract_bounds_the_size():
    with pytest.raises(AnswerTooLong, match="limit of 100"):
        extract_rules("```rules\n" + "x" * 101 + "\n```", limit=100)


# ------------------------------------------------------------------ prompt
def test_system_prompt_is_generated_from_grammar_and_registry(tmp_path):
    prompt = system_prompt(examples_dir=tmp_path)  # empty folder: no examples section
    assert grammar_text().strip() in prompt
    for spec in registry.functions().values():
        assert f"`{spec.signature()}`: {spec.doc}" in prompt
    assert "```rules" in prompt and "Examples" not in prompt
    assert "`#e53935`" in prompt  # the palette


def test_system_prompt_shows_examples(tmp_path):
    (tmp_path / "b.rules").write_text("goal b : at end present(x)\n")
    (tmp_path / "a.rules").write_text("goal a : at end present(y)\n")
    prompt = system_prompt(examples_dir=tmp_path)
    assert prompt.index("a.rules:\n```rules\ngoal a") < prompt.index("b.rules:\n```rules\ngoal b")
    assert system_prompt(examples_dir=tmp_path / "absent") == system_prompt(examples_dir=tmp_path / "also-absent")


def test_user_turn_holds_image_and_instruction(image):
    import base64
    import io

    import imageio.v3 as iio

    prompt = build_prompt("Move the red disc.", image)
    user = prompt.messages[1]
    url = user["content"][0]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    decoded = iio.imread(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert decoded.shape == (256, 256, 3)
    np.testing.assert_array_equal(decoded[::8, ::8], image)  # nearest enlargement keeps every pixel
    assert "Instruction: Move the red disc." in user["content"][1]["text"]
    assert prompt.hash() != build_prompt("Move the blue disc.", image).hash()


# ------------------------------------------------------------------ repair loop over HTTP
def test_repair_round_sends_exact_diagnostics_and_logs_both(compiler, image, tmp_path):
    compile_fn, rejects = compiler
    log = tmp_path / "log.json"
    with ScriptedServer([("answer", FIRST_ANSWER), ("answer", SECOND_ANSWER)]) as server:
        backend = OpenAIBackend(server.base_url, "qwen-test", timeout=10, max_retries=0)
        result = teach(backend, "Move the red disc.", image, rounds=2, compile_fn=compile_fn, rejects=rejects, log_path=log)
    assert result.rules == VALID
    assert [a.ok for a in result.attempts] == [False, True]
    diagnostics = result.attempts[0].diagnostics
    assert re.search(r"answer\.rules:7:\d+: error\[E\d+\].*insde", diagnostics)
    assert re.search(r"answer\.rules:9:\d+: error\[E\d+\].*presnt", diagnostics)
    first, second = (r["body"] for r in server.requests)
    assert first["model"] == "qwen-test" and first["messages"][0]["role"] == "system"
    assert first["messages"][1]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert second["messages"][2] == {"role": "assistant", "content": FIRST_ANSWER}
    assert diagnostics in second["messages"][3]["content"][0]["text"]  # exact messages go back
    logged = json.loads(log.read_text())
    assert logged["status"] == "ok" and [a["answer"] for a in logged["attempts"]] == [FIRST_ANSWER, SECOND_ANSWER]


def test_rounds_run_out_keeps_every_attempt(compiler, image, tmp_path):
    compile_fn, rejects = compiler
    log = tmp_path / "log.json"
    with ScriptedServer([("answer", FIRST_ANSWER)] * 2) as server:
        backend = OpenAIBackend(server.base_url, "m", timeout=10, max_retries=0)
        with pytest.raises(TeachFailed, match=r"after 1 repair round\(s\) \(2 attempts\).*log\.json") as caught:
            teach(backend, "x", image, rounds=1, compile_fn=compile_fn, rejects=rejects, log_path=log)
    assert len(caught.value.attempts) == 2 and len(server.requests) == 2
    logged = json.loads(log.read_text())
    assert logged["status"] == "failed" and all(a["diagnostics"] for a in logged["attempts"])


def test_too_long_answer_is_sent_back_not_compiled(image):
    seen = []

    class Scripted:
        name = "m"
        answers = ["```rules\n" + "x" * 50 + "\n```", "```rules\nok\n```"]

        def complete(self, messages):
            seen.append(messages)
            return self.answers[len(seen) - 1]

    compiled = []
    result = teach(Scripted(), "x", image, rounds=1, compile_fn=lambda t, name: compiled.append(t) or t, rejects=(), limit=20)
    assert compiled == ["ok\n"] and result.rules == "ok\n"
    assert "limit of 20" in seen[1][-1]["content"][0]["text"]


def test_cache_replays_without_calling_the_model(compiler, image, tmp_path):
    compile_fn, rejects = compiler
    cache = AnswerCache(tmp_path / "cache")
    with ScriptedServer([("answer", FIRST_ANSWER), ("answer", SECOND_ANSWER)]) as server:
        backend = OpenAIBackend(server.base_url, "m", timeout=10, max_retries=0)
        first = teach(backend, "x", image, compile_fn=compile_fn, rejects=rejects, cache=cache)
        second = teach(backend, "x", image, compile_fn=compile_fn, rejects=rejects, cache=cache)
        assert len(server.requests) == 2  # the second teach asked nothing
    assert second.rules == first.rules and all(a.cached for a in second.attempts)
    other_model = OpenAIBackend(server.base_url, "other", timeout=10, max_retries=0)
    assert cache.get(other_model.name, build_prompt("x", image).hash()) is None


# ------------------------------------------------------------------ backend failures
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_one_clear_error():
    backend = OpenAIBackend(f"http://127.0.0.1:{_free_port()}/v1", "m", timeout=5, max_retries=0)
    with pytest.raises(TeacherError, match=r"127\.0\.0\.1:\d+/v1 \(model 'm'\): could not connect"):
        backend.complete([{"role": "user", "content": "hi"}])


def test_timeout_is_one_clear_error():
    with ScriptedServer([("sleep", 2.0)]) as server:
        backend = OpenAIBackend(server.base_url, "m", timeout=0.3, max_retries=0)
        with pytest.raises(TeacherError, match=r"no answer within 0\.3 s \(timed out\)"):
            backend.complete([{"role": "user", "content": "hi"}])


@pytest.mark.parametrize(
    "reply",
    [("garbage", "<html>502 bad gateway</html>"), ("bad_json", "{not json"), ("not_completion", {"hello": 1})],
)
def test_garbage_answer_is_one_clear_error(reply):
    with ScriptedServer([reply]) as server:
        backend = OpenAIBackend(server.base_url, "m", timeout=5, max_retries=0)
        with pytest.raises(TeacherError, match="not a chat completion|no text content"):
            backend.complete([{"role": "user", "content": "hi"}])


def test_http_error_status_is_reported():
    with ScriptedServer([("404", "model 'm' does not exist")]) as server:
        backend = OpenAIBackend(server.base_url, "m", timeout=5, max_retries=0)
        with pytest.raises(TeacherError, match="HTTP 404.*does not exist"):
            backend.complete([{"role": "user", "content": "hi"}])


# ------------------------------------------------------------------ the CLI
@pytest.fixture
def cli():
    from rulec.cli.teach import register

    app = typer.Typer()
    register(app)

    @app.command("noop", hidden=True)
    def _noop() -> None:  # a second command keeps `teach` a subcommand, as in rulec's CLI
        pass

    return app


def test_cli_teach_repairs_once_and_writes_the_valid_file(cli, compiler, task_dir, tmp_path):
    out = tmp_path / "rules.txt"
    with ScriptedServer([("answer", FIRST_ANSWER), ("answer", SECOND_ANSWER)]) as server:
        args = ["teach", str(task_dir), "--backend", "openai", "--base-url", server.base_url, "--model", "qwen", "-o", str(out), "--no-cache"]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert out.read_text() == VALID
    log = json.loads((tmp_path / "rules.txt.teach-log.json").read_text())
    assert [a["diagnostics"] is None for a in log["attempts"]] == [False, True]
    assert "after 1 repair round(s)" in result.output


def test_cli_teach_exit_1_when_rounds_run_out(cli, compiler, task_dir, tmp_path):
    log = tmp_path / "attempts.json"
    with ScriptedServer([("answer", FIRST_ANSWER)] * 2) as server:
        args = ["teach", str(task_dir), "--base-url", server.base_url, "--model", "q", "--rounds", "1", "--no-cache", "--log", str(log)]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and str(log) in result.output and "Traceback" not in result.output
    assert len(json.loads(log.read_text())["attempts"]) == 2


def test_cli_teach_exit_2_on_garbage_server_and_bad_task(cli, compiler, task_dir, tmp_path):
    with ScriptedServer([("garbage", "<html>oops</html>")]) as server:
        args = ["teach", str(task_dir), "--base-url", server.base_url, "--model", "q", "--no-cache", "--log", str(tmp_path / "l.json")]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "not a chat completion" in result.output
    result = CliRunner().invoke(cli, ["teach", str(tmp_path / "nowhere"), "--base-url", "http://127.0.0.1:9/v1", "--model", "q"])
    assert result.exit_code == 2 and "no such task folder" in result.output
    (task_dir / "first_frame.png").write_bytes(b"not a png")
    result = CliRunner().invoke(cli, ["teach", str(task_dir), "--base-url", "http://127.0.0.1:9/v1", "--model", "q"])
    assert result.exit_code == 2 and "first_frame.png: not a readable PNG" in result.output


def test_an_answer_naming_a_file_is_parsed_not_opened(image, tmp_path, monkeypatch):
    """compile_rules reads a one-line string naming a file from disk; the teacher's text must never do that."""
    (tmp_path / "stolen.rules").write_text(VALID)
    monkeypatch.chdir(tmp_path)

    class Scripted:
        name = "m"

        def complete(self, messages):
            return "```rules\nstolen.rules\n```"

    with pytest.raises(TeachFailed) as caught:
        teach(Scripted(), "x", image, rounds=0)
    assert caught.value.attempts[0].diagnostics.startswith("answer.rules:1:")


def test_the_prompt_snapshot_in_the_docs_is_current():
    """docs/teacher.md shows the system prompt as generated; it must not drift from it."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "teacher.md").read_text(encoding="utf-8")
    start = doc.index("`````text\n") + len("`````text\n")
    assert doc[start:doc.index("\n`````", start)] == system_prompt()


def test_the_prompt_teaches_quantifiers():
    prompt = system_prompt()
    assert "all c, d in circles" in prompt and "quantified: (ALL | ANY)" in prompt
