"""`rulec toy ...`: train the embedded video models and sample them on a task folder.

torch is imported inside the commands only, so `rulec compile` stays torch-free.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from rulec.runtime.models.load import DEFAULT, EMBEDDED

toy_app = typer.Typer(help="The embedded video models (latent: the default; pixel): train them, sample them.", no_args_is_help=True)


Embedded = Enum("Embedded", {m: m for m in EMBEDDED}, type=str)  # --help lists the choices
Loss = Enum("Loss", {"x0": "x0", "v": "v"}, type=str)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@toy_app.command("train")
def train_cmd(
    model: Embedded = typer.Option(DEFAULT, help="which embedded model"),
    steps: Optional[int] = typer.Option(None, help="stop at this total step count (default: the model's recipe)"),
    seed: int = typer.Option(0, help="seed for the clip stream and the noise"),
    batch: Optional[int] = typer.Option(None, help="clips per step (default: the model's recipe)"),
    max_minutes: float = typer.Option(30.0, help="stop this run after this much wall time"),
    resume: bool = typer.Option(False, help="continue from --state (or, without one, from the shipped weights)"),
    state: Optional[Path] = typer.Option(None, help="optimizer/step state file, safetensors (default under /tmp)"),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="folder for weights + config (default: the package assets)"),
    threads: int = typer.Option(1, help="torch threads (1 is robust on shared cores)"),
    loss: Optional[Loss] = typer.Option(None, help="pixel model only: the loss space (see docs/toy-model.md)"),
) -> None:
    """Train on motion clips (never on task solutions); checkpoints EMA weights as it goes."""
    model, loss = Embedded(model).value, None if loss is None else Loss(loss).value
    if model not in EMBEDDED:
        _fail(f"--model must be one of {', '.join(EMBEDDED)}, got {model!r}")
    if loss is not None and (model != "pixel" or loss not in ("x0", "v")):
        _fail("--loss takes x0 or v, for the pixel model only")
    from rulec.cli.common import prepare_output

    if out is not None:
        prepare_output(out, folder=True)
    if state is not None:
        prepare_output(state)  # the state file's folder, before any training
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
    import torch

    from rulec.cli.common import prepare_output
    from rulec.runtime.models.load import ReasonerLoadError, load_reasoner
    from rulec.runtime.models.preview import ImageSizeError, sample_image, write_preview
    from rulec.runtime.tasks.folder import InstanceError, load_task_folder

    prepare_output(out)
    try:
        image = load_task_folder(task_dir).first_frame
        reasoner = load_reasoner(model)
    except (InstanceError, ReasonerLoadError) as err:
        _fail(str(err))
    torch.set_num_threads(2)
    try:
        frames = sample_image(reasoner, image, caption, seed=seed, steps=steps, guidance=guidance)
    except ImageSizeError as err:
        _fail(f"{task_dir / 'first_frame.png'}: {err}")
    except ValueError as err:
        _fail(str(err))
    try:
        write_preview(out, frames)
    except Exception as err:  # codec/container errors come in many types
        _fail(f"{out}: cannot write the video ({err})")
    num_steps = reasoner.default_steps if steps is None else steps
    typer.echo(f"wrote {out} ({len(frames)} frames, {num_steps} steps, seed {seed})")


def register(app: typer.Typer) -> None:
    """Mount the `toy` group on the main CLI."""
    app.add_typer(toy_app, name="toy")
