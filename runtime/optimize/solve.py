"""One method on one task folder, written to an output folder: the library behind ``rulec run``.

:func:`run_task` reads the task (:func:`~rulec.runtime.tasks.folder.model_task`), compiles
its rules and loads the model; :func:`solve` samples the base video and runs the method;
the video, the adapter and the reports go through :mod:`~rulec.runtime.optimize.outputs`
(all or nothing). Every unusable input is one :class:`RunInputError` carrying the exit
code the command ends with, found before the run wherever it can be.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rulec.runtime.optimize.config import RunConfig

if TYPE_CHECKING:  # imported where used: ``rulec --help`` reads METHODS without torch
    import torch

    from rulec.runtime.optimize.baselines import SampleResult
    from rulec.runtime.optimize.lora import LoRASpec

METHODS = ("tto", "best-of-n", "base")

#: ``on_progress(method, done, total, status)``: one call per TTO step or Best-of-N sample
Progress = Callable[[str, int, int, str], None]


class RunInputError(Exception):
    """An input of a run is missing or unusable; ``code`` is the exit code (1: the rules do not compile, 2: the rest)."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


@dataclass
class Solution:
    """A method's answer for one task, with the base sample it is compared with."""

    method: str
    video: torch.Tensor  # (T, 3, H, W) in [0, 1]
    final: dict[str, Any]  # the answer's verdict (rulec.verdict) with its loss and seed
    result: dict[str, Any]  # the method's own record (TTOResult / SampleResult .to_json())
    base: SampleResult
    lora: tuple[dict[str, torch.Tensor], LoRASpec] | None = None  # tto: the adapter's weights and shape


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")


def solve(reasoner, task, reward, method: str, config: RunConfig, *, n: int | None = None,
          on_progress: Progress | None = None) -> Solution:
    """The base sample and ``method``'s answer. Best-of-N draws ``n`` seeds, else as many as
    a full TTO run at ``config`` costs (:meth:`Costs.tto_run`)."""
    from rulec.runtime.optimize.baselines import base_sample, best_of_n
    from rulec.runtime.optimize.budget import Costs
    from rulec.runtime.optimize.tto import optimize

    check_method(method)
    base = base_sample(reasoner, task, reward, config)
    if method == "tto":
        def on_step(rec):
            if on_progress:
                on_progress(method, rec.step + 1, config.max_steps + 1,
                            f"step {rec.step} loss {rec.loss:.4f} rules {rec.rules_passed}/{len(rec.rules)}")

        result = optimize(reasoner, task, reward, config, on_step=on_step)
        return Solution(method, result.video, result.final, result.to_json(), base, (result.lora_state, result.lora_spec))
    if method == "best-of-n":
        costs = Costs.of(reasoner, config)
        count = n or costs.matched_n(costs.tto_run(config))

        def on_sample(i, summary):
            if on_progress:
                on_progress(method, i + 1, count,
                            f"seed {summary['seed']} loss {summary['loss']:.4f} rules {summary['rules_passed']}/{len(summary['rules'])}")

        chosen = best_of_n(reasoner, task, reward, count, config, on_sample=on_sample)
        return Solution(method, chosen.video, chosen.final, chosen.to_json() | {"n": count}, base)
    return Solution(method, base.video, base.final, base.to_json(), base)


def load_reward(rules_path: Path, num_frames: int):
    """Compile the rules file for a video of ``num_frames`` frames into a RewardModule."""
    from rulec import compile_rules
    from rulec.diagnostics import RulesError

    if not rules_path.is_file():
        raise RunInputError(f"rules file not found: {rules_path}")
    try:
        return compile_rules(rules_path, num_frames=num_frames).to_reward()
    except RulesError as err:
        raise RunInputError(str(err), code=1) from None


def load_reasoner(model: str | None):
    """The model a name or path says (:func:`rulec.runtime.models.load.load_reasoner`)."""
    from rulec.runtime.models.load import ReasonerLoadError, load_reasoner as load

    try:
        return load(model)
    except ReasonerLoadError as err:
        raise RunInputError(str(err)) from None


