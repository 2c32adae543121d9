"""``rulec check`` and ``rulec explain``: a rules file as a scorer for a video.

Thin shell over :mod:`rulec.check` and :mod:`rulec.explain`. Exit codes of ``check``: 0
every rule passes, 1 some rule fails, 2 unusable input (a missing or unreadable file, rules
that do not compile or do not fit the video), so a script can tell a failing video from a
broken call; under ``--json`` exit 2 prints an error object (rulec.verdict) instead of text.
``explain`` exits 0 once the report is written, whatever the verdict (it is in the report).
"""

from __future__ import annotations

from pathlib import Path

import typer


def _judge(rules: Path, video: Path, as_json: bool = False, keep_frames: bool = True):
    """Compile and check, turning every input problem into a message (or, with ``as_json``,
    a JSON error object on stdout) and exit code 2."""
    from rulec.check import check_file
    from rulec.diagnostics import RulesError
    from rulec.runtime.video_io import VideoReadError

    def unusable(kind: str, message: str, diagnostics: list | None = None):
        if as_json:
            from rulec.jsonout import dumps
            from rulec.verdict import error

            typer.echo(dumps(error(kind, message, diagnostics), indent=2))
        else:
            typer.echo(message if kind == "rules" else f"error: {message}", err=True)
        return typer.Exit(2)

    if not rules.is_file():
        raise unusable("input", f"rules file not found: {rules}")
    try:
        return check_file(rules, video, keep_frames=keep_frames)
    except VideoReadError as err:
        raise unusable("video", str(err)) from None
    except RulesError as err:
        raise unusable("rules", str(err), [d.to_json() for d in err.diagnostics]) from None


def _print_table(result) -> None:
    from rich.console import Console
    from rich.table import Table

    from rulec.check import frame_ranges

    data = result.report.to_json(0)
    table = Table(title=f"{result.compiled.source_name} on {result.num_frames} frames")
    for column in ("kind", "rule", "verdict", "robustness", "failing frames"):
        table.add_column(column)
    for rule in data["rules"]:
        verdict = "[green]pass[/green]" if rule["passed"] else "[bold red]FAIL[/bold red]"
        table.add_row(rule["kind"], rule["name"], verdict, f"{rule['robustness']:+.3f}", frame_ranges(rule["failed_frames"]))
    console = Console()
    console.print(table)
    for rule in data["rules"]:
        if "witness" in rule:
            console.print(f"{rule['name']} fails for: {rule['witness']}", markup=False)
    passed = sum(r["passed"] for r in data["rules"])
    console.print(f"{'PASS' if data['passed'] else 'FAIL'}: {passed}/{len(data['rules'])} rules pass")


def check(
    rules: Path = typer.Argument(..., help="rules file"),
    video: Path = typer.Argument(..., help="mp4/gif/webm file or a folder of PNG frames"),
    as_json: bool = typer.Option(False, "--json", help="print the verdicts as JSON"),
) -> None:
    """Judge a video against a rules file: exit 0 every rule passes, 1 one fails, 2 unusable input."""
    result = _judge(rules, video, as_json, keep_frames=False)  # streamed: verdicts need no pixels kept
    if as_json:
        from rulec.jsonout import dumps

        typer.echo(dumps({"video": str(video), **result.to_json()}, indent=2))
    else:
        from rulec.diagnostics import render

        for w in result.warnings:  # W003: a declaration that matches nothing in frame 0 (the verdict stands)
            typer.echo(render(w, result.compiled.source, result.compiled.source_name), err=True)
        _print_table(result)
    raise typer.Exit(0 if bool(result.report.passed[0]) else 1)


def explain(
    rules: Path = typer.Argument(..., help="rules file"),
    video: Path = typer.Argument(..., help="mp4/gif/webm file or a folder of PNG frames"),
    out: Path = typer.Option(Path("report.html"), "-o", "--out", help="report.html or report.png"),
) -> None:
    """Write a visual report: the filmstrip with tracks and regions, and each rule over time.

    Exits 0 once the report is written, whatever the verdict; 2 on unusable input."""
    from rulec.cli.common import prepare_output
    from rulec.explain import write_report

    if out.suffix.lower() not in (".html", ".png"):
        typer.echo(f"error: --out must end in .html or .png, got {out}", err=True)
        raise typer.Exit(2)
    prepare_output(out)
    result = _judge(rules, video)
    write_report(result, out, video=video)  # the title names the judged video
    typer.echo(f"wrote {out} ({'PASS' if bool(result.report.passed[0]) else 'FAIL'})")


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("explain")(explain)
