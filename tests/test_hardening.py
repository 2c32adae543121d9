"""Issue 24: every input path as hardened as the compiler. One regression test per failure
the issue lists (named after it), and a user file in every output folder a command writes."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rulec import RulesError, compile_rules
from rulec.runtime.bench import run as bench
from rulec.runtime.tasks import InstanceError, load_instance, make_instance, write_instance
from rulec.runtime.tasks.folder import load_task_folder
from rulec.runtime.video_io import VideoReadError, read_video, write_video

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def rulec(*args):
    from rulec.cli import app

    return runner.invoke(app, [str(a) for a in args])


def assert_clean(result, code=2):
    """Exit ``code`` with a message, and no traceback anywhere."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def instance_dir(tmp_path_factory):
    return write_instance(make_instance("navigate", 0), tmp_path_factory.mktemp("inst") / "navigate_00000")


def with_metadata(src: Path, dst: Path, text: str) -> Path:
    shutil.copytree(src, dst)
    (dst / "question_metadata.json").write_text(text)
    return dst


def patched(src: Path, **entries) -> str:
    meta = json.loads((src / "question_metadata.json").read_text())
    meta.update(entries)
    return json.dumps(meta)


# (name, metadata text builder, words the message must hold)
BAD_METADATA = {
    "metadata_is_a_list": (lambda s: "[1, 2]", "expected a JSON object"),
    "metadata_is_a_string": (lambda s: '"navigate"', "expected a JSON object"),
    "seed_abc": (lambda s: patched(s, seed="abc"), "entry 'seed': expected a whole number"),
    "seed_1e400": (lambda s: patched(s).replace('"seed": 0', '"seed": 1e400'), "entry 'seed': expected a whole number"),
    "num_frames_abc": (lambda s: patched(s, num_frames="abc"), "entry 'num_frames'"),
    "num_frames_0": (lambda s: patched(s, num_frames=0), "entry 'num_frames'"),
    "num_frames_minus_3": (lambda s: patched(s, num_frames=-3), "entry 'num_frames'"),
    "num_frames_null": (lambda s: patched(s, num_frames=None), "entry 'num_frames'"),
    "num_frames_2_5": (lambda s: patched(s, num_frames=2.5), "entry 'num_frames'"),
    "family_42": (lambda s: patched(s, family=42), "entry 'family': expected a family name"),
    "colours_red": (lambda s: patched(s, colours="red"), "entry 'colours'"),
}


@pytest.mark.parametrize("name", sorted(BAD_METADATA))
def test_bad_metadata_is_one_error_naming_file_and_field(instance_dir, tmp_path, name):
    build, words = BAD_METADATA[name]
    folder = with_metadata(instance_dir, tmp_path / "navigate_00000", build(instance_dir))
    with pytest.raises(InstanceError, match="question_metadata.json") as err:
        load_instance(folder)
    assert words in str(err.value)


@pytest.mark.parametrize("name", sorted(BAD_METADATA))
def test_bad_metadata_exits_2_in_rulec_run(instance_dir, tmp_path, name):
    build, words = BAD_METADATA[name]
    folder = with_metadata(instance_dir, tmp_path / "navigate_00000", build(instance_dir))
    result = rulec("run", folder, "-o", tmp_path / "out")
    assert_clean(result)
    assert "question_metadata.json" in result.output and words in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["metadata_is_a_list", "seed_abc", "num_frames_2_5", "family_42", "colours_red"])
def test_bad_metadata_in_tasks_score_and_bench_tasks(instance_dir, tmp_path, name):
    build, words = BAD_METADATA[name]
    folder = with_metadata(instance_dir, tmp_path / "inst" / "navigate_00000", build(instance_dir))
    videos = tmp_path / "videos"
    videos.mkdir()
    scored = rulec("tasks", "score", folder.parent, videos, "--json")
    assert scored.exit_code == 0 and "Traceback" not in scored.output
    assert words in json.loads(scored.output)["instances"][0]["error"]
    assert_clean(rulec("bench", "--tasks", folder, "--methods", "base", "-o", tmp_path / "b"))


def test_num_frames_2_5_is_not_run_as_2_frames(instance_dir, tmp_path):
    from rulec.runtime.tasks.folder import model_task

    folder = with_metadata(instance_dir, tmp_path / "t", patched(instance_dir, num_frames=2.5))
    with pytest.raises(InstanceError, match="num_frames"):
        model_task(folder)


