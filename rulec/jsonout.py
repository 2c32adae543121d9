"""JSON that is always JSON: ``NaN`` and ``Infinity`` are not, and a reader chokes on them.

:func:`dumps` writes a non-finite number as ``null`` and says where and why under a
top-level ``"nonfinite"`` list, then serializes with ``allow_nan=False`` (so nothing
non-finite can slip through unnoticed).
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any, where: str = "$", found: list[str] | None = None) -> Any:
    """``value`` with every non-finite float replaced by None; each replaced path is appended to ``found``."""
    if isinstance(value, float) and not math.isfinite(value):
        if found is not None:
            found.append(f"{where} was {value} (not a finite number), written as null")
        return None
    if isinstance(value, dict):
        return {k: finite(v, f"{where}.{k}", found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    return value


def dumps(obj: Any, **kwargs) -> str:
    """``json.dumps`` of ``obj`` with non-finite numbers as ``null`` (listed under ``"nonfinite"`` of a dict)."""
    found: list[str] = []
    clean = finite(obj, "$", found)
    if found and isinstance(clean, dict):
        clean = {**clean, "nonfinite": found}
    return json.dumps(clean, allow_nan=False, **kwargs)