def output_files(method: str, num_frames: int) -> list[str]:
    """The files a run of ``method`` writes into its output folder."""
    from rulec.runtime.optimize.lora import LORA_FILE

    frames = [f"frames/frame_{i:04d}.png" for i in range(num_frames)]
    return ["video.mp4", "report.json", "report.png", *frames, *([LORA_FILE] if method == "tto" else [])]


def run_task(
    task_dir: Path,
    out: Path,
    *,
    method: str = "tto",
    rules: Path | None = None,
    budget: int | None = None,
    model: str | None = None,
    caption: str | None = None,
    num_frames: int | None = None,
    options: dict[str, Any] | None = None,
    on_progress: Progress | None = None,
) -> Solution:
    """Run ``method`` on the task folder ``task_dir``; write video, frames, LoRA and reports to ``out``.

    ``budget`` is TTO's step count (``max_steps``) or Best-of-N's N; ``options`` are
    :meth:`RunConfig.from_options` keywords (None: the default); ``caption`` and
    ``num_frames`` as :func:`~rulec.runtime.tasks.folder.model_task` takes them.
    """
    from rulec.runtime.optimize.outputs import OutputConflict, check_writable
    from rulec.runtime.optimize.reasoner import TaskInput
    from rulec.runtime.tasks.folder import model_task

    if budget is not None and budget < (0 if method == "tto" else 1):
        raise RunInputError(f"--budget must be positive, got {budget}")
    try:
        check_method(method)
        config = RunConfig.from_options(**(options or {}), max_steps=budget if method == "tto" else None)
        given = model_task(task_dir, caption, num_frames)
        task = TaskInput.from_image(given.first_frame, given.caption, given.num_frames)
        check_writable(output_files(method, task.num_frames), out)  # before the run, not after it
    except ValueError as err:  # InstanceError and OutputConflict are ValueErrors
        raise RunInputError(str(err)) from None
    rules_path = rules or task_dir / "rules.txt"
    reward = load_reward(rules_path, task.num_frames)
    reasoner = load_reasoner(model)
    solution = solve(reasoner, task, reward, method, config, n=budget if method == "best-of-n" else None,
                     on_progress=on_progress)
    from rulec.runtime.models.load import DEFAULT

    report = {
        "task": str(task_dir),
        "rules": str(rules_path),
        "model": str(model) if model else DEFAULT,
        "caption": task.caption,
        "seed": config.seed,
        **solution.result,
        "base": {"evaluations": solution.base.evaluations, "final": solution.base.final},
    }
    report["config"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in report.get("config", asdict(config)).items()}
    try:
        write_outputs(out, solution, report, f"{task_dir.name}: {method}")
    except OutputConflict as err:
        raise RunInputError(str(err)) from None
    return solution


def write_outputs(out: Path, solution: Solution, report: dict[str, Any], title: str) -> None:
    """The video (mp4 and lossless PNG frames), the adapter, report.json and report.png, all or nothing."""
    from rulec.frames import to_uint8
    from rulec.runtime.optimize import report as run_report
    from rulec.runtime.optimize.lora import save_lora
    from rulec.runtime.optimize.outputs import staged
    from rulec.runtime.video_io import write_video

    final = solution.final
    verdict = "PASS" if final["passed"] else "FAIL"
    with staged(out) as staging:
        frames = to_uint8(solution.video)
        write_video(staging / "video.mp4", frames)
        write_video(staging / "frames", frames)
        if solution.lora is not None:
            save_lora(*solution.lora, staging)
        run_report.write_json(staging / run_report.REPORT_JSON, report)
        run_report.write_visual_report(
            staging / run_report.REPORT_PNG, to_uint8(solution.base.video), frames, report.get("history"),
            f"{title} -> {verdict} ({final['rules_passed']}/{len(final['rules'])} rules)",
            verdicts=(solution.base.final, final),
        )
