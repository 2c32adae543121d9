"""``rulec teach TASK_DIR``: a VLM writes the task's rules, repaired from compiler diagnostics.

No torch at import time (the command imports what it needs when it runs).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class BackendName(str, Enum):
    openai = "openai"
    transformers = "transformers"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def read_task(task_dir: Path):
    """``(instruction, first frame (H, W, 3) uint8)`` from a task folder, by the one task-folder loader."""
    from rulec.runtime.tasks.folder import InstanceError, load_task_folder

    try:
        folder = load_task_folder(task_dir, prompt=True)
    except InstanceError as err:
        raise ValueError(str(err)) from None
    return folder.prompt.strip(), folder.first_frame


def teach_command(
    task_dir: Path = typer.Argument(..., help="Task folder with prompt.txt and first_frame.png."),
    backend: BackendName = typer.Option(BackendName.openai, "--backend", help="Where the answers come from."),
    base_url: Optional[str] = typer.Option(None, "--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1 (API key: $OPENAI_API_KEY)."),
    model: Optional[str] = typer.Option(None, "--model", envvar="RULEC_TEACHER_MODEL", help="Served model name (openai) or local model folder (transformers)."),
    output: Optional[Path] = typer.Option(None, "-o", "--out", "--output", help="Write the rules here (default: print them)."),
    rounds: int = typer.Option(3, "--rounds", min=0, help="Repair rounds after the first answer."),
    timeout: float = typer.Option(120.0, "--timeout", min=0.1, help="Seconds for one answer, in all (retries and a slow server included)."),
    deadline: Optional[float] = typer.Option(None, "--deadline", min=0.1, help="Seconds for the whole repair loop (default: --timeout times the number of answers)."),
    allow_ask: bool = typer.Option(False, "--allow-ask", help="Accept rules that use ask() (they need a VLM when they run; rulec run/check have none)."),
    max_retries: int = typer.Option(2, "--max-retries", min=0, help="Retries of a failed request (openai)."),
    max_tokens: int = typer.Option(2048, "--max-tokens", min=16, help="Longest answer, in tokens."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Answer cache (default $RULEC_CACHE_DIR/teacher or ~/.cache/rulec/teacher)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Always ask the model."),
    log: Optional[Path] = typer.Option(None, "--log", help="Attempt log (JSON; default: OUTPUT.teach-log.json, or ./teach-log.json)."),
    examples: Optional[Path] = typer.Option(None, "--examples", help="Folder of example .rules files for the prompt."),
) -> None:
    """Ask a VLM for the task's rules; compile them; send diagnostics back until they compile."""
    from rulec.runtime.teacher.cache import AnswerCache, default_cache_dir
    from rulec.runtime.teacher.errors import TeacherError, TeachFailed
    from rulec.runtime.teacher.repair import teach

    from rulec.cli.common import prepare_output

    if output:
        prepare_output(output)  # before the task is read or the model asked
    log_path = log or (output.with_name(output.name + ".teach-log.json") if output else Path("teach-log.json"))
    prepare_output(log_path)  # the attempt log's folder too
    try:
        instruction, image = read_task(task_dir)
    except ValueError as err:
        raise _fail(str(err), 2)
    if not model:
        raise _fail("--model is required (or set RULEC_TEACHER_MODEL)", 2)
    try:
        if backend is BackendName.openai:
            if not base_url:
                raise _fail("--base-url is required for the openai backend (or set OPENAI_BASE_URL)", 2)
            from rulec.runtime.teacher.backends import OpenAIBackend

            chosen = OpenAIBackend(base_url, model, timeout=timeout, max_retries=max_retries, max_tokens=max_tokens)
        else:
            from rulec.runtime.teacher.backends import TransformersBackend

            chosen = TransformersBackend.from_pretrained(model, max_new_tokens=max_tokens)
        cache = None if no_cache else AnswerCache(cache_dir or default_cache_dir())
        total = deadline if deadline is not None else timeout * (rounds + 1)
        result = teach(chosen, instruction, image, rounds=rounds, cache=cache, examples_dir=examples, log_path=log_path,
                       deadline=total, allow_ask=allow_ask)
    except TeachFailed as err:
        raise _fail(str(err), 1)
    except TeacherError as err:
        raise _fail(str(err), 2)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(result.rules, encoding="utf-8")
    else:
        typer.echo(result.rules, nl=False)
    if allow_ask and any(getattr(n, "op", None) == "ask" for n in getattr(result.compiled, "nodes", ())):
        typer.echo("warning: these rules use ask(): run them with a VLM (rulec run and rulec check have none)", err=True)
    repairs = len(result.attempts) - 1
    typer.echo(f"rules compiled after {repairs} repair round(s); attempts logged in {log_path}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``rulec teach`` to the main CLI."""
    app.command("teach")(teach_command)
