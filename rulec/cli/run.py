"""``rulec run``: solve one task folder with test-time optimization or a baseline.

A thin shell over :mod:`rulec.runtime.optimize.tto` and :mod:`rulec.runtime.optimize.baselines`. Everything
is written into a staging folder first and moved into ``OUT/`` only when the run finished,
so a failed run leaves nothing partial. torch is imported inside the command only.
Exit codes: 0 the run finished (the verdicts are in report.json), 1 the rules do not
compile, 2 unreadable input (task folder, rules file, model path, options).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

METHODS = ("tto", "best-of-n", "base")
#: ``--method`` as a choice (so ``--help`` lists it), made from METHODS
Method = Enum("Method", {m.replace("-", "_"): m for m in METHODS}, type=str)


class RunInputError(Exception):
    """An input of ``rulec run`` is missing or unreadable; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def load_task(task_dir: Path, caption: str | None, num_frames: int | None):
    """The TaskInput for a task folder, read by the one task-folder loader (runtime.tasks.folder)."""
    import numpy as np
    import torch

    from rulec.runtime.input_limits import input_limit
    from rulec.runtime.optimize.reasoner import TaskInput
    from rulec.runtime.tasks.folder import InstanceError, load_task_folder

    if not task_dir.is_dir():
        raise RunInputError(f"task folder not found: {task_dir}")
    try:
        folder = load_task_folder(task_dir, ground_truth=num_frames is None and "num_frames" not in _peek_keys(task_dir))
    except InstanceError as err:
        raise RunInputError(str(err)) from None
    if caption is None:  # a video model is told the task's instruction, as in `rulec bench`
        caption = folder.prompt or ""
    elif caption == "none":
        caption = ""
    elif caption == "plan":
        if folder.meta.plan_caption is None:
            raise RunInputError(f"{task_dir}: --caption plan needs a 'plan_caption' in question_metadata.json")
        caption = folder.meta.plan_caption
    from rulec.runtime.tasks.world import NUM_FRAMES

    frames = None if folder.ground_truth is None else int(folder.ground_truth.shape[0])
    t = num_frames or folder.meta.num_frames or frames or NUM_FRAMES
    limit = input_limit("MAX_VIDEO_FRAMES")
    if not 1 <= t <= limit:
        raise RunInputError(f"--frames must lie in 1..{limit} (RULEC_MAX_VIDEO_FRAMES), got {t}")
    tensor = torch.from_numpy(np.ascontiguousarray(folder.first_frame)).permute(2, 0, 1).float() / 255.0
    return TaskInput(first_frame=tensor, caption=caption or "", num_frames=t)


def _peek_keys(task_dir: Path) -> set:
    """Top-level metadata keys, to skip decoding the ground truth when num_frames says the length."""
    from rulec.runtime.tasks.folder import InstanceError, read_json_object

    path = task_dir / "question_metadata.json"
    if not path.is_file():
        return set()
    try:
        return set(read_json_object(path))
    except InstanceError:
        return set()  # reported by the loader itself


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
    from rulec.runtime.models.load import ReasonerLoadError, load_reasoner as load

    try:
        return load(model)
    except ReasonerLoadError as err:
        raise RunInputError(str(err)) from None


#: Lists the files ``rulec run`` wrote into an output folder: only those are ever replaced.
MANIFEST = ".rulec-run.json"


