"""Pictures the CLI writes name what they show: explain's report the judged video, tasks show the instance."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
from typer.testing import CliRunner

from rulec.cli import app

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "examples" / "tutorial"
TASK = ROOT / "examples" / "tasks" / "navigate_00000"


def test_explain_report_title_names_the_video(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["explain", str(TUTORIAL / "deliver.rules"), str(TUTORIAL / "broken.mp4"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "deliver.rules on broken.mp4" in out.read_text(encoding="utf-8")


def test_tasks_show_sheet_is_titled_with_the_folder_name(tmp_path):
    from rulec.runtime.tasks import load_instance
    from rulec.runtime.tasks.figures import sheet

    out = tmp_path / "sheet.png"
    result = CliRunner().invoke(app, ["tasks", "show", str(TASK), "-o", str(out)])
    assert result.exit_code == 0, result.output
    frames = load_instance(TASK).ground_truth
    assert (iio.imread(out)[..., :3] == sheet(frames, title=TASK.name)[..., :3]).all()
