"""The ``rulec`` command line's root: the app, ``--version``, and the command groups, each
mounted from ``rulec.cli.<area>.register(app)`` (one module per group).

Nothing here imports torch, nor does any group's module at import: ``rulec compile`` must
start fast. A library of an optional extra that is not installed ends any command with
one message naming the extra (exit code 2, :func:`main`).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import typer

app = typer.Typer(
    name="rulec",
    help="Declarative rule compiler for video reasoning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

AREAS = ("compile", "reward", "tasks", "toy", "run", "bench", "teach")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"rulec {version('rulec')}")
        except PackageNotFoundError:  # run from a source tree that is not installed
            from rulec import __version__

            typer.echo(f"rulec {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    """rulec: rules text -> checked graph -> differentiable reward -> test-time optimization."""


def _register_areas() -> None:
    """Mount each area's commands; a missing area is skipped, a broken one is reported."""
    for area in AREAS:
        module_name = f"rulec.cli.{area}"
        if importlib.util.find_spec(module_name) is None:
            continue
        try:
            importlib.import_module(module_name).register(app)
        except Exception as exc:  # one broken area must not take `rulec compile` down with it
            print(f"rulec: commands from {module_name} are unavailable: {type(exc).__name__}: {exc}", file=sys.stderr)


_register_areas()


def main() -> None:
    """The ``rulec`` entry point: a library of a missing optional extra is one message naming
    the extra (exit code 2), wherever in any command it is first imported."""
    from rulec.extras import missing_extra

    try:
        app()
    except ImportError as exc:
        message = missing_extra(exc)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
