"""A wall-clock bound on a call that may block: a server trickling one byte a second defeats a
per-read timeout, so the request runs in a daemon thread and is abandoned at its deadline."""

from __future__ import annotations

import threading
from typing import Callable, TypeVar

from rulec.runtime.teacher.errors import TeacherError

T = TypeVar("T")


class DeadlineExceeded(TeacherError):
    """The call did not finish within its deadline (it is abandoned, not waited for)."""


def call_with_deadline(fn: Callable[[], T], seconds: float | None, message: str) -> T:
    """``fn()``, or :class:`DeadlineExceeded` with ``message`` after ``seconds`` (None: no bound)."""
    if seconds is None:
        return fn()
    if seconds <= 0:
        raise DeadlineExceeded(message)
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as err:  # handed to the caller's thread below
            box["error"] = err

    worker = threading.Thread(target=target, name="rulec-teacher-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise DeadlineExceeded(message)
    if "error" in box:
        raise box["error"]
    return box["value"]
