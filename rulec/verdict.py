"""The one verdict schema: what every rulec output says about a video judged by rules.

``rulec check --json``, ``report.json`` of ``rulec run`` (its ``final`` and ``base.final``),
bench records (``verdict``) and the library's ``RewardReport.to_dict()`` all build their
verdicts here, so there is one shape to read. It is written down as a JSON Schema in
``docs/verdict.schema.json``; bump :data:`SCHEMA` when a field changes meaning or goes away
(adding an optional field keeps the version).
"""

from __future__ import annotations

from typing import Any

#: The schema's id and version, written into every verdict and error object.
SCHEMA = "rulec.verdict/1"


def verdict(report: Any, index: int = 0) -> dict[str, Any]:
    """Sample ``index`` of a ``RewardReport`` as a verdict: the rules as a list (in the file's
    order) with each rule's exact ``robustness`` (``smooth`` and ``loss`` only if computed)."""
    rules = []
    for r in report.rules:
        entry = {"name": r.name, "kind": r.kind, "weight": float(r.weight), "passed": bool(r.passed[index]),
                 "robustness": float(r.exact[index].detach())}
        if report.has_smooth:
            entry["smooth"] = float(r.smooth[index].detach())
        entry["failed_frames"] = r.failed_frames(index)
        witness = getattr(r, "witness", None)  # RuleResult's; a report built by hand may have none
        if witness is not None and witness[index] is not None:
            entry["witness"] = witness[index]
        rules.append(entry)
    data: dict[str, Any] = {"schema": SCHEMA, "passed": bool(report.passed[index]),
                            "rules_passed": sum(r["passed"] for r in rules)}
    if report.has_smooth:
        data["loss"] = float(report.sample_loss[index].detach())
    data["rules"] = rules
    return data


def error(kind: str, message: str, diagnostics: list[dict] | None = None) -> dict[str, Any]:
    """The JSON error object printed (exit code 2) instead of a verdict when the input is unusable.

    ``kind``: ``"rules"`` (the rules do not compile or do not fit the video), ``"video"`` (it
    cannot be read) or ``"input"`` (a missing file, a bad option)."""
    data: dict[str, Any] = {"schema": SCHEMA, "error": {"kind": kind, "message": message}}
    if diagnostics is not None:
        data["error"]["diagnostics"] = diagnostics
    return data


def rule_map(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A verdict's rules keyed by name (for readers that look rules up by name)."""
    return {r["name"]: r for r in data["rules"]}
