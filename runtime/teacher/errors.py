"""The teacher's two errors: a backend or input problem, and rules that never compiled."""

from __future__ import annotations

from pathlib import Path


class TeacherError(Exception):
    """One clear message saying where and why the teacher could not get an answer."""


class TeachFailed(TeacherError):
    """The repair rounds ran out; every attempt is kept (and written to ``log_path`` when given)."""

    def __init__(self, message: str, attempts: list, log_path: Path | None = None):
        super().__init__(message)
        self.attempts = attempts
        self.log_path = log_path
