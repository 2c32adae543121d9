"""``rulec run``: solve one task folder with test-time optimization or a baseline.

A thin shell over :mod:`rulec.runtime.tto` and :mod:`rulec.runtime.baselines`. Everything
is written into a staging folder first and moved into ``OUT/`` only when the run finished,
so a failed run leaves nothing partial. torch is imported inside the command only.
Exit codes: 0 the run finished (the verdicts are in report.json), 1 the rules do not
compile, 2 unreadable input (task folder, rules file, model path, options).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

import typer

METHODS = ("tto", "best-of-n", "base")


class RunInputError(Exception):
    """An input of ``rulec run`` is missing or unreadable; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def load_task(task_dir: Path, caption: str | None, num_frames: int | None):
    """The TaskInput for a VBVR-layout folder (first_frame.png; optional metadata and ground truth)."""
    import json

    import imageio.v3 as iio
    import numpy as np
    import torch

    from rulec.runtime.reasoner import TaskInput

    if not task_dir.is_dir():
        raise RunInputError(f"task folder not found: {task_dir}")
    first_png = task_dir / "first_frame.png"
    if not first_png.is_file():
        raise RunInputError(f"{task_dir}: not a task folder (no first_frame.png)")
    metadata, frames = {}, None
    from rulec.runtime.tasks.folder import InstanceError, load_instance

    try:
        inst = load_instance(task_dir)
        first, metadata, frames = inst.first_frame, dict(inst.metadata), int(inst.ground_truth.shape[0])
    except InstanceError:  # a folder with fewer files than our suite writes: read what is there
        try:
            first = np.asarray(iio.imread(first_png))
        except (OSError, ValueError) as err:
            raise RunInputError(f"{first_png}: unreadable image ({err})") from None
        meta_path = task_dir / "question_metadata.json"
        if meta_path.is_file():
            try:
                metadata = json.loads(meta_path.read_text(encoding="utf-8"))
            except ValueError as err:
                raise RunInputError(f"{meta_path}: invalid JSON ({err})") from None
    if first.ndim == 2:
        first = np.stack([first] * 3, axis=-1)
    first = first[..., :3]
    if caption == "plan":
        if "plan_caption" not in metadata:
            raise RunInputError(f"{task_dir}: --caption plan needs a 'plan_caption' in question_metadata.json")
        caption = str(metadata["plan_caption"])
    from rulec.runtime.world import NUM_FRAMES

    t = num_frames or frames or int(metadata.get("num_frames", NUM_FRAMES))
    tensor = torch.from_numpy(np.ascontiguousarray(first)).permute(2, 0, 1).float() / 255.0
    return TaskInput(first_frame=tensor, caption=caption or "", num_frames=t)


def load_reward(rules_path: Path, num_frames: int):
    """Compile the rules file for a video of ``num_frames`` frames into a RewardModule."""
    from rulec import compile_rules
    from rulec.diagnostics import RulesError

    if not rules_path.is_file():
        raise RunInputError(f"rules file not found: {rules_path}")
    try:
        return compile_rules(rules_path, num_frames=num_frames).to_reward()
    except RulesError as err:
        raise RunInputError(str(err), code=1) from None


def load_reasoner(model: str | None):
    """The embedded latent model (default), ``pixel``, a Wan folder or embedded weights (see runtime.reasoners)."""
    from rulec.runtime.reasoners import ReasonerLoadError, load_reasoner as load

    try:
        return load(model)
    except ReasonerLoadError as err:
        raise RunInputError(str(err)) from None


