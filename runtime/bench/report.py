"""Benchmark results -> Markdown tables and a success-vs-budget plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rulec.runtime.bench.run import METHODS, iter_family_rows, summarize

_COLUMNS = ("success", "partial", "rules_passed", "steps", "evaluations", "wall_time")
_HEADER = "| method | n | success | partial score | rules pass | opt. steps | evaluations | s / instance |"


def _row(method: str, figures: dict[str, Any]) -> str:
    return (
        f"| {method} | {figures['n']} | {figures['success']:.1%} | {figures['partial']:.3f} | {figures['rules_passed']:.1%} "
        f"| {figures['steps']:.1f} | {figures['evaluations']:.0f} | {figures['wall_time']:.1f} |"
    )


def summary_json(records) -> dict[str, Any]:
    """The summary ``rulec bench report --json`` prints: per method and budget, and the paired differences."""
    records = list(records)
    return {**summarize(records), "paired": paired_differences(records)}


def paired_differences(records, method: str = "tto", against: tuple[str, ...] = ("best-of-n", "base"),
                       resamples: int = 2000, seed: int = 0) -> dict[str, dict[str, dict[str, float]]]:
    """Success of ``method`` minus each baseline's, paired by instance, at the largest budget,
    overall and per family, with a bootstrap 95 % interval (instances resampled with replacement)."""
    import numpy as np

    records = list(records)
    top = {m: max((r["budget"] for r in records if r["method"] == m), default=None) for m in (method, *against)}
    outcome: dict[tuple[str, str], dict[str, bool]] = {}
    for r in records:
        if r["method"] in top and r["budget"] == top[r["method"]]:
            outcome.setdefault((r["family"], r["key"].rsplit("/", 2)[0]), {})[r["method"]] = bool(r["success"])
    rng = np.random.default_rng(seed)
    result: dict[str, dict[str, dict[str, float]]] = {}
    for other in against:
        pairs = [(fam, o[method], o[other]) for (fam, _), o in sorted(outcome.items()) if method in o and other in o]
        groups = {"overall": pairs, **{f: [p for p in pairs if p[0] == f] for f in sorted({p[0] for p in pairs})}}
        result[other] = {}
        for name, group in groups.items():
            diff = np.array([float(a) - float(b) for _, a, b in group])
            if not len(diff):
                continue
            boot = diff[rng.integers(0, len(diff), size=(resamples, len(diff)))].mean(1)
            result[other][name] = {"n": len(diff), "difference": float(diff.mean()),
                                   "low": float(np.quantile(boot, 0.025)), "high": float(np.quantile(boot, 0.975)),
                                   "only_method": int((diff > 0).sum()), "only_other": int((diff < 0).sum())}
    return result


def paired_table(paired: dict[str, dict[str, dict[str, float]]], method: str = "tto") -> list[str]:
    lines = [f"| {method} minus | group | n | difference in success | 95 % bootstrap interval | {method} only | other only |",
             "|---|---|---|---|---|---|---|"]
    for other, groups in paired.items():
        for name, f in groups.items():
            lines.append(f"| {other} | {name} | {f['n']} | {f['difference']:+.1%} | {f['low']:+.1%} … {f['high']:+.1%} "
                         f"| {f['only_method']} | {f['only_other']} |")
    return lines


def markdown_tables(summary: dict[str, Any], records=None) -> str:
    """An overall table, the paired differences (given the records), and one table per family."""
    lines = ["### Overall", "", _HEADER, "|" + "---|" * 8]
    lines += [_row(m, summary[m]) for m in METHODS if m in summary]
    if records is not None and "tto" in summary:
        paired = paired_differences(records)
        if any(paired.values()):
            lines += ["", "### Paired differences at the largest budget (TTO minus a baseline, same instances)", ""]
            lines += paired_table(paired)
    methods = [m for m in METHODS if m in summary]
    if any(summary[m]["checks"] for m in methods):
        lines += ["", "### Independent scorer sub-checks passed (share of the instances that have the check)", ""]
        lines += _checks_table({m: summary[m] for m in methods})
    for family, by_method in iter_family_rows(summary):
        lines += ["", f"### {family}", "", _HEADER, "|" + "---|" * 8]
        lines += [_row(m, figures) for m, figures in by_method.items()]
        lines += ["", "Sub-checks passed:", ""] + _checks_table(by_method)
    if summary.get("budgets"):
        lines += ["", "### Success / partial score by budget (model evaluations)", "", "| method | " + " | ".join(_budgets(summary)) + " |"]
        lines.append("|---|" + "---|" * len(_budgets(summary)))
        for method, per_budget in summary["budgets"].items():
            cells = [f"{per_budget[b]['success']:.1%} / {per_budget[b]['partial']:.3f}" if b in per_budget else "-" for b in _budgets(summary)]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _checks_table(by_method: dict[str, dict[str, Any]]) -> list[str]:
    """One row per scorer sub-check, one column per method."""
    methods = list(by_method)
    checks = sorted({c for m in methods for c in by_method[m]["checks"]})
    lines = ["| sub-check | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for c in checks:
        cells = [f"{by_method[m]['checks'][c]:.0%}" if c in by_method[m]["checks"] else "-" for m in methods]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return lines


def _budgets(summary: dict[str, Any]) -> list[str]:
    return sorted({b for per in summary["budgets"].values() for b in per}, key=int)


def plot_budget(summary: dict[str, Any], out: Path) -> Path:
    """Success rate and partial score against the budget, TTO and Best-of-N, with base and
    plan-in-prompt as lines (the partial score shows progress while success is still 0)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), dpi=120)
    for ax, figure, label in zip(axes, ("success", "partial"), ("success", "partial score (share of sub-checks)")):
        for method, per_budget in summary.get("budgets", {}).items():
            xs = sorted(per_budget, key=int)
            ax.plot([int(x) for x in xs], [per_budget[x][figure] for x in xs], marker="o", label=method)
        for method, style in (("base", ":"), ("plan-in-prompt", "--")):
            if method in summary:
                ax.axhline(summary[method][figure], ls=style, color="grey", label=method)
        ax.set_xlabel("model evaluations per instance")
        ax.set_ylabel(f"{label} (independent scorer)", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def pick_showcase(records: dict[str, dict[str, Any]], budget: int) -> dict[str, str]:
    """Per family, the instance key prefix to show: the first where TTO succeeds and Best-of-N
    fails, else the first TTO success, else the first instance (only records with kept videos)."""
    by_instance: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in records.values():
        if "video" in r and (r["method"] == "base" or r["budget"] == budget):
            by_instance.setdefault((r["family"], r["key"].rsplit("/", 2)[0]), {})[r["method"]] = r
    chosen: dict[str, str] = {}
    for rank in (lambda m: m["tto"]["success"] and not m["best-of-n"]["success"], lambda m: m["tto"]["success"], lambda m: True):
        for (family, prefix), methods in sorted(by_instance.items(), key=lambda kv: (kv[0][0], records_index(kv[1]))):
            if family not in chosen and {"base", "best-of-n", "tto"} <= set(methods) and rank(methods):
                chosen[family] = prefix
    return chosen


def records_index(methods: dict[str, dict[str, Any]]) -> int:
    return min(r["index"] for r in methods.values())


def plot_filmstrips(out_dir: Path, records: dict[str, dict[str, Any]], png: Path, budget: int | None = None,
                    frames: int = 8) -> Path | None:
    """A labelled grid: per family one instance, rows base / Best-of-N / TTO with the scorer's verdict,
    at ``budget`` (default: the largest that ran); None if no record kept its video."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rulec.runtime.video_io import read_video

    if budget is None:
        budget = max(r["budget"] for r in records.values())
    chosen = pick_showcase(records, budget)
    if not chosen:
        return None
    rows = [(family, prefix, method) for family, prefix in sorted(chosen.items()) for method in ("base", "best-of-n", "tto")]
    sample = read_video(out_dir / records[f"{chosen[rows[0][0]]}/base/0"]["video"])
    idx = [round(i * (len(sample) - 1) / (frames - 1)) for i in range(frames)]
    fig, axes = plt.subplots(len(rows), frames, figsize=(1.2 * frames + 2.2, 1.25 * len(rows) + 0.6), dpi=110)
    for r, (family, prefix, method) in enumerate(rows):
        record = records[f"{prefix}/{method}/{0 if method == 'base' else budget}"]
        video = read_video(out_dir / record["video"])
        failed = [c for c, ok in record["checks"].items() if not ok]
        verdict = "PASS" if record["success"] else "FAIL: " + ", ".join(failed)[:40]
        for c, t in enumerate(idx):
            ax = axes[r, c]
            ax.imshow(video[t], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            for side in ax.spines.values():
                side.set_color("#2e7d32" if record["success"] else "#c62828")
                side.set_linewidth(2)
            if r == 0:
                ax.set_title(f"frame {t}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{family} #{record['index']}\n{method}", fontsize=8, rotation=0, ha="right", va="center")
        axes[r, -1].text(1.08, 0.5, verdict, transform=axes[r, -1].transAxes, fontsize=7, va="center",
                         color="#2e7d32" if record["success"] else "#c62828")
    fig.tight_layout()
    fig.suptitle(f"One instance per family at {budget} evaluations: base, Best-of-N, TTO (border: independent scorer)",
                 fontsize=9, y=1.0, va="bottom")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, bbox_inches="tight")
    plt.close(fig)
    return png
