"""``rulec bench`` and ``rulec bench report``: a thin shell over :mod:`rulec.runtime.bench.run`
(which imports no torch until an item runs, so ``rulec --help`` stays light)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

from enum import Enum

import typer

from rulec.cli.common import split_list
from rulec.runtime.bench.run import CAPTIONS, METHODS

Noise = Enum("Noise", {"fixed": "fixed", "fresh": "fresh"}, type=str)  # --help lists the choices
Caption = Enum("Caption", {c: c for c in CAPTIONS}, type=str)

bench_app = typer.Typer(help="Compare test-time optimization with Best-of-N and a plan in the prompt.")
DEFAULT = "(default: rulec run's, see docs/runtime.md)"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _budgets(values: list[str]) -> list[int]:
    try:
        return [int(b) for b in split_list(values)]
    except ValueError:
        raise ValueError(f"--budget takes whole numbers of model evaluations, e.g. 100,200; got {','.join(values)!r}") from None


@bench_app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="results folder (resumed if it exists)"),
    families: Optional[List[str]] = typer.Option(None, "--families", "--family", metavar="NAMES",
                                                 help="family names, comma-separated or repeated (default: all; see rulec tasks list)"),
    n: int = typer.Option(30, help="instances per family"),
    seed: int = typer.Option(0, help="run seed (instance seeds derive from it)"),
    budget: List[str] = typer.Option(["200"], "--budget", "--budgets", metavar="N,...",
                                     help="model evaluations per instance for best-of-n and tto; several: 100,200,400 (or repeated)"),
    methods: List[str] = typer.Option(list(METHODS), "--methods", "--method", metavar="[" + "|".join(METHODS) + "],...",
                                      help="methods, comma-separated or repeated"),
    shard: str = typer.Option("0/1", help="run slice I/N of the items (0-based)"),
    workers: int = typer.Option(1, help="parallel worker processes on this machine"),
    ray_address: Optional[str] = typer.Option(None, "--ray", metavar="auto|ADDRESS",
                                              help="run one Ray task per (instance, method) instead: auto (this machine's cluster, else a local Ray) or a cluster address; needs rulec[ray]"),
    ray_cpus: float = typer.Option(1.0, "--ray-cpus", help="with --ray: CPUs each task asks for (torch threads)"),
    ray_gpus: float = typer.Option(0.0, "--ray-gpus", help="with --ray: GPUs each task asks for (e.g. 1 for a Wan model)"),
    max_steps: Optional[int] = typer.Option(None, help=f"TTO optimization steps at most {DEFAULT}"),
    sample_steps: Optional[int] = typer.Option(None, help=f"denoising steps per sample {DEFAULT}"),
    grad_steps: Optional[int] = typer.Option(None, help=f"TTO: backprop through the last K denoising steps {DEFAULT}"),
    lr: Optional[float] = typer.Option(None, help=f"TTO learning rate {DEFAULT}"),
    rank: Optional[int] = typer.Option(None, help=f"TTO LoRA rank {DEFAULT}"),
    noise: Optional[Noise] = typer.Option(None, help=f"TTO noise policy {DEFAULT}"),
    screen: Optional[int] = typer.Option(None, help=f"TTO: sample this many seeds first and optimize from the best (counts against the budget) {DEFAULT}"),
    model: Optional[str] = typer.Option(None, help="latent (the embedded default) | pixel | a Wan 2.x diffusers folder | embedded-model weights"),
    task_dirs: Optional[list[Path]] = typer.Option(None, "--tasks", help="instance folders (or folders of them) instead of generated families; repeatable"),
    keep_videos: bool = typer.Option(False, "--keep-videos", help="write every record's final video under OUT/videos/"),
    caption: Optional[Caption] = typer.Option(None,
                                          help="what base, best-of-n and tto are told: the task's instruction (prompt, the default) or nothing"),
) -> None:
    """Run every (instance, method, budget) of this shard; results are appended as they finish.

    `rulec bench report DIR` merges and prints the results.
    """
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        _fail("missing -o/--out: the results folder")
    ray_options = None
    if ray_address is not None:
        if workers != 1:
            _fail("--workers is for the local pool; with --ray, Ray places the tasks (use --ray-cpus / --ray-gpus)")
        from rulec.runtime.bench.run import RayOptions

        try:
            ray_options = RayOptions(ray_address, cpus=ray_cpus, gpus=ray_gpus)
        except ValueError as err:
            _fail(str(err))
        import ray  # noqa: F401  (not installed: one message naming rulec[ray], before any work)
    from rulec.cli.common import prepare_output

    prepare_output(out, folder=True)  # before any task folder is read
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rulec.runtime.bench import run as bench

    try:
        settings = bench.BenchSettings.from_options(model=model, caption=caption and caption.value, sample_steps=sample_steps,
                                                    grad_steps=grad_steps, lr=lr, rank=rank, max_steps=max_steps, screen=screen,
                                                    noise=noise and noise.value)
        names = split_list(families)
        items = bench.plan_items(families=None if not names or names == ["all"] else names, n=n, seed=seed,
                                 budgets=_budgets(budget), methods=split_list(methods), task_dirs=task_dirs)
        part = bench.parse_shard(shard)
    except ValueError as err:
        _fail(str(err))

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        bar = progress.add_task("bench", total=None)

        def update(record, done, total):
            progress.update(bar, completed=done, total=total, description=f"{record['method']:>14} {record['family']}: {'ok' if record['success'] else 'fail'}")

        try:
            finished = bench.run_bench(items, out, settings, shard=part, workers=workers, on_result=update, keep_videos=keep_videos,
                                       on_warning=lambda message: typer.echo(f"warning: {message}", err=True), ray=ray_options)
        except ValueError as err:
            _fail(str(err))
    typer.echo(f"{len(finished)} results written (one per instance, method and budget) to {out}")


@bench_app.command("report")
def report(
    out: Path = typer.Argument(..., help="results folder (all shards are merged)"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON"),
    markdown: Optional[Path] = typer.Option(None, help="also write the Markdown tables to this file"),
    plot: Optional[Path] = typer.Option(None, help="also write the success-vs-budget plot (PNG)"),
    filmstrips: Optional[Path] = typer.Option(None, help="also write a labelled filmstrip grid, one instance per family (needs --keep-videos records)"),
) -> None:
    """Merge the results of every shard and print the tables (or JSON)."""
    from rulec.runtime.bench import run as bench
    from rulec.runtime.bench.report import markdown_tables, plot_budget, plot_filmstrips, summary_json

    if not out.is_dir():
        _fail(f"no results folder at {out}")
    from rulec.cli.common import prepare_output

    for extra in (markdown, plot, filmstrips):
        if extra is not None:
            prepare_output(extra)
    records = bench.load_results(out)
    if not records:
        _fail(f"no results in {out}", 1)
    summary = bench.summarize(records.values())
    tables = markdown_tables(summary, records.values()) if markdown or not as_json else ""
    typer.echo(json.dumps(summary_json(records.values()), indent=2) if as_json else tables)
    if markdown:
        markdown.write_text(tables, encoding="utf-8")
    if plot:
        plot_budget(summary, plot)
    if filmstrips:
        if plot_filmstrips(out, records, filmstrips) is None:
            _fail(f"no kept videos in {out} (run the bench with --keep-videos)", 1)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