def _publish(staging: Path, out: Path) -> None:
    """Move the finished files from ``staging`` into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    for item in staging.iterdir():
        target = out / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)


def run(
    task_dir: Path = typer.Argument(..., help="task folder (first_frame.png, prompt.txt, rules.txt, ...)"),
    out: Path = typer.Option(..., "-o", "--out", help="output folder"),
    rules: Optional[Path] = typer.Option(None, "--rules", help="rules file (default: TASK_DIR/rules.txt)"),
    method: str = typer.Option("tto", "--method", help="tto | best-of-n | base"),
    budget: Optional[int] = typer.Option(None, "--budget", help="tto: max optimization steps; best-of-n: N (default: matched to a tto run's default budget)"),
    seed: int = typer.Option(0, "--seed", help="noise seed"),
    model: Optional[str] = typer.Option(None, "--model", help="latent (the embedded default) | pixel | a Wan 2.x diffusers folder | embedded-model weights"),
    caption: Optional[str] = typer.Option(None, "--caption", help="caption for the model ('plan': the task's plan caption; default empty)"),
    sample_steps: Optional[int] = typer.Option(None, "--sample-steps", help="denoising steps per sample"),
    lr: Optional[float] = typer.Option(None, "--lr", help="tto: LoRA learning rate"),
    rank: Optional[int] = typer.Option(None, "--rank", help="tto: LoRA rank"),
    screen: Optional[int] = typer.Option(None, "--screen", help="tto: sample this many seeds first and optimize from the best"),
    num_frames: Optional[int] = typer.Option(None, "--frames", help="frames to generate (default: the ground truth's length, else 16)"),
) -> None:
    """Run test-time optimization (or a baseline) on one task; write video, LoRA and reports to OUT/."""
    try:
        _run(task_dir, out, rules, method, budget, seed, model, caption, sample_steps, lr, rank, num_frames, screen)
    except RunInputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.code) from None


def _run(task_dir, out, rules, method, budget, seed, model, caption, sample_steps, lr, rank, num_frames, screen=None) -> None:
    import dataclasses

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rulec.runtime import run_report
    from rulec.runtime.baselines import base_sample, best_of_n, matched_n
    from rulec.runtime.lora import save_lora
    from rulec.runtime.tto import TTOConfig, optimize
    from rulec.runtime.video_io import write_video

    if method not in METHODS:
        raise RunInputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if budget is not None and budget < (0 if method == "tto" else 1):
        raise RunInputError(f"--budget must be positive, got {budget}")
    if out.exists() and not out.is_dir():
        raise RunInputError(f"output path exists and is not a folder: {out}")
    task = load_task(task_dir, caption, num_frames)
    reward = load_reward(rules or task_dir / "rules.txt", task.num_frames)
    reasoner = load_reasoner(model)

    overrides = {k: v for k, v in dict(seed=seed, sample_steps=sample_steps, lr=lr, rank=rank, screen=screen).items() if v is not None}
    if rank is not None:
        overrides["alpha"] = float(rank)
    if sample_steps is not None:
        overrides["grad_steps"] = min(TTOConfig.grad_steps, max(sample_steps, 0))
    if method == "tto" and budget is not None:
        overrides["max_steps"] = budget
    try:
        config = TTOConfig(**overrides)
    except ValueError as err:
        raise RunInputError(str(err)) from None
    console = Console(stderr=True)
    base = base_sample(reasoner, task, reward, seed=seed, sample_steps=config.sample_steps, beta=config.beta_end)
    result_json: dict
    history = None
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"), console=console, transient=False,
    ) as progress:
        if method == "tto":
            bar = progress.add_task("tto", total=config.max_steps + 1, status="")

            def on_step(rec):
                progress.update(bar, completed=rec.step + 1,
                                status=f"step {rec.step} loss {rec.loss:.4f} rules {rec.rules_passed}/{len(rec.rules)}")

            result = optimize(reasoner, task, reward, config, on_step=on_step)
            video, final = result.video, result.final
            result_json = result.to_json()
            history = result_json["history"]
        elif method == "best-of-n":
            n = budget or matched_n(reasoner, _default_tto_evaluations(reasoner, config), config.sample_steps)
            bar = progress.add_task("best-of-n", total=n, status="")

            def on_sample(i, summary):
                progress.update(bar, completed=i + 1,
                                status=f"seed {summary['seed']} loss {summary['loss']:.4f} rules {summary['rules_passed']}/{len(summary['rules'])}")

            result = best_of_n(reasoner, task, reward, n, seed=seed, sample_steps=config.sample_steps,
                               beta=config.beta_end, on_sample=on_sample)
            video, final = result.video, result.final
            result_json = result.to_json() | {"n": n}
        else:
            video, final, result_json = base.video, base.final, base.to_json()

    report = {
        "task": str(task_dir),
        "rules": str(rules or task_dir / "rules.txt"),
        "model": str(model) if model else "latent",
        "caption": task.caption,
        "seed": seed,
        **result_json,
        "base": {"evaluations": base.evaluations, "final": base.final},
    }
    if "config" in report:
        report["config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in report["config"].items()}
    else:
        report["config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(config).items()}
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    try:
        frames = run_report.to_uint8(video)
        write_video(staging / "video.mp4", frames)
        write_video(staging / "frames", frames)  # lossless PNG frames beside the mp4
        if method == "tto":
            save_lora(result.lora_state, result.lora_spec, staging)
        run_report.write_json(staging / run_report.REPORT_JSON, report)
        verdict = "PASS" if final["passed"] else "FAIL"
        run_report.write_visual_report(
            staging / run_report.REPORT_PNG, run_report.to_uint8(base.video), frames, history,
            f"{task_dir.name}: {method} -> {verdict} ({final['rules_passed']}/{len(final['rules'])} rules)",
        )
        _publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    console.print(
        f"{verdict}: {final['rules_passed']}/{len(final['rules'])} rules pass "
        f"(base: {base.final['rules_passed']}/{len(base.final['rules'])}); wrote {out}/"
    )



def _default_tto_evaluations(reasoner, config) -> int:
    """Evaluations of a TTO run that uses its whole step budget: the budget Best-of-N is matched to."""
    per_step = reasoner.evaluations(config.sample_steps, config.grad_steps)
    return config.max_steps * per_step + 2 * reasoner.evaluations(config.sample_steps)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
