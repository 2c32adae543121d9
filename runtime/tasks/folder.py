"""Instances on disk in VBVR-Bench's layout, plus our reference rules.

A folder holds ``first_frame.png``, ``prompt.txt``, ``final_frame.png``,
``ground_truth.mp4`` (lossless RGB, see :mod:`rulec.runtime.video_io`),
``question_metadata.json`` and ``rules.txt``. Everything is written deterministically:
the same instance gives the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from rulec.runtime.tasks.base import Instance
from rulec.runtime.video_io import VideoReadError, read_video, write_video

FILES = ("first_frame.png", "prompt.txt", "final_frame.png", "ground_truth.mp4", "question_metadata.json", "rules.txt")


class InstanceError(Exception):
    """An instance folder is missing a file or holds one that cannot be read."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")


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
    (out / "question_metadata.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    write_video(out / "ground_truth.mp4", inst.ground_truth)
    return out


def load_instance(folder: str | os.PathLike) -> Instance:
    import imageio.v3 as iio

    src = Path(folder)
    if not src.is_dir():
        raise InstanceError(src, "not an instance folder (no such directory)")
    missing = [f for f in FILES if not (src / f).exists()]
    if missing:
        raise InstanceError(src, f"missing {', '.join(missing)}")
    try:
        meta = json.loads((src / "question_metadata.json").read_text(encoding="utf-8"))
        first = np.asarray(iio.imread(src / "first_frame.png"))[:, :, :3]
        video = read_video(src / "ground_truth.mp4")
    except VideoReadError as exc:
        raise InstanceError(src, exc.reason) from None
    except (ValueError, OSError) as exc:
        raise InstanceError(src, f"unreadable file ({type(exc).__name__}: {exc})") from None
    for key in ("family", "seed", "colours", "solution_path"):
        if key not in meta:
            raise InstanceError(src / "question_metadata.json", f"no {key!r} entry")
    meta.pop("prompt", None)
    return Instance(
        family=meta["family"],
        seed=int(meta["seed"]),
        first_frame=np.ascontiguousarray(first),
        prompt=(src / "prompt.txt").read_text(encoding="utf-8").rstrip("\n"),
        ground_truth=video,
        rules_text=(src / "rules.txt").read_text(encoding="utf-8"),
        metadata=meta,
    )
