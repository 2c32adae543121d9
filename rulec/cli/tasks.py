"""``rulec tasks list | make | score``: a thin shell over :mod:`rulec.runtime.tasks`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

tasks_app = typer.Typer(help="The procedural task suite: list families, make instances, score videos.")

_VIDEO_SUFFIXES = (".mp4", ".gif", ".webm", ".mkv", ".avi", ".mov")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@tasks_app.command("list")
def list_families() -> None:
    """The task families, one a line: name, then what it asks."""
    from rulec.runtime.tasks import FAMILIES

    width = max(len(n) for n in FAMILIES)
    for name, fam in FAMILIES.items():
        typer.echo(f"{name:<{width}}  {fam.summary}")


@tasks_app.command("make")
def make(
    out_arg: Optional[Path] = typer.Argument(None, metavar="[OUT]", help="the output folder (older spelling of -o/--out)", show_default=False),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="folder to write instance folders into"),
    family: Optional[List[str]] = typer.Option(None, "--families", "--family", "-f", metavar="NAMES",
                                               help="family names, comma-separated or repeated (default: the six; see rulec tasks list)"),
    n: int = typer.Option(10, "--n", help="instances per family"),
    seed: int = typer.Option(0, "--seed", help="first seed; instances use seed, seed+1, ..."),
) -> None:
    """Write N instances per family as OUT/<family>_<seed>/ in VBVR's layout plus rules.txt
    (default: the six families; the realistic ones, e.g. return_home, by name)."""
    from rulec.cli.common import prepare_output, split_list
    from rulec.runtime.tasks import ALL_FAMILIES, FAMILIES, make_instance, write_instance

    if out is not None and out_arg is not None and out != out_arg:
        _fail(f"two output folders: {out_arg} and -o {out}")
    out = out or out_arg
    if out is None:
        _fail("missing -o/--out: the folder to write instance folders into")
    names = split_list(family) or list(FAMILIES)
    unknown = [f for f in names if f not in ALL_FAMILIES]
    if unknown:
        _fail(f"unknown family {', '.join(unknown)}; known: {', '.join(ALL_FAMILIES)}")
    if n < 1:
        _fail(f"--n must be at least 1, got {n}")
    if seed < 0:
        _fail(f"--seed must be >= 0, got {seed}")
    prepare_output(out, folder=True)  # made (or refused) before any instance is drawn
    count = 0
    for name in names:
        for s in range(seed, seed + n):
            inst = make_instance(name, s)
            write_instance(inst, out / inst.name)
            count += 1
    typer.echo(f"wrote {count} instances ({', '.join(names)}; seeds {seed}..{seed + n - 1}) to {out}")


def find_video(videos: Path, name: str) -> Optional[Path]:
    """The video for an instance: VIDEOS/<name>.mp4 (or .gif, .webm...) or a PNG folder VIDEOS/<name>/."""
    for suffix in _VIDEO_SUFFIXES:
        p = videos / f"{name}{suffix}"
        if p.is_file():
            return p
    d = videos / name
    return d if d.is_dir() else None


def score_folders(instances: Path, videos: Path) -> dict:
    """Score every instance folder under ``instances`` against its video; a summary dict."""
    from rulec.runtime.tasks import InstanceError, load_instance, score
    from rulec.runtime.video_io import VideoReadError, read_video

    rows = []
    folders = sorted(p.parent for p in instances.glob("*/question_metadata.json"))
    for folder in folders:
        row = {"instance": folder.name, "family": None, "success": False, "partial": 0.0, "checks": {}, "error": None}
        try:
            inst = load_instance(folder)
            row["family"] = inst.family
            path = find_video(videos, folder.name)
            if path is None:
                raise FileNotFoundError(f"no video named {folder.name}.mp4/.gif/.webm or folder {folder.name}/ in {videos}")
            result = score(inst, read_video(path))
            row.update(success=result.success, partial=result.partial, checks=result.checks)
        except (InstanceError, VideoReadError, FileNotFoundError, ValueError, KeyError) as exc:
            row["error"] = str(exc)
        rows.append(row)
    return {"instances": rows, "families": summarize(rows)}


def summarize(rows: list[dict]) -> dict:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["family"] or "?", []).append(r)
    groups_all = {**groups, "overall": rows}
    out = {}
    for fam, rs in groups_all.items():
        checks: dict[str, list[bool]] = {}
        for r in rs:
            for k, v in r["checks"].items():
                checks.setdefault(k, []).append(bool(v))
        out[fam] = {
            "instances": len(rs),
            "scored": sum(r["error"] is None for r in rs),
            "success_rate": sum(r["success"] for r in rs) / len(rs) if rs else 0.0,
            "partial_mean": sum(r["partial"] for r in rs) / len(rs) if rs else 0.0,
            "checks": {k: sum(v) / len(v) for k, v in checks.items()} if fam != "overall" else {},
        }
    return out


@tasks_app.command("score")
def score_cmd(
    instances: Path = typer.Argument(..., help="folder of instance folders (from `rulec tasks make`)"),
    videos: Path = typer.Argument(..., help="folder holding <instance>.mp4|.gif|.webm or <instance>/ PNG frames"),
    as_json: bool = typer.Option(False, "--json", help="print the full results as JSON"),
) -> None:
    """Score videos with the independent scorers: a table per family and overall.

    A missing or unreadable video counts as a failure (and is listed).
    """
    if not instances.is_dir():
        _fail(f"{instances}: no such folder")
    if not videos.is_dir():
        _fail(f"{videos}: no such folder")
    result = score_folders(instances, videos)
    if not result["instances"]:
        _fail(f"{instances}: holds no instance folders (no */question_metadata.json)")
    if as_json:
        from rulec.jsonout import dumps

        typer.echo(dumps(result, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for fam, s in result["families"].items():
        if fam == "overall":
            continue
        table = Table(title=f"{fam}: success {s['success_rate']:.1%}, partial {s['partial_mean']:.3f} ({s['scored']}/{s['instances']} scored)")
        table.add_column("sub-check")
        table.add_column("pass rate", justify="right")
        for k, v in s["checks"].items():
            table.add_row(k, f"{v:.1%}")
        console.print(table)
    overall = Table(title="overall")
    for col in ("family", "instances", "scored", "success", "partial"):
        overall.add_column(col, justify="left" if col == "family" else "right")
    for fam, s in result["families"].items():
        overall.add_row(fam, str(s["instances"]), str(s["scored"]), f"{s['success_rate']:.1%}", f"{s['partial_mean']:.3f}")
    console.print(overall)
    for r in result["instances"]:
        if r["error"]:
            typer.echo(f"{r['instance']}: {r['error']}", err=True)


@tasks_app.command("show")
def show(
    folder: Path = typer.Argument(..., help="an instance folder"),
    out: Path = typer.Option(..., "-o", "--out", help="PNG file to write"),
    video: Optional[Path] = typer.Option(None, "--video", help="show this video instead of the ground truth"),
) -> None:
    """Write a picture of an instance: first and last frame, and a filmstrip (every other frame)."""
    import imageio.v3 as iio

    from rulec.runtime.tasks import InstanceError, load_instance
    from rulec.runtime.tasks.figures import sheet
    from rulec.runtime.video_io import VideoReadError, read_video
    from rulec.cli.common import prepare_output

    prepare_output(out)
    try:
        inst = load_instance(folder)
        frames = inst.ground_truth if video is None else read_video(video)
    except (InstanceError, VideoReadError) as exc:
        _fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(out, sheet(frames, title=folder.name))
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")
