"""The output folder of ``rulec run``: written whole or not at all, and never over a user's file.

Everything is written into a staging folder beside ``OUT/`` first and moved in file by
file only when the run finished, so a failed run leaves nothing partial. A manifest
(:data:`MANIFEST`) lists the files a run wrote: only those are ever replaced (or removed
when a later run has none of that name); any other file in ``OUT/`` is left alone, and a
file we would overwrite but did not write refuses the run (:class:`OutputConflict`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

#: Lists the files ``rulec run`` wrote into an output folder: only those are ever replaced.
MANIFEST = ".rulec-run.json"
TOOL = "rulec run"


class OutputConflict(ValueError):
    """The output path is a file, or its folder holds files (or a file where a folder goes) a run did not write."""


def _refusal(out: Path, found: list[str]) -> OutputConflict:
    shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return OutputConflict(f"{out}: would overwrite {shown}, not written by {TOOL} (see {MANIFEST}); "
                          "move them away or choose another -o folder")


def _relative_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def _owned(out: Path) -> set[str]:
    """Files an earlier run wrote into ``out`` (from its manifest; none if unreadable)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", []) if isinstance(data, dict) and data.get("tool") == TOOL else []
        return {f for f in files if isinstance(f, str) and not Path(f).is_absolute() and ".." not in Path(f).parts}
    except (OSError, ValueError):
        return set()


def conflicts(names: list[str], out: Path) -> list[str]:
    """Paths under ``out`` that writing ``names`` would overwrite but a run did not write (user files)."""
    owned = _owned(out)
    found = []
    for name in names:
        target = out / name
        if target.is_symlink() or target.exists():
            if name not in owned or target.is_dir() or target.is_symlink():
                found.append(name)
        for parent in list(Path(name).parents)[:-1]:  # a user file where we need a folder
            p = out / parent
            if p.exists() and not p.is_dir() or p.is_symlink():
                found.append(str(parent))
    return sorted(set(found))


def check_writable(names: list[str], out: Path) -> None:
    """Refuse now (:class:`OutputConflict`) what :func:`staged` would refuse after the run."""
    if out.exists() and not out.is_dir():
        raise OutputConflict(f"output path exists and is not a folder: {out}")
    found = conflicts(names, out) if out.is_dir() else []
    if found:
        raise _refusal(out, found)


def _publish(staging: Path, out: Path) -> None:
    """Move our finished files from ``staging`` into ``out``, file by file; record them in the manifest."""
    names = _relative_files(staging)
    found = conflicts(names, out)
    if found:
        raise _refusal(out, found)
    out.mkdir(parents=True, exist_ok=True)
    stale = _owned(out) - set(names)
    for name in names:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name, target)
    for name in sorted(stale):
        target = out / name
        if target.is_file() and not target.is_symlink():
            target.unlink()
    manifest = {"tool": TOOL, "files": names}
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A staging folder beside ``out`` to write into; published into ``out`` when the block
    ends without an error, removed in any case."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    try:
        yield staging
        _publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
