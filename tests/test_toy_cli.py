"""`rulec toy sample`: writes a video for a task folder; bad input is a clear exit-2 error."""

import imageio.v3 as iio
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rulec.cli import toy as cli_toy
from rulec.runtime.models import clips
from rulec.runtime.models.pixel import network as toy_model
from rulec.runtime.models.pixel.reasoner import ToyReasoner


@pytest.fixture(scope="module")
def app():
    a = typer.Typer()
    a.command("noop")(lambda: None)  # a second command so `toy` mounts as a sub-group
    cli_toy.register(a)
    return a


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("w")
    toy_model.save(ToyReasoner.random_init(seed=0).model, folder)
    return folder


def test_sample_writes_video_and_png_frames(app, weights, tmp_path):
    task = tmp_path / "task"
    task.mkdir()
    first = clips.make_clip(11).video[0]
    iio.imwrite(task / "first_frame.png", first)
    (task / "prompt.txt").write_text("Move the disc.")
    out = tmp_path / "out.gif"
    res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(out), "--steps", "2",
                                   "--weights", str(weights), "--caption", "red disc moves up"])
    assert res.exit_code == 0, res.output
    assert out.exists()
    frames = sorted((tmp_path / "out_frames").glob("*.png"))
    assert len(frames) == 16
    assert np.array_equal(iio.imread(frames[0])[..., :3], first)


def test_missing_task_folder_is_exit_2(app, weights, tmp_path):
    res = CliRunner().invoke(app, ["toy", "sample", str(tmp_path / "nope"), "-o", str(tmp_path / "o.mp4"),
                                   "--weights", str(weights)])
    assert res.exit_code == 2
    assert "not a task folder" in res.output
    assert "Traceback" not in res.output


def test_wrong_size_image_and_missing_weights_are_exit_2(app, weights, tmp_path):
    task = tmp_path / "t"
    task.mkdir()
    iio.imwrite(task / "first_frame.png", np.full((64, 64, 3), 255, np.uint8))
    res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(tmp_path / "o.mp4"),
                                   "--weights", str(tmp_path / "none")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(tmp_path / "o.mp4"), "--weights", str(weights)])
    assert res.exit_code == 2 and "32x32" in res.output


def test_guided_sample_differs_and_bad_guidance_is_exit_2(app, weights, tmp_path):
    task = tmp_path / "task"
    task.mkdir()
    iio.imwrite(task / "first_frame.png", clips.make_clip(11).video[0])
    runs = {}
    for g in ("1", "2.5"):
        out = tmp_path / f"g{g}.gif"
        res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(out), "--steps", "2", "--weights",
                                       str(weights), "--caption", "red disc moves up", "--guidance", g])
        assert res.exit_code == 0, res.output
        runs[g] = np.stack([iio.imread(f) for f in sorted((tmp_path / f"g{g}_frames").glob("*.png"))])
    assert not np.array_equal(runs["1"], runs["2.5"])
    res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(tmp_path / "o.gif"), "--weights", str(weights),
                                   "--guidance", "0"])
    assert res.exit_code == 2 and "--guidance must be positive" in res.output


def test_latent_model_samples_any_size_and_refuses_guidance(app, tmp_path):
    from rulec.runtime.models.latent import network as latent_model
    from rulec.runtime.models.latent.reasoner import LatentReasoner

    folder = tmp_path / "latent"
    small = latent_model.LatentConfig(num_layers=1, num_attention_heads=2, attention_head_dim=8, ffn_dim=32, text_dim=16)
    latent_model.save(LatentReasoner.random_init(0, small).model, folder)
    task = tmp_path / "task"
    task.mkdir()
    first = clips.make_clip(11).video[0].repeat(2, 0).repeat(2, 1)  # 64x64
    iio.imwrite(task / "first_frame.png", first)
    out = tmp_path / "out.gif"
    res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(out), "--steps", "2", "--model", str(folder)])
    assert res.exit_code == 0, res.output
    frames = sorted((tmp_path / "out_frames").glob("*.png"))
    assert len(frames) == 16 and np.array_equal(iio.imread(frames[0])[..., :3], first)
    res = CliRunner().invoke(app, ["toy", "sample", str(task), "-o", str(out), "--model", str(folder), "--guidance", "2"])
    assert res.exit_code == 2 and "pixel model only" in res.output
