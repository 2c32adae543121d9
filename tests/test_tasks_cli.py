"""`rulec tasks list | make | score` through typer's test runner."""

from __future__ import annotations

import json

import numpy as np
import shutil

import typer
from typer.testing import CliRunner

from rulec.cli import tasks as cli_tasks
from rulec.runtime import tasks


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, as in rulec.cli
        pass

    cli_tasks.register(app)
    return app


runner = CliRunner()


def test_list_names_first():
    out = runner.invoke(_app(), ["tasks", "list"])
    assert out.exit_code == 0
    assert [line.split()[0] for line in out.output.strip().splitlines()] == list(tasks.FAMILIES)


def test_make_then_score(tmp_path):
    res = runner.invoke(_app(), ["tasks", "make", "--family", "maze", "--family", "waypoints", "--n", "2", "--seed", "3", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["maze_00003", "maze_00004", "waypoints_00003", "waypoints_00004"]
    vids = tmp_path / "videos"
    vids.mkdir()
    shutil.copy(tmp_path / "out/maze_00003/ground_truth.mp4", vids / "maze_00003.mp4")
    shutil.copy(tmp_path / "out/waypoints_00003/ground_truth.mp4", vids / "waypoints_00003.mp4")
    inst = tasks.load_instance(tmp_path / "out/maze_00004")
    bad = tasks.corruptions(inst)["wall_crossing"]
    from rulec.runtime.video_io import write_video

    write_video(vids / "maze_00004", bad)  # a folder of PNG frames
    res = runner.invoke(_app(), ["tasks", "score", str(tmp_path / "out"), str(vids), "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)
    by_name = {r["instance"]: r for r in result["instances"]}
    assert by_name["maze_00003"]["success"] and by_name["waypoints_00003"]["success"]
    assert not by_name["maze_00004"]["success"] and not by_name["maze_00004"]["checks"]["walls_avoided"]
    assert "no video" in by_name["waypoints_00004"]["error"]
    assert result["families"]["maze"]["success_rate"] == 0.5
    assert result["families"]["overall"]["success_rate"] == 0.5
    res = runner.invoke(_app(), ["tasks", "score", str(tmp_path / "out"), str(vids)])
    assert res.exit_code == 0 and "overall" in res.output and "walls_avoided" in res.output


def test_usage_errors_exit_2(tmp_path):
    res = runner.invoke(_app(), ["tasks", "make", "--family", "mazes", str(tmp_path / "o")])
    assert res.exit_code == 2 and "unknown family mazes" in res.output
    res = runner.invoke(_app(), ["tasks", "score", str(tmp_path / "none"), str(tmp_path)])
    assert res.exit_code == 2 and "no such folder" in res.output
    (tmp_path / "empty").mkdir()
    res = runner.invoke(_app(), ["tasks", "score", str(tmp_path / "empty"), str(tmp_path)])
    assert res.exit_code == 2 and "no instance folders" in res.output


def test_show_writes_a_picture(tmp_path):
    import imageio.v3 as iio

    inst = tasks.make_instance("hazard", 0)
    folder = tasks.write_instance(inst, tmp_path / inst.name)
    res = runner.invoke(_app(), ["tasks", "show", str(folder), "-o", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    img = iio.imread(tmp_path / "s.png")
    big = np.repeat(np.repeat(inst.first_frame, 8, 0), 8, 1)  # the first frame, 8x, labelled (figures.sheet)
    h, w = img.shape[0] - 255, img.shape[1] - 255
    probes = np.ones((h, w), dtype=bool)  # candidate corners, narrowed by a few probe pixels first
    coloured = np.argwhere(big.min(-1) < 200)  # probe where the scene is not white
    for py, px in coloured[np.linspace(0, len(coloured) - 1, 6).astype(int)]:
        probes &= np.all(img[py:py + h, px:px + w] == big[py, px], axis=-1)
    corners = [(y, x) for y, x in zip(*np.nonzero(probes)) if np.array_equal(img[y:y + 256, x:x + 256], big)]
    assert len(corners) == 1
    res = runner.invoke(_app(), ["tasks", "show", str(tmp_path / "nothing"), "-o", str(tmp_path / "t.png")])
    assert res.exit_code == 2 and "no such directory" in res.output
