"""`rulec toy ...`: train the embedded video models and sample them on a task folder.

torch is imported inside the commands only, so `rulec compile` stays torch-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

toy_app = typer.Typer(help="The embedded video models (latent: the default; pixel): train them, sample them.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@toy_app.command("train")
def train_cmd(
    model: str = typer.Option("latent", help="which embedded model: latent (the default model) | pixel"),
    steps: Optional[int] = typer.Option(None, help="stop at this total step count (default: the model's recipe)"),
    seed: int = typer.Option(0, help="seed for the clip stream and the noise"),
    batch: Optional[int] = typer.Option(None, help="clips per step (default: the model's recipe)"),
    max_minutes: float = typer.Option(30.0, help="stop this run after this much wall time"),
    resume: bool = typer.Option(False, help="continue from --state (or, without one, from the shipped weights)"),
    state: Optional[Path] = typer.Option(None, help="optimizer/step state file, safetensors (default under /tmp)"),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="folder for weights + config (default: the package assets)"),
    threads: int = typer.Option(1, help="torch threads (1 is robust on shared cores)"),
    loss: Optional[str] = typer.Option(None, help="pixel model only: loss space x0 or v (see docs/toy-model.md)"),
) -> None:
    """Train on motion clips (never on task solutions); checkpoints EMA weights as it goes."""
    if model not in ("latent", "pixel"):
        _fail(f"--model must be latent or pixel, got {model!r}")
    if loss is not None and (model != "pixel" or loss not in ("x0", "v")):
        _fail("--loss takes x0 or v, for the pixel model only")
    if out is not None:
        from rulec.cli.common import prepare_output

        prepare_output(out, folder=True)
    if model == "latent":
        from rulec.runtime.models.latent import train as trainer
    else:
        from rulec.runtime.models.pixel import train as trainer
    argv = ["--seed", str(seed), "--max-minutes", str(max_minutes), "--threads", str(threads)]
    for flag, value in (("--steps", steps), ("--batch", batch), ("--state", state), ("--out", out), ("--loss", loss)):
        if value is not None:
            argv += [flag, str(value)]
    if resume:
        argv.append("--resume")
    code = trainer.main(argv)
    if code:
        raise typer.Exit(code)


def _read_first_frame(task_dir: Path):
    """first_frame.png as (H, W, 3) uint8, read by the one task-folder loader."""
    from rulec.runtime.tasks.folder import InstanceError, load_task_folder

    try:
        return load_task_folder(task_dir).first_frame
    except InstanceError as e:
        _fail(str(e))


def _write(path: Path, frames) -> None:
    try:
        from rulec.runtime.video_io import write_video
    except ImportError:
        import imageio.v3 as iio

        if path.suffix.lower() == ".gif":
            iio.imwrite(path, frames, duration=125, loop=0)
        else:
            iio.imwrite(path, frames, plugin="pyav", codec="libx264", fps=8)
        return
    write_video(path, frames, fps=8)


@toy_app.command("sample")
def sample_cmd(
    task_dir: Path = typer.Argument(..., help="task folder with first_frame.png"),
    out: Path = typer.Option(..., "-o", "--out", "--output", help="video to write (.mp4, .gif)"),
    caption: str = typer.Option("", help='caption, e.g. "red disc moves right" or the task prompt (default: none)'),
    seed: int = typer.Option(0),
    steps: Optional[int] = typer.Option(None, help="Euler steps (default: the model's, see docs/toy-model.md)"),
    model: Optional[str] = typer.Option(None, "--model", "--weights", help="latent (default) | pixel | a weights folder or .safetensors"),
    guidance: float = typer.Option(1.0, help="pixel model only: classifier-free guidance on the caption (1: off)"),
) -> None:
    """Sample a video for a task folder; PNG frames are written beside it (<out>_frames/)."""
    import imageio.v3 as iio
    import torch

    from rulec.runtime.optimize.reasoner import TaskInput
    from rulec.runtime.models.load import ReasonerLoadError, load_reasoner
    from rulec.runtime.optimize.report import to_uint8
    from rulec.runtime.models.pixel.reasoner import ToyReasoner, sample_videos

    from rulec.cli.common import prepare_output

    prepare_output(out)
    img = _read_first_frame(task_dir)
    try:
        reasoner = load_reasoner(model)
    except ReasonerLoadError as e:
        _fail(str(e))
    if steps is not None and steps < 1:
        _fail(f"--steps must be >= 1, got {steps}")
    if guidance <= 0:
        _fail(f"--guidance must be positive, got {guidance}")
    pixel = isinstance(reasoner, ToyReasoner)
    if not pixel and guidance != 1.0:
        _fail("--guidance is for the pixel model only")
    if pixel and img.shape[:2] != (reasoner.model.config.frame_size,) * 2:
        size = reasoner.model.config.frame_size
        _fail(f"{task_dir / 'first_frame.png'}: the pixel model needs {size}x{size} images, got {img.shape[1]}x{img.shape[0]}")
    torch.set_num_threads(2)
    first = torch.from_numpy(img).float().div(255).permute(2, 0, 1)
    num_steps = reasoner.default_steps if steps is None else steps
    with torch.no_grad():
        if pixel:
            video = sample_videos(reasoner.model, first[None], [caption], seed=seed, num_steps=num_steps, guidance=guidance)
        else:
            video = reasoner.sample(TaskInput(first, caption, reasoner.model.config.num_frames), seed=seed, num_steps=num_steps)
    frames = to_uint8(video[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write(out, frames)
    except Exception as e:  # codec/container errors come in many types
        _fail(f"{out}: cannot write the video ({e})")
    frame_dir = out.with_name(out.stem + "_frames")
    frame_dir.mkdir(exist_ok=True)
    for t, f in enumerate(frames):
        iio.imwrite(frame_dir / f"{t:03d}.png", f)
    typer.echo(f"wrote {out} ({len(frames)} frames, {num_steps} steps, seed {seed})")


def register(app: typer.Typer) -> None:
    """Mount the `toy` group on the main CLI."""
    app.add_typer(toy_app, name="toy")
