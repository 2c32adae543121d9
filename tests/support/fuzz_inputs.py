"""Hostile inputs for everything around the compiler: task folders, metadata, images, VLM
answers and bench result files. Shared by ``benchmarks/fuzz_inputs.py`` (long runs) and
``tests/test_fuzz_inputs.py`` (a bounded Hypothesis run in CI).

An input *escapes* when its path raises anything but the path's one documented error
(:class:`InstanceError`, :class:`VideoReadError`, ``AnswerTooLong``/``TeachFailed``) or
takes longer than its time bound (a hang).
"""

from __future__ import annotations

import copy
import io
import json
import random
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

import numpy as np

PATHS = ("metadata", "image", "folder", "answer", "results")

#: Seconds one input may take before it counts as a hang.
HANG_SECONDS = 5.0

_GOOD_META = {
    "family": "navigate", "seed": 0, "prompt": "Move the cyan disc onto the purple square.",
    "colours": {"agent": {"hex": "#00acc1", "name": "cyan"}, "goal": {"hex": "#8e24aa", "name": "purple"}},
    "positions": {"agent_start": [26.5, 25.5], "goal_box": [1, 2, 9, 10], "goal_target": [4.5, 5.5]},
    "plan_caption": "cyan disc moves up-left", "solution_path": [[26.5, 25.5], [24.5, 24.5]], "num_frames": 16,
}

_ODD_VALUES = [None, True, False, 0, -1, -3, 2.5, 1e400, -1e400, 1e308, 2**70, -(2**70), "", "abc", "16", [], {}, [1, "a"],
               [[1, 2], [3]], {"hex": 1}, {"a": {"hex": "#zzzzzz", "name": 3}}, "red", [[float("nan"), 1]], "\udcff"[:0] + "\u0000"]


def _odd(rng: random.Random):
    if rng.random() < 0.2:
        depth = rng.choice((2, 10, 70, 500))
        return json.loads("[" * depth + "]" * depth) if depth < 100 else "[" * depth
    return copy.deepcopy(rng.choice(_ODD_VALUES))  # a copy: mutating a shared {} once made it contain itself


def metadata_text(rng: random.Random) -> str:
    """Text for a ``question_metadata.json``: a good file mutated, odd JSON, or bytes-ish junk."""
    roll = rng.random()
    if roll < 0.6:
        meta = json.loads(json.dumps(_GOOD_META))
        for _ in range(rng.randint(1, 3)):
            key = rng.choice([*meta, "extra", "colours", "positions"])
            if rng.random() < 0.15:
                meta.pop(key, None)
            elif key == "colours" and isinstance(meta.get("colours"), dict) and rng.random() < 0.5:
                meta["colours"][rng.choice(["agent", "goal", "x"])] = _odd(rng)
            elif key == "positions" and isinstance(meta.get("positions"), dict) and rng.random() < 0.5:
                meta["positions"][rng.choice(["agent_start", "goal_box", "goal_target"])] = _odd(rng)
            else:
                meta[key] = _odd(rng)
        text = json.dumps(meta, allow_nan=True)
        if rng.random() < 0.1:
            text = text.replace('"seed": 0', '"seed": ' + rng.choice(["1e400", "NaN", "-Infinity", "0.0", "00", "-0"]))
        return text
    if roll < 0.8:
        return json.dumps(_odd(rng))
    if roll < 0.9:
        depth = rng.choice((65, 1000, 100_000))
        return rng.choice(["[", "{\"a\":"]) * depth
    text = json.dumps(_GOOD_META)
    cut = rng.randint(0, len(text))
    return text[:cut] + "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 8)))


