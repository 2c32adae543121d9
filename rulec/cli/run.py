"""``rulec run``: solve one task folder with test-time optimization or a baseline.

A thin shell over :func:`rulec.runtime.optimize.solve.run_task`: options in, a progress
bar and a one-line verdict out. torch is imported inside the command only.
Exit codes: 0 the run finished (the verdicts are in report.json), 1 the rules do not
compile, 2 unreadable input (task folder, rules file, model path, options).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from rulec.runtime.optimize.solve import METHODS

#: ``--method`` as a choice (so ``--help`` lists it), made from METHODS
Method = Enum("Method", {m.replace("-", "_"): m for m in METHODS}, type=str)


def run(
    task_dir: Path = typer.Argument(..., help="task folder (first_frame.png, prompt.txt, rules.txt, ...)"),
    out: Path = typer.Option(..., "-o", "--out", help="output folder"),
    rules: Optional[Path] = typer.Option(None, "--rules", help="rules file (default: TASK_DIR/rules.txt)"),
    method: Method = typer.Option(Method.tto, "--method", help="test-time optimization, Best-of-N at a matched budget, or the base sample"),
    budget: Optional[int] = typer.Option(None, "--budget", help="tto: max optimization steps; best-of-n: N (default: matched to a tto run's default budget)"),
    seed: Optional[int] = typer.Option(None, "--seed", help="noise seed (default: 0)"),
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
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rulec.runtime.optimize.solve import RunInputError, run_task

    console = Console(stderr=True)
    options = dict(seed=seed, sample_steps=sample_steps, lr=lr, rank=rank, screen=screen)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=console, transient=False) as progress:
        bars: dict[str, object] = {}

        def on_progress(name: str, done: int, total: int, status: str) -> None:
            if name not in bars:
                bars[name] = progress.add_task(name, total=total, status="")
            progress.update(bars[name], completed=done, total=total, status=status)

        try:
            solution = run_task(task_dir, out, method=Method(method).value, rules=rules, budget=budget, model=model,
                                caption=caption, num_frames=num_frames, options=options, on_progress=on_progress)
        except RunInputError as err:
            progress.stop()
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(err.code) from None
    final, base = solution.final, solution.base.final
    console.print(
        f"{'PASS' if final['passed'] else 'FAIL'}: {final['rules_passed']}/{len(final['rules'])} rules pass "
        f"(base: {base['rules_passed']}/{len(base['rules'])}); wrote {out}/"
    )


def register(app: typer.Typer) -> None:
    app.command("run")(run)
