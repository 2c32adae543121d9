"""Answers cached on disk by (model, prompt hash), so re-running a teach costs no model calls."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path


def default_cache_dir() -> Path:
    """``$RULEC_CACHE_DIR/teacher``, else ``~/.cache/rulec/teacher``."""
    root = os.environ.get("RULEC_CACHE_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "rulec") / "teacher"


class AnswerCache:
    """One JSON file per answer, named by sha256 of the model name and the prompt hash."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _file(self, model: str, prompt_hash: str) -> Path:
        key = hashlib.sha256(f"{model}\n{prompt_hash}".encode("utf-8")).hexdigest()
        return self.folder / f"{key}.json"

    def get(self, model: str, prompt_hash: str) -> str | None:
        """The cached answer, or None (also for an unreadable or foreign file)."""
        path = self._file(model, prompt_hash)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("model") != model or entry.get("prompt_hash") != prompt_hash:
            return None
        answer = entry.get("answer")
        return answer if isinstance(answer, str) else None

    def put(self, model: str, prompt_hash: str, answer: str) -> None:
        """Write atomically (temporary file, then rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = {"model": model, "prompt_hash": prompt_hash, "answer": answer}
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entry, f, ensure_ascii=False)
        os.replace(tmp, self._file(model, prompt_hash))