def image_bytes(rng: random.Random) -> bytes:
    """A PNG or something that pretends to be one: good, truncated, odd modes, sizes, random bytes."""
    from PIL import Image

    roll = rng.random()
    sig = b"\x89PNG\r\n\x1a\n"
    if roll < 0.15:
        return sig + rng.randbytes(rng.randint(0, 600))
    if roll < 0.2:
        return rng.randbytes(rng.randint(0, 300))
    mode = rng.choice(["RGB", "RGBA", "L", "LA", "P", "1", "I", "I;16", "F", "CMYK"])
    w, h = rng.choice([(32, 32), (1, 1), (1, 5), (3, 7), (64, 16)])
    try:
        img = Image.frombytes(mode, (w, h), rng.randbytes(w * h * 8)[: len(Image.new(mode, (w, h)).tobytes())])
    except (ValueError, OSError):
        img = Image.new("RGB", (w, h))
    buf = io.BytesIO()
    fmt = "PNG" if mode != "CMYK" else rng.choice(["JPEG", "TIFF"])
    try:
        img.save(buf, format=fmt)
    except OSError:  # a mode PNG cannot hold (F, I): the generator's limit, not the loader's
        buf = io.BytesIO()
        img.convert("I;16" if rng.random() < 0.5 else "RGB").save(buf, format="PNG")
    data = buf.getvalue()
    if rng.random() < 0.3:
        cut = rng.randint(8, max(len(data) - 1, 8))
        data = data[:cut] + (rng.randbytes(rng.randint(0, 40)) if rng.random() < 0.5 else b"")
    return data


def vlm_answer(rng: random.Random) -> str:
    """An answer a VLM server might send: rules in fences, deep brackets, huge, control chars."""
    roll = rng.random()
    good = 'object a = color("#e53935")\ngoal g : at end present(a)\nprocess p : always present(a)\n'
    if roll < 0.2:
        return "```rules\n" + good + "```"
    if roll < 0.4:
        n = rng.choice((100, 300, 5000, 100_000))
        return rng.choice(["(", "[", "{", "not ("]) * n
    if roll < 0.5:
        return "```rules\n" + "x" * rng.choice((19_999, 20_001, 300_000))
    if roll < 0.6:
        return 'goal g : at end ask("' + "?" * rng.randint(0, 50) + '")\n'
    if roll < 0.8:
        chars = list(good)
        for _ in range(rng.randint(1, 10)):
            i = rng.randrange(len(chars))
            chars[i] = rng.choice(["(", ")", "`", "\n", "\x00", "~", '"', "1e-300", "é", "\ud800"[:0]])
        return "".join(chars)
    return "".join(chr(rng.randint(0, 0x10FF)) for _ in range(rng.randint(0, 200)))


def results_bytes(rng: random.Random) -> bytes:
    """A ``results.jsonl``: good records, torn tails, foreign lines, deep JSON, bad UTF-8."""
    lines = []
    for i in range(rng.randint(0, 6)):
        record = {"key": f"k{i}/base/0", "family": "navigate", "method": "base", "budget": 0, "success": True,
                  "partial": 1.0, "checks": {}, "rules_passed": True, "evaluations": 1, "steps": 0, "wall_time": 0.1}
        roll = rng.random()
        if roll < 0.1:
            lines.append(b"[" * rng.choice((100, 100_000)))
        elif roll < 0.2:
            lines.append(rng.randbytes(rng.randint(0, 50)))
        elif roll < 0.3:
            lines.append(json.dumps(rng.choice([[1], "x", {"key": 3}, {"nokey": 1}, None])).encode())
        else:
            lines.append(json.dumps(record).encode())
    data = b"\n".join(lines) + (b"\n" if lines and rng.random() < 0.6 else b"")
    if data and rng.random() < 0.3:
        data = data[: rng.randint(0, len(data))]
    return data


# ------------------------------------------------------------------ running one input
def _meta(rng: random.Random, work: Path) -> None:
    from rulec.runtime.tasks.folder import InstanceError, read_metadata

    path = work / "question_metadata.json"
    path.write_text(metadata_text(rng), encoding="utf-8", errors="surrogatepass")
    try:
        read_metadata(path)
    except InstanceError:
        pass


def _image(rng: random.Random, work: Path) -> None:
    from rulec.runtime.video_io import VideoReadError, read_image

    path = work / "first_frame.png"
    path.write_bytes(image_bytes(rng))
    try:
        image = read_image(path)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    except VideoReadError:
        pass