def test_png_signature_then_random_bytes(instance_dir, tmp_path):
    folder = tmp_path / "t"
    shutil.copytree(instance_dir, folder)
    (folder / "first_frame.png").write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(0).bytes(500))
    with pytest.raises(InstanceError, match="first_frame.png: not a readable PNG"):
        load_task_folder(folder)
    for args in (("run", folder, "-o", tmp_path / "o"), ("toy", "sample", folder, "-o", tmp_path / "o.mp4")):
        result = rulec(*args)
        assert_clean(result)
        assert "first_frame.png" in result.output


def test_grayscale_first_frame(instance_dir, tmp_path):
    """A grayscale PNG is read as gray RGB (one rule for every command), not a traceback."""
    folder = tmp_path / "t"
    shutil.copytree(instance_dir, folder)
    gray = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    iio.imwrite(folder / "first_frame.png", gray)
    task = load_task_folder(folder)
    assert task.first_frame.shape == (32, 32, 3) and (task.first_frame[..., 1] == gray).all()
    load_instance(folder)  # scored like any folder


def test_sixteen_bit_first_frame_is_a_clear_error(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    iio.imwrite(folder / "first_frame.png", np.full((8, 8), 40000, np.uint16))
    with pytest.raises(InstanceError, match="expected an 8-bit RGB image"):
        load_task_folder(folder)


# ------------------------------------------------------------------ outputs keep user files
@pytest.fixture(scope="module")
def wan(tmp_path_factory):
    from rulec.runtime.models.wan import save_tiny_wan

    return save_tiny_wan(tmp_path_factory.mktemp("wan") / "wan")


def _run(instance_dir, wan, out, *extra):
    return rulec("run", instance_dir, "--model", wan, "--method", "base", "--sample-steps", 1, "-o", out, *extra)


def test_run_keeps_the_users_files_in_out_frames(instance_dir, wan, tmp_path):
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    (out / "frames" / "mine.txt").write_text("keep me")
    (out / "notes.txt").write_text("keep me too")
    for _ in range(2):  # a second run replaces its own files only
        result = _run(instance_dir, wan, out)
        assert result.exit_code == 0, result.output
    assert (out / "frames" / "mine.txt").read_text() == "keep me"
    assert (out / "notes.txt").read_text() == "keep me too"
    assert (out / "frames" / "frame_0000.png").is_file() and (out / ".rulec-run.json").is_file()


def test_run_refuses_to_overwrite_a_file_it_did_not_write(instance_dir, wan, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("my report")
    result = _run(instance_dir, wan, out)
    assert_clean(result)
    assert "report.json" in result.output and "not written by rulec run" in result.output
    assert (out / "report.json").read_text() == "my report"


def test_user_files_survive_every_output_folder(instance_dir, tmp_path):
    """tasks make (OUT/ and each instance folder), bench --keep-videos (OUT/, videos/, *_frames/),
    write_video's PNG folders, tasks show and explain (the report's folder)."""
    def plant(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "user-notes.txt").write_text("mine")
        return folder / "user-notes.txt"

    made = tmp_path / "made"
    planted = [plant(made), plant(made / "navigate_00000")]
    assert rulec("tasks", "make", made, "--family", "navigate", "--n", 1).exit_code == 0
    out = tmp_path / "bench"
    planted += [plant(out), plant(out / "videos"), plant(out / "videos" / "navigate_00000_base_0_frames")]
    result = rulec("bench", "--tasks", instance_dir, "--methods", "base", "--sample-steps", 1, "--keep-videos", "-o", out)
    assert result.exit_code == 0, result.output
    assert (out / "videos" / "navigate_00000_base_0.mp4").is_file()
    frames = tmp_path / "frames"
    planted.append(plant(frames))
    write_video(frames, make_instance("navigate", 0).ground_truth)
    write_video(frames, make_instance("navigate", 0).ground_truth[:4])
    assert len(list(frames.glob("frame_*.png"))) == 4
    shown = tmp_path / "show"
    planted.append(plant(shown))
    assert rulec("tasks", "show", instance_dir, "-o", shown / "sheet.png").exit_code == 0
    report = tmp_path / "report"
    planted.append(plant(report))
    rulec("explain", instance_dir / "rules.txt", instance_dir / "ground_truth.mp4", "-o", report / "r.png")
    assert (report / "r.png").is_file()
    for p in planted:
        assert p.read_text() == "mine", p


# ------------------------------------------------------------------ numerics
UNDERFLOWS = {
    "moving_v_1e_300": "always moving(a, v=1e-300)",
    "near_d_1e_45": "always near(a, b, d=1e-45)",
    "unchanged_tol_1e_300": "always unchanged(a, tol=1e-300)",
    "speed_below_1e_300": "always speed(a) < 1e-300",
}
_HEAD = 'object a = color("#e53935")\nobject b = color("#43a047")\n'


@pytest.mark.parametrize("name", sorted(UNDERFLOWS))
def test_threshold_underflow_is_E212(name):
    with pytest.raises(RulesError) as err:
        compile_rules(_HEAD + f"goal g : {UNDERFLOWS[name]}\n")
    assert [d.code for d in err.value.diagnostics] == ["E212"]


def test_threshold_at_the_floor_gives_finite_loss_and_gradients():
    import torch

    from rulec.limits import MIN_THRESHOLD

    assert MIN_THRESHOLD == float(np.finfo(np.float32).tiny) ** 0.5
    for body in UNDERFLOWS.values():
        text = body.replace("1e-300", repr(MIN_THRESHOLD)).replace("1e-45", repr(MIN_THRESHOLD))
        reward = compile_rules(_HEAD + f"goal g : {text}\n", num_frames=4).to_reward()
        video = torch.rand(1, 4, 3, 16, 16, requires_grad=True)
        loss = reward(video).loss.sum()
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(video.grad).all(), body


def test_check_json_prints_finite_json_only():
    from rulec.jsonout import dumps

    text = dumps({"rules": [{"robustness": float("-inf")}, {"robustness": float("nan")}], "ok": 1.5})
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert data["rules"] == [{"robustness": None}, {"robustness": None}] and data["ok"] == 1.5
    assert "$.rules[0].robustness was -inf" in data["nonfinite"][0]


def test_check_json_on_a_video_is_finite(instance_dir):
    result = rulec("check", instance_dir / "rules.txt", instance_dir / "ground_truth.mp4", "--json")
    assert result.exit_code == 0, result.output
    json.loads(result.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


def test_E013_names_the_file_in_rulec_compile(tmp_path):
    path = tmp_path / "latin1.rules"
    path.write_bytes(b"goal g : present(\xff)\n")
    result = rulec("compile", path)
    assert_clean(result)
    assert f"{path}: error[E013]" in result.output and "<rules>" not in result.output


# ------------------------------------------------------------------ the teacher
class _Backend:
    name = "fake"

    def __init__(self, *answers):
        self.answers = list(answers)

    def complete(self, messages):
        return self.answers.pop(0)


def test_answer_of_100000_nested_brackets():
    from rulec.runtime.teacher import TeachFailed
    from rulec.runtime.teacher.repair import teach

    for answer in ("(" * 100_000, "```rules\n" + "(" * 19_000 + "\n```", "[" * 300_000):
        with pytest.raises(TeachFailed) as err:
            teach(_Backend(answer), "do it", np.zeros((8, 8, 3), np.uint8), rounds=0)
        assert "limit" in err.value.attempts[0].diagnostics


def test_http_body_of_100000_nested_brackets(tmp_path):
    from rulec.runtime.teacher import TeacherError
    from rulec.runtime.teacher.backends import OpenAIBackend

    with _Server(lambda h: h.reply(b'{"choices": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")) as url:
        backend = OpenAIBackend(url, "m", timeout=10, max_retries=0)
        with pytest.raises(TeacherError, match="nested 100001 deep"):
            backend.complete([{"role": "user", "content": "hi"}])


def test_trickling_server_is_cut_at_the_total_deadline():
    from rulec.runtime.teacher import TeacherError
    from rulec.runtime.teacher.backends import OpenAIBackend

    with _Server(lambda h: h.trickle(seconds=20)) as url:
        backend = OpenAIBackend(url, "m", timeout=1.5, max_retries=0)
        started = time.monotonic()
        with pytest.raises(TeacherError, match="no answer within 1.5 s"):
            backend.complete([{"role": "user", "content": "hi"}])
        assert time.monotonic() - started < 5


def test_repair_loop_has_a_total_deadline():
    from rulec.runtime.teacher.deadline import DeadlineExceeded
    from rulec.runtime.teacher.repair import teach

    class Slow(_Backend):
        def complete(self, messages):
            time.sleep(0.4)
            return "goal g : nonsense("

    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="deadline of 1 s"):
        teach(Slow(), "do it", np.zeros((8, 8, 3), np.uint8), rounds=50, deadline=1.0)
    assert time.monotonic() - started < 3


ASK_RULES = 'object a = color("#e53935")\ngoal g : at end ask("Is the red disc on the left?")\nprocess p : always present(a)\n'


def test_teach_sends_ask_rules_back_unless_allowed():
    from rulec.runtime.teacher.repair import teach

    image = np.zeros((8, 8, 3), np.uint8)
    fixed = 'object a = color("#e53935")\ngoal g : at end present(a)\nprocess p : always present(a)\n'
    result = teach(_Backend(ASK_RULES, fixed), "do it", image, rounds=1)
    assert "ask()" in result.attempts[0].diagnostics and result.rules == fixed
    assert teach(_Backend(ASK_RULES), "do it", image, rounds=0, allow_ask=True).rules == ASK_RULES


class _Server:
    """A loopback HTTP server answering every POST with ``behave(handler)``."""

    def __init__(self, behave):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                behave(self)

            def reply(self, body: bytes):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def trickle(self, seconds: float):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                ends = time.monotonic() + seconds
                while time.monotonic() < ends and not outer.closing:
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.5)

        self.closing = False
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    def __enter__(self) -> str:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __exit__(self, *exc):
        self.closing = True
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------ records
def _record(key: str) -> dict:
    return {"key": key, "family": "navigate", "method": "base", "budget": 0, "success": True, "partial": 1.0, "checks": {},
            "rules_passed": True, "evaluations": 1, "steps": 0, "wall_time": 0.1, "index": 0, "seed": 0}


def test_torn_last_line_is_cut_before_resume(tmp_path):
    path = tmp_path / "results.jsonl"
    bench.append_records(path, [_record("a/base/0")])
    with path.open("a") as fh:
        fh.write('{"key": "b/base/0", "fam')  # a kill mid-write
    assert set(bench.load_results(tmp_path)) == {"a/base/0"}
    torn = bench.repair_torn_tail(path)
    assert torn.startswith('{"key": "b/base/0"')
    bench.append_records(path, [_record("c/base/0")])
    assert set(bench.load_results(tmp_path)) == {"a/base/0", "c/base/0"}  # the resumed record is readable
    assert bench.repair_torn_tail(path) is None


def test_torn_last_line_is_reported_by_run_bench(tmp_path):
    (tmp_path / "results.jsonl").write_text(json.dumps(_record("x/base/0")) + "\n" + '{"key": "y')
    warned = []
    bench.run_bench([], tmp_path, bench.BenchSettings(), on_warning=warned.append)
    assert len(warned) == 1 and "cut short" in warned[0]
    assert (tmp_path / "results.jsonl").read_text().endswith("}\n")


def test_two_runs_into_one_folder_refuse(tmp_path):
    path = bench.results_file(tmp_path, (0, 1))
    with bench.ResultsLock(path):
        with pytest.raises(bench.ResultsLocked, match="another run"):
            bench.run_bench([], tmp_path, bench.BenchSettings())
        other = bench.results_file(tmp_path, (1, 2))  # another shard may run beside it
        bench.run_bench([], tmp_path, bench.BenchSettings(), shard=(1, 2))
        assert not other.exists() or other.read_text() == ""
    bench.run_bench([], tmp_path, bench.BenchSettings())  # released


# ------------------------------------------------------------------ sizes
def test_10000_frames_are_refused_before_decoding(tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10_000):
        (folder / f"frame_{i:05d}.png").write_bytes(b"")  # never opened: the count is checked first
    with pytest.raises(VideoReadError, match="10000 frames, more than the limit of 1024"):
        read_video(folder)
    monkeypatch.setenv("RULEC_MAX_VIDEO_FRAMES", "8")
    clip = write_video(tmp_path / "clip.mp4", np.zeros((9, 8, 8, 3), np.uint8))
    with pytest.raises(VideoReadError, match="9 frames, more than the limit of 8"):
        read_video(clip)


def test_4096x4096_frame_is_refused_before_decoding(tmp_path):
    from PIL import Image

    Image.new("RGB", (4096, 4096)).save(tmp_path / "big.png")
    folder = tmp_path / "big"
    folder.mkdir()
    shutil.move(tmp_path / "big.png", folder / "frame_0000.png")
    with pytest.raises(VideoReadError, match="4096x4096 pixels, more than the limit"):
        read_video(folder)


def test_empty_frames_folder_beside_mp4_does_not_hide_it(tmp_path):
    video = np.zeros((3, 8, 8, 3), np.uint8)
    video[:, 2:4, 2:4] = (229, 57, 53)
    clip = write_video(tmp_path / "clip.mp4", video)
    (tmp_path / "clip_frames").mkdir()
    with pytest.raises(VideoReadError, match="clip_frames/ beside it holds other frames"):
        read_video(clip)
    assert (read_video(clip, beside="file") == video).all()
    write_video(tmp_path / "clip_frames", video)
    assert (read_video(clip) == video).all()  # both the same: fine


def test_limits_are_configured_in_one_place(monkeypatch):
    from rulec.runtime.input_limits import input_limit

    monkeypatch.setenv("RULEC_MAX_FRAME_PIXELS", "abc")
    with pytest.raises(ValueError, match="RULEC_MAX_FRAME_PIXELS must be a positive whole number"):
        input_limit("MAX_FRAME_PIXELS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
