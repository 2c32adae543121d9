"""``rulec check`` and ``rulec explain``: a rules file as a scorer for a video.

Thin shell over :mod:`rulec.check` and :mod:`rulec.explain`. Exit codes: 0 every rule
passes, 1 some rule fails (or the rules do not compile), 2 unreadable input.
"""

from __future__ import annotations

from pathlib import Path

import typer


def _judge(rules: Path, video: Path):
    """Compile and check, turning every input problem into a message and an exit code."""
    from rulec.check import check_file
    from rulec.diagnostics import RulesError
    from rulec.runtime.video_io import VideoReadError

    if not rules.is_file():
        typer.echo(f"error: rules file not found: {rules}", err=True)
        raise typer.Exit(2)
    try:
        return check_file(rules, video)
    except VideoReadError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except RulesError as err:
        typer.echo(str(err), err=True)
        raise typer.Exit(1) from None


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from rulec.check import frame_ranges

    data = result.report.to_json(0)
    table = Table(title=f"{result.compiled.source_name} on {result.frames.shape[0]} frames")
    for column in ("kind", "rule", "verdict", "robustness", "failing frames"):
        table.add_column(column)
    for rule in data["rules"]:
        verdict = "[green]pass[/green]" if rule["passed"] else "[bold red]FAIL[/bold red]"
        table.add_row(rule["kind"], rule["name"], verdict, f"{rule['robustness']:+.3f}", frame_ranges(rule["failed_frames"]))
    console = Console()
    console.print(table)
    passed = sum(r["passed"] for r in data["rules"])
    console.print(f"{'PASS' if data['passed'] else 'FAIL'}: {passed}/{len(data['rules'])} rules pass")


def check(
    rules: Path = typer.Argument(..., help="rules file"),
    video: Path = typer.Argument(..., help="mp4/gif/webm file or a folder of PNG frames"),
    as_json: bool = typer.Option(False, "--json", help="print the verdicts as JSON"),
) -> None:
    """Judge a video against a rules file: exit 0 iff every rule passes."""
    result = _judge(rules, video)
    if as_json:
        from rulec.jsonout import dumps

        typer.echo(dumps({"video": str(video), **result.to_json()}, indent=2))
    else:
        _print_table(result)
    raise typer.Exit(0 if bool(result.report.passed[0]) else 1)


def explain(
    rules: Path = typer.Argument(..., help="rules file"),
    video: Path = typer.Argument(..., help="mp4/gif/webm file or a folder of PNG frames"),
    out: Path = typer.Option(Path("report.html"), "-o", "--out", help="report.html or report.png"),
) -> None:
    """Write a visual report: the filmstrip with tracks and regions, and each rule over time."""
    from rulec.explain import write_report

    if out.suffix.lower() not in (".html", ".png"):
        typer.echo(f"error: --out must end in .html or .png, got {out}", err=True)
        raise typer.Exit(2)
    result = _judge(rules, video)
    write_report(result, out)
    typer.echo(f"wrote {out} ({'PASS' if bool(result.report.passed[0]) else 'FAIL'})")


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("explain")(explain)
