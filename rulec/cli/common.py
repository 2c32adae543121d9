"""What every ``rulec`` command does the same way: output paths (made before any work)."""

from __future__ import annotations

from pathlib import Path

import typer


def prepare_output(path: Path, *, folder: bool = False) -> Path:
    """Create ``path`` (a folder) or its parent folder now, so a bad output path fails in a
    second with a clear message (exit code 2), not after all the work with a traceback."""
    target = path if folder else path.parent
    if folder and path.exists() and not path.is_dir():
        typer.echo(f"error: output path exists and is not a folder: {path}", err=True)
        raise typer.Exit(2)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        typer.echo(f"error: cannot create the output folder {target}: {err.strerror or err}", err=True)
        raise typer.Exit(2) from None
    return path


def split_list(values: "list[str] | str | None") -> list[str]:
    """A list option's values, given either way every command accepts: comma-separated
    (``--families navigate,maze``) or repeated (``--families navigate --families maze``), or both."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