def _folder(rng: random.Random, work: Path, template: Path) -> None:
    """A whole instance folder with one or two files spoiled, through load_instance and rulec run's loader."""
    import shutil

    from rulec.runtime.tasks.folder import InstanceError, load_instance, model_task

    folder = work / "navigate_00000"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(template, folder)
    for _ in range(rng.randint(1, 2)):
        victim = rng.choice(["question_metadata.json", "first_frame.png", "ground_truth.mp4", "prompt.txt", "rules.txt", None])
        if victim is None:
            continue
        target = folder / victim
        if not target.exists():
            continue  # removed by the first spoiling
        roll = rng.random()
        if roll < 0.15:
            target.unlink()
        elif victim == "question_metadata.json":
            target.write_text(metadata_text(rng), encoding="utf-8", errors="surrogatepass")
        elif victim == "first_frame.png":
            target.write_bytes(image_bytes(rng))
        else:
            data = target.read_bytes()
            cut = rng.randint(0, len(data))
            target.write_bytes(data[:cut] + rng.randbytes(rng.randint(0, 30)))
    try:
        load_instance(folder)
    except InstanceError:
        pass
    try:
        model_task(folder, rng.choice([None, "plan"]))
    except InstanceError:
        pass


def _answer(rng: random.Random, work: Path) -> None:
    from rulec.runtime.teacher import TeachFailed
    from rulec.runtime.teacher.repair import teach

    class Fake:
        name = "fuzz"

        def __init__(self):
            self.n = 0

        def complete(self, messages):
            self.n += 1
            return vlm_answer(rng)

    try:
        teach(Fake(), "Move the red disc.", np.zeros((8, 8, 3), np.uint8), rounds=rng.randint(0, 1), deadline=HANG_SECONDS)
    except TeachFailed:
        pass


def _answer_body(rng: random.Random) -> None:
    """An HTTP body as the OpenAI backend parses it (after its size bound)."""
    from rulec.runtime.teacher import TeacherError
    from rulec.runtime.teacher.backends import _content_of

    roll = rng.random()
    if roll < 0.5:
        body = json.dumps({"choices": [{"message": {"content": vlm_answer(rng) if rng.random() < 0.7 else _odd(rng)}}]})
    elif roll < 0.7:
        body = json.dumps({"choices": _odd(rng)})
    else:
        body = '{"choices": ' + "[" * rng.choice((10, 100, 100_000))
    try:
        _content_of(body.encode("utf-8", "surrogatepass"), "fuzz")
    except TeacherError:
        pass


def _results(rng: random.Random, work: Path) -> None:
    from rulec.runtime.bench import run as bench

    folder = work / "results"
    folder.mkdir(exist_ok=True)
    path = folder / "results.jsonl"
    path.write_bytes(results_bytes(rng))
    before = bench.load_results(folder)
    bench.repair_torn_tail(path)
    assert path.read_bytes()[-1:] in (b"", b"\n")
    bench.append_records(path, [{"key": "new/base/0"}])
    after = bench.load_results(folder)
    assert "new/base/0" in after and set(before) <= set(after) | {"new/base/0"}


def make_template(root: Path) -> Path:
    from rulec.runtime.tasks import make_instance, write_instance

    return write_instance(make_instance("navigate", 0), root / "template" / "navigate_00000")


def run_one(path: str, rng: random.Random, work: Path, template: Path) -> str | None:
    """Run one generated input of ``path``; None, or a description of the escape."""
    started = time.perf_counter()
    try:
        if path == "metadata":
            _meta(rng, work)
        elif path == "image":
            _image(rng, work)
        elif path == "folder":
            _folder(rng, work, template)
        elif path == "answer":
            (_answer if rng.random() < 0.7 else lambda r, w: _answer_body(r))(rng, work)
        elif path == "results":
            _results(rng, work)
        else:
            raise ValueError(path)
    except Exception as exc:  # anything else is an escape: report it with where it came from
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        return f"{path}: {type(exc).__name__}: {str(exc)[:200]} at {Path(tb.filename).name}:{tb.lineno}"
    took = time.perf_counter() - started
    if took > HANG_SECONDS:
        return f"{path}: took {took:.1f} s (a hang)"
    return None


def run_many(seed: int, start: int, count: int, paths=PATHS, progress: Callable[[int], None] | None = None):
    """Inputs ``start .. start+count`` of a seed, round robin over ``paths``; (count, escapes)."""
    escapes = []
    with tempfile.TemporaryDirectory(prefix="rulec-fuzz-") as tmp:
        work = Path(tmp)
        template = make_template(work)
        for i in range(start, start + count):
            rng = random.Random(seed * 1_000_003 + i)
            path = paths[i % len(paths)]
            problem = run_one(path, rng, work, template)
            if problem is not None:
                escapes.append((i, problem))
            if progress:
                progress(i)
    return count, escapes
