"""The repair loop: ask, compile, send the diagnostics back, up to k rounds; keep every attempt.

The VLM's text only ever reaches ``compile_fn`` (after :func:`extract_rules` has cut it out
and bounded its size). The compiler is injected so the loop does not depend on its internals;
by default it is :func:`rulec.compile_rules`, whose :class:`rulec.RulesError` renders the exact
``file:line:col`` messages that go back to the teacher.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rulec.runtime.teacher.answer import MAX_RULES_CHARS, AnswerTooLong, extract_rules
from rulec.runtime.teacher.cache import AnswerCache
from rulec.runtime.teacher.deadline import DeadlineExceeded, call_with_deadline
from rulec.runtime.teacher.errors import TeacherError, TeachFailed
from rulec.runtime.teacher.prompt import Prompt, assistant_message, build_prompt, repair_message

#: Default number of repair rounds after the first answer.
DEFAULT_ROUNDS = 3


@dataclass
class Attempt:
    """One answer of the teacher and what the compiler said about it."""

    round: int  # 0 = first answer, 1.. = repairs
    answer: str  # the raw text of the answer
    rules: str | None  # the rules cut out of it (None when it was too long)
    diagnostics: str | None  # the compiler's rendered messages; None when it compiled
    cached: bool  # the answer came from the cache

    @property
    def ok(self) -> bool:
        return self.diagnostics is None


@dataclass
class TeachResult:
    rules: str
    compiled: Any
    attempts: list[Attempt]


def _default_compiler() -> tuple[Callable[..., Any], tuple[type[BaseException], ...]]:
    try:
        from rulec import RulesError, compile_text
    except (ImportError, AttributeError) as err:
        raise TeacherError(f"the rules compiler is not available: {err}") from None
    return compile_text, (RulesError,)


def teach(
    backend,
    instruction: str,
    image: np.ndarray,
    *,
    rounds: int = DEFAULT_ROUNDS,
    compile_fn: Callable[..., Any] | None = None,
    rejects: tuple[type[BaseException], ...] | None = None,
    cache: AnswerCache | None = None,
    examples_dir: Path | None = None,
    log_path: Path | None = None,
    source_name: str = "answer.rules",
    limit: int = MAX_RULES_CHARS,
    deadline: float | None = None,
    allow_ask: bool = False,
) -> TeachResult:
    """Get rules from ``backend`` that compile, repairing from diagnostics for up to ``rounds`` rounds.

    ``compile_fn(text, name=source_name)`` returns the compiled rules or raises one of
    ``rejects`` (whose ``str()`` is the rendered diagnostics). Raises :class:`TeachFailed`
    (with every attempt, also written to ``log_path``) when no answer compiled, and lets a
    backend's :class:`TeacherError` through.

    ``deadline``: seconds for the whole loop (every request and compile); past it a
    :class:`DeadlineExceeded` (a TeacherError). Rules that use ``ask()`` are sent back for
    repair, since ``rulec run``/``check`` have no VLM to answer them, unless ``allow_ask``.
    """
    if rounds < 0:
        raise ValueError("rounds must be >= 0")
    if compile_fn is None:
        compile_fn, default_rejects = _default_compiler()
        rejects = rejects or default_rejects
    rejects = rejects or ()
    prompt = build_prompt(instruction, image, examples_dir)
    attempts: list[Attempt] = []
    ends = None if deadline is None else time.monotonic() + deadline
    for round_ in range(rounds + 1):
        left = None if ends is None else ends - time.monotonic()
        try:
            answer, cached = _ask(backend, prompt, cache, left, deadline)
        except DeadlineExceeded:
            _write_log(log_path, backend.name, "timed out", attempts)
            raise
        rules, diagnostics, compiled = None, None, None
        try:
            rules = extract_rules(answer, limit)
            rules = rules if rules.endswith("\n") else rules + "\n"  # a file ends with a newline
            compiled = compile_fn(rules, name=source_name)
            if not allow_ask and any(getattr(n, "op", None) == "ask" for n in getattr(compiled, "nodes", ())):
                compiled, diagnostics = None, (
                    f"{source_name}: error: the rules use ask(), but the runs that use them (`rulec run`, "
                    "`rulec check`) have no VLM to answer it; write every rule with the other primitives")
        except AnswerTooLong as err:
            diagnostics = f"{source_name}: error: {err}; write a shorter file"
        except rejects as err:
            diagnostics = str(err)
        attempts.append(Attempt(round_, answer, rules, diagnostics, cached))
        if diagnostics is None:
            _write_log(log_path, backend.name, "ok", attempts)
            return TeachResult(rules=rules, compiled=compiled, attempts=attempts)
        prompt = prompt.with_turns(assistant_message(answer), repair_message(diagnostics))
    _write_log(log_path, backend.name, "failed", attempts)
    where = f"; every attempt is in {log_path}" if log_path else ""
    raise TeachFailed(
        f"the teacher's rules still did not compile after {rounds} repair round(s) ({len(attempts)} attempts){where}",
        attempts,
        log_path,
    )


def _ask(backend, prompt: Prompt, cache: AnswerCache | None, left: float | None = None,
         deadline: float | None = None) -> tuple[str, bool]:
    if cache is not None:
        hit = cache.get(backend.name, prompt.hash())
        if hit is not None:
            return hit, True
    answer = call_with_deadline(lambda: backend.complete(prompt.messages), left,
                                f"the teacher did not finish within its deadline of {deadline:g} s (--deadline)"
                                if deadline is not None else "")
    if not isinstance(answer, str):
        raise TeacherError(f"the backend {backend.name!r} answered {type(answer).__name__}, not text")
    if cache is not None:
        cache.put(backend.name, prompt.hash(), answer)
    return answer, False


def _write_log(log_path: Path | None, model: str, status: str, attempts: list[Attempt]) -> None:
    if log_path is None:
        return
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    record = {"model": model, "status": status, "attempts": [asdict(a) for a in attempts]}
    log_path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