def _relative_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def _owned(out: Path) -> set[str]:
    """Files an earlier ``rulec run`` wrote into ``out`` (from its manifest; none if unreadable)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", []) if isinstance(data, dict) and data.get("tool") == "rulec run" else []
        return {f for f in files if isinstance(f, str) and not Path(f).is_absolute() and ".." not in Path(f).parts}
    except (OSError, ValueError):
        return set()


def _conflicts(names: list[str], out: Path) -> list[str]:
    """Paths under ``out`` that we would overwrite but did not write (user files)."""
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


def _refuse(out: Path, conflicts: list[str]) -> RunInputError:
    shown = ", ".join(conflicts[:5]) + (f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else "")
    return RunInputError(f"{out}: would overwrite {shown}, not written by rulec run (see {MANIFEST}); "
                         "move them away or choose another -o folder")


def _publish(staging: Path, out: Path) -> None:
    """Move our finished files from ``staging`` into ``out``, file by file: other files there are
    never touched; a file of ours from an earlier run is replaced (or removed when this run has
    none of that name); a file we did not write is never overwritten (RunInputError)."""
    names = _relative_files(staging)
    conflicts = _conflicts(names, out)
    if conflicts:
        raise _refuse(out, conflicts)
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
    manifest = {"tool": "rulec run", "files": names}
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, out / MANIFEST)


def run(
    task_dir: Path = typer.Argument(..., help="task folder (first_frame.png, prompt.txt, rules.txt, ...)"),
    out: Path = typer.Option(..., "-o", "--out", help="output folder"),
    rules: Optional[Path] = typer.Option(None, "--rules", help="rules file (default: TASK_DIR/rules.txt)"),
    method: Method = typer.Option(Method.tto, "--method", help="test-time optimization, Best-of-N at a matched budget, or the base sample"),
    budget: Optional[int] = typer.Option(None, "--budget", help="tto: max optimization steps; best-of-n: N (default: matched to a tto run's default budget)"),
    seed: int = typer.Option(0, "--seed", help="noise seed"),
    model: Optional[str] = typer.Option(None, "--model", help="latent (the embedded default) | pixel | a Wan 2.x diffusers folder | embedded-model weights"),
    caption: Optional[str] = typer.Option(None, "--caption", help="caption for the model: default the task's prompt.txt; 'plan': the task's plan caption; 'none': empty; or any text"),
    sample_steps: Optional[int] = typer.Option(None, "--sample-steps", help="denoising steps per sample"),
    lr: Optional[float] = typer.Option(None, "--lr", help="tto: LoRA learning rate"),
    rank: Optional[int] = typer.Option(None, "--rank", help="tto: LoRA rank"),
    screen: Optional[int] = typer.Option(None, "--screen", help="tto: sample this many seeds first and optimize from the best"),
    num_frames: Optional[int] = typer.Option(None, "--frames", help="frames to generate (default: the ground truth's length, else 16)"),
) -> None:
    """Run test-time optimization (or a baseline) on one task; write video, LoRA and reports to OUT/."""
    from rulec.cli.common import prepare_output

    prepare_output(out)  # the folder OUT sits in; OUT itself appears only when the run finished
    try:
        _run(task_dir, out, rules, Method(method).value, budget, seed, model, caption, sample_steps, lr, rank, num_frames, screen)
    except RunInputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.code) from None


def _run(task_dir, out, rules, method, budget, seed, model, caption, sample_steps, lr, rank, num_frames, screen=None) -> None:
    import dataclasses

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rulec.runtime.optimize import report as run_report
    from rulec.runtime.optimize.baselines import base_sample, best_of_n, matched_n
    from rulec.runtime.optimize.lora import save_lora
    from rulec.runtime.optimize.tto import TTOConfig, optimize
    from rulec.runtime.video_io import write_video

    if method not in METHODS:
        raise RunInputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    if budget is not None and budget < (0 if method == "tto" else 1):
        raise RunInputError(f"--budget must be positive, got {budget}")
    if out.exists() and not out.is_dir():
        raise RunInputError(f"output path exists and is not a folder: {out}")
    task = load_task(task_dir, caption, num_frames)
    planned = ["video.mp4", "report.json", "report.png", *(f"frames/frame_{i:04d}.png" for i in range(task.num_frames))]
    if out.is_dir() and _conflicts(planned, out):
        raise _refuse(out, _conflicts(planned, out))  # before the run, not after it
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
