"""``rulec compile FILE...``: check rules files and print their graph (text, JSON or dot).

Nothing here imports torch: ``rulec compile`` must start fast. Exit codes: 0 valid,
1 invalid rules, 2 usage error or unreadable file.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer


class Format(str, Enum):
    text = "text"
    json = "json"
    dot = "dot"


def _console(stderr: bool):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _print_diagnostics(diagnostics, source: str, name: str) -> None:
    """Diagnostics to stderr, coloured only on a terminal."""
    from rich.text import Text

    from rulec.diagnostics import render

    console = _console(stderr=True)
    styles = {"error": "bold red", "warning": "bold yellow"}
    for d in diagnostics:
        text = Text(render(d, source, name))
        head = f"{d.severity}[{d.code}]"
        start = text.plain.find(head)
        if start >= 0:
            text.stylize(styles[d.severity], start, start + len(head))
        console.print(text)
        console.print()


def compile_command(
    files: List[Path] = typer.Argument(..., help="rules files to check", show_default=False),
    format: Format = typer.Option(Format.text, "--format", "-f", help="text (summary and rule trees), json or dot"),
    frames: Optional[int] = typer.Option(None, "--frames", min=1, help="video length: windows past it are errors"),
) -> None:
    """Check rules files and print their graph. Exit 0 if all are valid, 1 if any is invalid.

    ``-f json`` prints a list with one object per file, for one file too."""
    from rulec.compile import compile_rules, read_rules
    from rulec.diagnostics import RulesError

    outputs: list = []
    status = 0
    for path in files:
        if not path.is_file() or not os.access(path, os.R_OK):
            reason = "no such file" if not path.exists() else "not a readable file"
            typer.echo(f"error: cannot read '{path}': {reason}", err=True)
            raise typer.Exit(2)
        try:
            text, name = read_rules(path)
            compiled = compile_rules(text, name=name, num_frames=frames)
        except RulesError as exc:
            status = 1
            if any(d.code == "E013" for d in exc.diagnostics):
                typer.echo(exc.diagnostics[0].render(exc.source, exc.source_name), err=True)
                raise typer.Exit(2)
            if format == Format.json:
                outputs.append({"source": exc.source_name, "ok": False,
                                "errors": [d.to_json() for d in exc.diagnostics],
                                "warnings": [w.to_json() for w in exc.warnings]})
            else:
                _print_diagnostics([*exc.diagnostics, *exc.warnings], exc.source, exc.source_name)
                n = len(exc.diagnostics) + exc.omitted
                typer.echo(f"{exc.source_name}: {n} error{'s' if n != 1 else ''}", err=True)
            continue
        if format == Format.json:
            outputs.append({"ok": True, **compiled.to_json()})
        else:
            if compiled.warnings:
                _print_diagnostics(compiled.warnings, text, name)
            if format == Format.dot:
                sys.stdout.write(compiled.to_dot())
            else:
                _print_report(compiled)
    if format == Format.json:
        sys.stdout.write(json.dumps(outputs, indent=2) + "\n")  # always a list: one shape for scripts
    raise typer.Exit(status)


def _print_report(compiled) -> None:
    from rulec.summary import text_report

    report = text_report(compiled)
    if sys.stdout.isatty():
        from rich.text import Text

        console = _console(stderr=False)
        text = Text(report)
        for word, style in (("goal ", "bold green"), ("process ", "bold cyan")):
            start = 0
            for line in report.splitlines(keepends=True):
                if line.startswith(word):
                    text.stylize(style, start, start + len(line.split(":")[0]))
                start += len(line)
        console.print(text, end="")
    else:
        sys.stdout.write(report)


def register(app: typer.Typer) -> None:
    app.command("compile")(compile_command)
