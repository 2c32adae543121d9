"""``rulec bench`` and ``rulec bench report``: a thin shell over :mod:`rulec.runtime.bench.run`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

bench_app = typer.Typer(help="Compare test-time optimization with Best-of-N and a plan in the prompt.")


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@bench_app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="results folder (resumed if it exists)"),
    families: str = typer.Option("all", help="comma-separated family names, or 'all'"),
    n: int = typer.Option(30, help="instances per family"),
    seed: int = typer.Option(0, help="run seed (instance seeds derive from it)"),
    budget: str = typer.Option("200", help="model evaluations per instance for best-of-n and tto; several: 100,200,400"),
    methods: str = typer.Option(",".join(("base", "plan-in-prompt", "best-of-n", "tto")), help="comma-separated methods"),
    shard: str = typer.Option("0/1", help="run slice I/N of the items (0-based)"),
    workers: int = typer.Option(1, help="parallel worker processes on this machine"),
    max_steps: Optional[int] = typer.Option(None, help="TTO optimization steps at most (default: TTO's, see docs/runtime.md)"),
    sample_steps: Optional[int] = typer.Option(None, help="denoising steps per sample (default: TTO's, see docs/runtime.md)"),
    grad_steps: Optional[int] = typer.Option(None, help="TTO: backprop through the last K denoising steps (default: TTO's, see docs/runtime.md)"),
    lr: Optional[float] = typer.Option(None, help="TTO learning rate (default: TTO's, see docs/runtime.md)"),
    rank: Optional[int] = typer.Option(None, help="TTO LoRA rank (default: TTO's, see docs/runtime.md)"),
    noise: str = typer.Option("fixed", help="TTO noise policy: fixed | fresh"),
    screen: Optional[int] = typer.Option(None, help="TTO: sample this many seeds first and optimize from the best (counts against the budget) (default: TTO's, see docs/runtime.md)"),
    model: Optional[str] = typer.Option(None, help="latent (the embedded default) | pixel | a Wan 2.x diffusers folder | embedded-model weights"),
    task_dirs: Optional[list[Path]] = typer.Option(None, "--tasks", help="instance folders (or folders of them) instead of generated families; repeatable"),
    keep_videos: bool = typer.Option(False, "--keep-videos", help="write every record's final video under OUT/videos/"),
    caption: str = typer.Option("prompt", help="what base, best-of-n and tto are told: prompt (the task's instruction) | none"),
) -> None:
    """Run every (instance, method, budget) of this shard; results are appended as they finish.

    `rulec bench report DIR` merges and prints the results.
    """
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        _fail("missing -o/--out: the results folder")
    from rulec.cli.common import prepare_output

    prepare_output(out, folder=True)  # before any task folder is read
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rulec.runtime import tasks

    from rulec.runtime.bench import run as bench

    try:
        names = sorted(tasks.FAMILIES) if families == "all" else [f.strip() for f in families.split(",") if f.strip()]
        unknown = [f for f in names if f not in tasks.FAMILIES]
        if unknown:
            raise ValueError(f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; known: {', '.join(sorted(tasks.FAMILIES))}")
        chosen = [m.strip() for m in methods.split(",") if m.strip()]
        bad = [m for m in chosen if m not in bench.METHODS]
        if bad:
            raise ValueError(f"unknown method {', '.join(bad)}; choose from {', '.join(bench.METHODS)}")
        budgets = [int(b) for b in budget.split(",")]
        if n < 1 or any(b < 1 for b in budgets):
            raise ValueError("--n and --budget must be positive")
        part = bench.parse_shard(shard)
        if screen is not None and screen < 0:
            raise ValueError("--screen must be >= 0")
        if caption not in bench.CAPTIONS:
            raise ValueError(f"--caption must be one of {', '.join(bench.CAPTIONS)}, got {caption!r}")
        given = dict(sample_steps=sample_steps, grad_steps=grad_steps, lr=lr, rank=rank, max_steps=max_steps, screen=screen)
        settings = bench.BenchSettings(noise=noise, model=model, caption=caption, **{k: v for k, v in given.items() if v is not None})
        items = bench.folder_items(task_dirs, budgets, chosen) if task_dirs else bench.work_items(names, n, seed, budgets, chosen)
    except ValueError as err:
        _fail(str(err))

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as progress:
        bar = progress.add_task("bench", total=None)

        def update(record, done, total):
            progress.update(bar, completed=done, total=total, description=f"{record['method']:>14} {record['family']}: {'ok' if record['success'] else 'fail'}")

        try:
            finished = bench.run_bench(items, out, settings, shard=part, workers=workers, on_result=update, keep_videos=keep_videos,
                                       on_warning=lambda message: typer.echo(f"warning: {message}", err=True))
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
    from rulec.runtime.bench.report import markdown_tables, plot_budget, plot_filmstrips

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
    if as_json:
        from rulec.runtime.bench.report import paired_differences

        typer.echo(json.dumps({**summary, "paired": paired_differences(records.values())}, indent=2))
    else:
        typer.echo(markdown_tables(summary, records.values()))
    if markdown:
        markdown.write_text(markdown_tables(summary, records.values()), encoding="utf-8")
    if plot:
        plot_budget(summary, plot)
    if filmstrips:
        budget = max(r["budget"] for r in records.values())
        if plot_filmstrips(out, records, budget, filmstrips) is None:
            _fail(f"no kept videos in {out} (run the bench with --keep-videos)", 1)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
