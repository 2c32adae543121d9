"""`rulec toy ...`: train the embedded tiny VGM and sample it on a task folder.

torch is imported inside the commands only, so `rulec compile` stays torch-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

toy_app = typer.Typer(help="The embedded tiny video model: train it, sample it.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@toy_app.command("train")
def train_cmd(
    steps: int = typer.Option(3000, help="stop at this total step count"),
    seed: int = typer.Option(0, help="seed for the clip stream and the noise"),
    batch: int = typer.Option(16, help="clips per step"),
    max_minutes: float = typer.Option(80.0, help="stop this run after this much wall time"),
    resume: bool = typer.Option(False, help="continue from --state"),
    state: Optional[Path] = typer.Option(None, help="optimizer/step state file, safetensors (default /tmp/rulec_toy_vgm/state.safetensors)"),
    out: Optional[Path] = typer.Option(None, help="folder for weights + config (default: the package assets)"),
    loss: str = typer.Option("x0", help="loss space: x0 or v (see docs/toy-model.md)"),
    threads: int = typer.Option(1, help="torch threads (1 is robust on shared cores)"),
) -> None:
    """Train on motion clips (never on task solutions); checkpoints EMA weights every 100 steps."""
    from rulec.runtime import toy_train

    if loss not in ("x0", "v"):
        _fail(f"--loss must be x0 or v, got {loss!r}")
    argv = ["--steps", str(steps), "--seed", str(seed), "--batch", str(batch), "--max-minutes", str(max_minutes),
            "--loss", loss, "--threads", str(threads)]
    if resume:
        argv.append("--resume")
    if state is not None:
        argv += ["--state", str(state)]
    if out is not None:
        argv += ["--out", str(out)]
    code = toy_train.main(argv)
    if code:
        raise typer.Exit(code)


def _read_first_frame(task_dir: Path):
    import imageio.v3 as iio
    import numpy as np

    if not task_dir.is_dir():
        _fail(f"{task_dir}: not a task folder (expected a folder with first_frame.png)")
    png = task_dir / "first_frame.png"
    if not png.exists():
        _fail(f"{png}: missing (a task folder holds first_frame.png and prompt.txt)")
    try:
        img = np.asarray(iio.imread(png))
    except Exception as e:  # imageio raises many types for unreadable files
        _fail(f"{png}: cannot read the image ({e})")
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] not in (3, 4):
        _fail(f"{png}: expected an RGB image, got shape {img.shape}")
    return img[..., :3].astype(np.uint8)


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
    output: Path = typer.Option(..., "-o", "--output", help="video to write (.mp4, .gif)"),
    caption: str = typer.Option("", help='motion caption, e.g. "red disc moves right" (default: none)'),
    seed: int = typer.Option(0),
    steps: Optional[int] = typer.Option(None, help="Euler steps (default: the model's, see docs/toy-model.md)"),
    weights: Optional[Path] = typer.Option(None, help="weights folder or .safetensors (default: shipped)"),
    guidance: float = typer.Option(1.0, help="classifier-free guidance on the caption (1: off; 2 follows directions better, at twice the cost)"),
) -> None:
    """Sample a video for a task folder; PNG frames are written beside it (<output>_frames/)."""
    import imageio.v3 as iio
    import numpy as np
    import torch

    from rulec.runtime.toy_model import ToyModelError
    from rulec.runtime.toy_reasoner import ToyReasoner, sample_videos

    img = _read_first_frame(task_dir)
    try:
        reasoner = ToyReasoner.load(weights)
    except ToyModelError as e:
        _fail(str(e))
    size = reasoner.model.config.frame_size
    if img.shape[:2] != (size, size):
        _fail(f"{task_dir / 'first_frame.png'}: the toy model needs {size}x{size} images, got {img.shape[1]}x{img.shape[0]}")
    if steps is not None and steps < 1:
        _fail(f"--steps must be >= 1, got {steps}")
    if guidance <= 0:
        _fail(f"--guidance must be positive, got {guidance}")
    torch.set_num_threads(2)
    first = torch.from_numpy(img).float().div(255).permute(2, 0, 1)
    with torch.no_grad():
        video = sample_videos(reasoner.model, first[None], [caption], seed=seed,
                              num_steps=reasoner.default_steps if steps is None else steps, guidance=guidance)
    frames = (video[0].permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write(output, frames)
    except Exception as e:  # codec/container errors come in many types
        _fail(f"{output}: cannot write the video ({e})")
    frame_dir = output.with_name(output.stem + "_frames")
    frame_dir.mkdir(exist_ok=True)
    for t, f in enumerate(frames):
        iio.imwrite(frame_dir / f"{t:03d}.png", f)
    typer.echo(f"wrote {output} ({len(frames)} frames, {reasoner.default_steps if steps is None else steps} steps, seed {seed})")


def register(app: typer.Typer) -> None:
    """Mount the `toy` group on the main CLI."""
    app.add_typer(toy_app, name="toy")
