"""Task folders on disk (VBVR-Bench's layout plus our reference rules): the one loader.

A folder holds ``first_frame.png``, ``prompt.txt``, ``final_frame.png``,
``ground_truth.mp4`` (lossless RGB, see :mod:`rulec.runtime.video_io`),
``question_metadata.json`` and ``rules.txt``. Everything is written deterministically:
the same instance gives the same bytes.

Every command that reads a task folder (``rulec run``, ``rulec teach``, ``rulec toy
sample``, ``rulec tasks score|show``, ``rulec bench --tasks``) reads it here, so a folder is
either usable or refused with one :class:`InstanceError` naming the file, the field and what
was expected. Folders are untrusted input (they come from other tools and people): the
metadata is parsed into a typed model (:class:`TaskMetadata`), images are checked for mode
and size before they are decoded, and every size is bounded by :mod:`rulec.limits`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from rulec.runtime.input_limits import input_limit, json_nesting
from rulec.runtime.tasks.base import Instance
from rulec.runtime.tasks.world import NUM_FRAMES
from rulec.runtime.video_io import VideoReadError, read_video, write_video
from rulec.runtime.video_io import read_image as read_png

FILES = ("first_frame.png", "prompt.txt", "final_frame.png", "ground_truth.mp4", "question_metadata.json", "rules.txt")
METADATA = "question_metadata.json"


class InstanceError(ValueError):
    """The one error of a task folder: ``path`` (the file), ``reason``; ``field`` when a metadata entry is wrong."""

    def __init__(self, path: str | os.PathLike, reason: str, field: str | None = None):
        self.path, self.reason, self.field = str(path), reason, field
        super().__init__(f"{path}: {reason}")

    def __str__(self) -> str:
        return self.args[0]


#: Alias that says what it is at call sites outside the suite.
TaskFolderError = InstanceError

_Finite = Annotated[float, Field(allow_inf_nan=False)]


class Colour(BaseModel):
    """One named colour of a task (``{"name": "red", "hex": "#e53935"}``)."""

    model_config = ConfigDict(strict=True, extra="allow")
    name: StrictStr
    hex: Annotated[StrictStr, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class TaskMetadata(BaseModel):
    """``question_metadata.json``: every entry optional here (which ones a command needs is
    checked by it), but an entry that is there must have its type; ``null`` is not "absent".
    Unknown entries are kept as they are (the family scorers read their own)."""

    model_config = ConfigDict(strict=True, extra="allow")
    family: StrictStr = None  # type: ignore[assignment]  (None only when absent: null is refused)
    seed: Annotated[StrictInt, Field(ge=0, le=2**63 - 1)] = None  # type: ignore[assignment]
    num_frames: Annotated[StrictInt, Field(ge=1)] = None  # type: ignore[assignment]
    colours: dict[str, Colour] = None  # type: ignore[assignment]
    solution_path: list[Annotated[list[_Finite], Field(min_length=2, max_length=2)]] = None  # type: ignore[assignment]
    positions: dict[str, list[_Finite]] = None  # type: ignore[assignment]
    plan_caption: StrictStr = None  # type: ignore[assignment]
    prompt: StrictStr = None  # type: ignore[assignment]

    @field_validator("num_frames")
    @classmethod
    def _frames_within_limit(cls, v: int) -> int:
        limit = input_limit("MAX_VIDEO_FRAMES")
        if v > limit:
            raise ValueError(f"at most {limit} frames (RULEC_MAX_VIDEO_FRAMES)")
        return v


#: What each typed entry must be, in words, for the diagnostic.
EXPECTED = {
    "family": "a family name (a string)",
    "seed": "a whole number >= 0",
    "num_frames": "a whole number of frames >= 1",
    "colours": 'an object of colours, each {"name": "...", "hex": "#rrggbb"}',
    "solution_path": "a list of [x, y] pairs of finite numbers",
    "positions": "an object of lists of finite numbers",
    "plan_caption": "a string",
    "prompt": "a string",
}


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a whole number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _validation_message(path: Path, err: ValidationError) -> InstanceError:
    first = err.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"])
    top = str(first["loc"][0]) if first["loc"] else ""
    got = first.get("input")
    expected = EXPECTED.get(top, "")
    detail = first["msg"].removeprefix("Value error, ")
    where = f"entry {loc!r}" if loc else "the file"
    what = f"expected {expected}" + (f" ({detail})" if loc != top else "") if expected else detail
    if loc == top and expected and "frames" in detail:
        what = f"expected {expected}, {detail}"
    shown = "null" if got is None else f"{_type_name(got)} {_shown(got)}"
    return InstanceError(path, f"{where}: {what}; got {shown}", field=top or None)


def read_json_object(path: Path, *, limit_name: str = "MAX_METADATA_BYTES") -> dict:
    """A JSON object from a file, bounded in size and nesting before it is parsed."""
    limit = input_limit(limit_name)
    try:
        size = path.stat().st_size
        if size > limit:
            raise InstanceError(path, f"{size} bytes, more than the limit of {limit} (RULEC_{limit_name})")
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InstanceError(path, f"not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise InstanceError(path, f"cannot read it ({err.strerror or type(err).__name__})") from None
    depth, max_depth = json_nesting(text), input_limit("MAX_JSON_NESTING")
    if depth > max_depth:
        raise InstanceError(path, f"JSON nested {depth} deep, more than the limit of {max_depth} (RULEC_MAX_JSON_NESTING)")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as err:
        raise InstanceError(path, f"not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise InstanceError(path, f"expected a JSON object {{...}}, got {_type_name(data)}")
    return data


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_metadata(path: Path) -> tuple[TaskMetadata, dict]:
    """The typed metadata and the raw dict (what the family scorers read)."""
    data = read_json_object(path)
    try:
        return TaskMetadata.model_validate(data), data
    except ValidationError as err:
        raise _validation_message(path, err) from None


def read_image(path: Path) -> np.ndarray:
    """A task image as ``(H, W, 3)`` uint8 (the checks are :func:`rulec.runtime.video_io.read_image`'s)."""
    try:
        return read_png(path)
    except VideoReadError as err:
        raise InstanceError(path, err.reason) from None


def read_text(path: Path) -> str:
    """A small UTF-8 text file (``prompt.txt``, ``rules.txt``)."""
    limit = input_limit("MAX_TEXT_BYTES")
    try:
        if path.stat().st_size > limit:
            raise InstanceError(path, f"more than {limit} bytes (RULEC_MAX_TEXT_BYTES)")
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise InstanceError(path, f"not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise InstanceError(path, f"cannot read it ({err.strerror or type(err).__name__})") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]


@dataclass
class TaskFolder:
    """What a task folder holds, checked; optional files are ``None`` when absent."""

    path: Path
    first_frame: np.ndarray  # (H, W, 3) uint8
    meta: TaskMetadata
    metadata: dict = field(default_factory=dict)  # the raw entries, minus "prompt"
    prompt: Optional[str] = None
    ground_truth: Optional[np.ndarray] = None  # (T, H, W, 3) uint8, when read

    @property
    def rules_path(self) -> Path:
        return self.path / "rules.txt"

    def require(self, *entries: str) -> None:
        """Refuse a folder whose metadata lacks one of ``entries``."""
        for key in entries:
            if getattr(self.meta, key, None) is None and key not in self.metadata:
                raise InstanceError(self.path / METADATA, f"no {key!r} entry (expected {EXPECTED.get(key, 'it')})", field=key)


def load_task_folder(folder: str | os.PathLike, *, ground_truth: bool = False, prompt: bool = False) -> TaskFolder:
    """Read a task folder: ``first_frame.png`` always; metadata and ``prompt.txt`` when present
    (``prompt=True``: required and non-empty); ``ground_truth.mp4`` when present and asked for."""
    src = Path(folder)
    if not src.is_dir():
        raise InstanceError(src, "no such task folder (not a task folder: expected a directory holding first_frame.png)")
    first_png = src / "first_frame.png"
    if not first_png.is_file():
        raise InstanceError(src, "not a task folder (no first_frame.png)")
    first = read_image(first_png)
    meta, raw = TaskMetadata(), {}
    if (src / METADATA).exists():
        meta, raw = read_metadata(src / METADATA)
    text = None
    if (src / "prompt.txt").exists():
        text = read_text(src / "prompt.txt").strip("\n")
    if prompt and not (text or "").strip():
        raise InstanceError(src / "prompt.txt", "missing or empty (a task folder holds the instruction in prompt.txt)")
    video = _read_ground_truth(src, meta) if ground_truth else None
    metadata = {k: v for k, v in raw.items() if k != "prompt"}
    return TaskFolder(src, first, meta, metadata, text, video)


def _read_ground_truth(src: Path, meta: TaskMetadata) -> Optional[np.ndarray]:
    """``ground_truth.mp4`` if the folder has one, checked against the metadata's ``num_frames``."""
    if not (src / "ground_truth.mp4").exists():
        return None
    try:
        video = read_video(src / "ground_truth.mp4")
    except VideoReadError as exc:
        raise InstanceError(src / "ground_truth.mp4", exc.reason) from None
    if meta.num_frames is not None and meta.num_frames != video.shape[0]:
        raise InstanceError(src / METADATA, f"entry 'num_frames' is {meta.num_frames} but ground_truth.mp4 has {video.shape[0]} frames", field="num_frames")
    return video


@dataclass(frozen=True)
class ModelTask:
    """What a video model is given for a task folder: its first frame, a caption, a length.
    (``TaskInput.from_image`` makes the model's tensor of it; the suite itself stays torch-free.)"""

    first_frame: np.ndarray  # (H, W, 3) uint8
    caption: str
    num_frames: int


def model_task(folder: str | os.PathLike, caption: str | None = None, num_frames: int | None = None) -> ModelTask:
    """A task folder as a video model's task, every choice of ``rulec run`` made here.

    ``caption``: ``None`` the folder's instruction (``prompt.txt``; a video
    model is told the task, as in ``rulec bench``), ``"plan"`` its metadata's
    ``plan_caption``, ``"none"`` empty, anything else is the caption itself. The length is
    ``num_frames``, else the metadata's, else the ground truth's (decoded only then), else
    the suite's default. Raises :class:`InstanceError` for a folder it cannot use and
    ValueError for a length beyond ``RULEC_MAX_VIDEO_FRAMES``.
    """
    src = Path(folder)
    if not src.is_dir():
        raise InstanceError(src, "task folder not found")
    task = load_task_folder(src)
    if caption is None:
        text = task.prompt or ""
    elif caption == "plan":
        task.require("plan_caption")
        text = task.meta.plan_caption
    elif caption == "none":
        text = ""
    else:
        text = caption
    frames = num_frames or task.meta.num_frames
    if frames is None:
        truth = _read_ground_truth(src, task.meta)
        frames = NUM_FRAMES if truth is None else int(truth.shape[0])
    limit = input_limit("MAX_VIDEO_FRAMES")
    if not 1 <= frames <= limit:
        raise ValueError(f"the video length must lie in 1..{limit} frames (RULEC_MAX_VIDEO_FRAMES), got {frames}")
    return ModelTask(task.first_frame, text, frames)


def _png(path: Path, image: np.ndarray) -> None:
    import imageio.v3 as iio

    iio.imwrite(path, image)


def write_instance(inst: Instance, folder: str | os.PathLike) -> Path:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    _png(out / "first_frame.png", inst.first_frame)
    _png(out / "final_frame.png", inst.final_frame)
    (out / "prompt.txt").write_text(inst.prompt + "\n", encoding="utf-8")
    (out / "rules.txt").write_text(inst.rules_text, encoding="utf-8")
    meta = {**inst.metadata, "prompt": inst.prompt}
    (out / METADATA).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    write_video(out / "ground_truth.mp4", inst.ground_truth)
    encodes = inst.metadata.get("encodes")
    if isinstance(encodes, dict) and "h264" in encodes:  # the realistic families: an ordinary mp4 beside the lossless one
        write_video(out / encodes["h264"], inst.ground_truth, fps=int(inst.metadata.get("fps", 8)), codec="h264")
    return out


def load_instance(folder: str | os.PathLike) -> Instance:
    """A complete instance (every file of :data:`FILES`), its metadata checked against its family's scorer."""
    src = Path(folder)
    if not src.is_dir():
        raise InstanceError(src, "not an instance folder (no such directory)")
    missing = [f for f in FILES if not (src / f).exists()]
    if missing:
        raise InstanceError(src, f"missing {', '.join(missing)}")
    task = load_task_folder(src, ground_truth=True)
    task.require("family", "seed", "colours", "solution_path")
    from rulec.runtime.tasks import ALL_FAMILIES, score

    if task.meta.family not in ALL_FAMILIES:
        raise InstanceError(src / METADATA, f"entry 'family': unknown family {task.meta.family!r}; known: {', '.join(ALL_FAMILIES)}", field="family")
    if task.ground_truth.shape[1:3] != task.first_frame.shape[:2]:
        raise InstanceError(src / "ground_truth.mp4", f"frames of {task.ground_truth.shape[2]}x{task.ground_truth.shape[1]} pixels, but first_frame.png is {task.first_frame.shape[1]}x{task.first_frame.shape[0]}")
    inst = Instance(
        family=task.meta.family,
        seed=task.meta.seed,
        first_frame=task.first_frame,
        prompt=task.prompt or "",
        ground_truth=task.ground_truth,
        rules_text=read_text(task.rules_path),
        metadata=task.metadata,
    )
    try:  # the family scorer reads its own entries: a folder whose metadata it cannot read is refused here
        score(inst, inst.ground_truth)
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, OverflowError) as err:
        raise InstanceError(src / METADATA, f"does not fit the {inst.family!r} scorer ({type(err).__name__}: {_first_line(err)})") from None
    return inst
