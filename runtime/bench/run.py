"""The benchmark: does rule-driven test-time optimization beat Best-of-N and a plan in the prompt?

Every (instance, method, budget) is one work item. Each item samples a video with its
method and is judged by the task suite's independent scorer (never by the compiled rules
that drove the optimization). Results are appended to JSONL files as items finish, so a
re-run resumes where it stopped and ``--shard i/n`` slices let any launcher spread the
items over processes or machines; :func:`load_results` merges every file in a folder.

Methods:

* ``base``: one sample of the frozen model, given the task's instruction (its prompt).
* ``plan-in-prompt``: one sample with the caption written from the instance's solution
  (``metadata["plan_caption"]``): the best a solver-VLM could say, an upper bound for it.

Every method but plan-in-prompt gives the model the instance's prompt as its caption
(``BenchSettings.caption="prompt"``; ``"none"`` gives an empty caption), as a video model
is given the task's instruction.
* ``best-of-n``: N seeds, the sample the compiled reward likes best, N matched to the budget.
* ``tto``: a fresh LoRA optimized against the compiled reward within the budget.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from rulec.runtime.optimize.config import RunConfig

METHODS = ("base", "plan-in-prompt", "best-of-n", "tto")
CAPTIONS = ("prompt", "none")
BUDGETED = ("best-of-n", "tto")


@dataclass(frozen=True)
class BenchSettings:
    """How every item is run; stored beside the results so a report can say what ran.

    The run options a benchmark may vary, at :class:`RunConfig`'s defaults (one place
    decides them), plus the model and what the methods are told."""

    sample_steps: int = RunConfig.sample_steps
    grad_steps: int = RunConfig.grad_steps
    lr: float = RunConfig.lr
    rank: int = RunConfig.rank
    max_steps: int = RunConfig.max_steps
    noise: str = RunConfig.noise
    model: str | None = None  # a name or path for runtime.models.load.load_reasoner; None: the embedded default
    screen: int = RunConfig.screen  # TTO: seeds screened with the frozen model before optimizing the best one
    caption: str = "prompt"  # what base, best-of-n and tto are told: "prompt" (the instruction) | "none"

    def __post_init__(self) -> None:
        if self.caption not in CAPTIONS:
            raise ValueError(f"caption must be one of {', '.join(CAPTIONS)}, got {self.caption!r}")
        self.run_config(seed=0)  # refuse settings no run can have before any item runs

    @classmethod
    def from_options(cls, *, model: str | None = None, caption: str | None = None, **options: Any) -> BenchSettings:
        """Settings from the options a user gave (None: the default), by :meth:`RunConfig.from_options`'s rules."""
        config = RunConfig.from_options(**options)
        run = {f.name: getattr(config, f.name) for f in fields(cls) if f.name not in ("model", "caption")}
        return cls(model=model, **run, **({} if caption is None else {"caption": caption}))

    def run_config(self, seed: int) -> RunConfig:
        """The run configuration of one item (its instance seed); a budget is set per run."""
        return RunConfig(sample_steps=self.sample_steps, grad_steps=self.grad_steps, lr=self.lr, rank=self.rank,
                         max_steps=self.max_steps, noise=self.noise, screen=self.screen, seed=seed)  # type: ignore[arg-type]

    def caption_for(self, method: str, prompt: str, plan: str) -> str:
        """The caption a method gives the model (plan-in-prompt: the solution's plan)."""
        if method == "plan-in-prompt":
            return plan
        return prompt if self.caption == "prompt" else ""


@dataclass(frozen=True)
class WorkItem:
    """One (instance, method) run; a budgeted method's run covers every budget at once
    (a smaller budget's answer is a prefix of the largest one's run), unbudgeted ones have
    budgets ``(0,)``. Each budget gives one record, keyed by :meth:`key`."""

    family: str
    index: int
    seed: int
    method: str
    budgets: tuple[int, ...]
    folder: str = ""  # an instance folder on disk (its rules.txt drives the methods); "" = generated

    def key(self, budget: int) -> str:
        where = f"{Path(self.folder).name}" if self.folder else f"{self.family}/{self.seed}"
        return f"{where}/{self.method}/{budget}"

    @property
    def keys(self) -> list[str]:
        return [self.key(b) for b in self.budgets]


def instance_seed(seed: int, index: int) -> int:
    """Seed of the index-th instance of a run (task instances are never training data: the
    embedded model trains on task-agnostic motion clips)."""
    return seed * 100_003 + index


def work_items(families: Iterable[str], n: int, seed: int, budgets: Iterable[int], methods: Iterable[str] = METHODS) -> list[WorkItem]:
    """All items of a run, in a fixed order (the order shards are cut from)."""
    budgets = tuple(sorted(set(int(b) for b in budgets)))
    items = []
    for family in families:
        for index in range(n):
            s = instance_seed(seed, index)
            for method in methods:
                items.append(WorkItem(family, index, s, method, budgets if method in BUDGETED else (0,)))
    return items


def task_folders(paths: Iterable[str | Path]) -> list[Path]:
    """Instance folders: each path is one (it holds ``question_metadata.json``) or holds several."""
    found: list[Path] = []
    for p in map(Path, paths):
        if (p / "question_metadata.json").is_file():
            found.append(p)
        elif p.is_dir():
            found.extend(sorted(c for c in p.iterdir() if (c / "question_metadata.json").is_file()))
        else:
            raise ValueError(f"{p}: no such task folder")
    if not found:
        raise ValueError(f"no task folders (with question_metadata.json) in {', '.join(map(str, paths))}")
    names = [f.name for f in found]
    if len(set(names)) != len(names):
        raise ValueError("task folders must have distinct names (records are keyed by folder name)")
    return found


def folder_items(folders: Iterable[str | Path], budgets: Iterable[int], methods: Iterable[str] = METHODS) -> list[WorkItem]:
    """Items for instance folders (``rulec tasks make`` layout): their own rules, their family's scorer."""
    from rulec.runtime import tasks

    budgets = tuple(sorted(set(int(b) for b in budgets)))
    items = []
    for index, folder in enumerate(task_folders(folders)):
        try:
            inst = tasks.load_instance(folder)
            tasks.family(inst.family)
        except (tasks.InstanceError, KeyError) as err:
            raise ValueError(str(err).strip('"')) from None
        for method in methods:
            items.append(WorkItem(inst.family, index, inst.seed, method, budgets if method in BUDGETED else (0,), str(folder)))
    return items


def plan_items(*, families: Iterable[str] | None, n: int, seed: int, budgets: Iterable[int], methods: Iterable[str],
               task_dirs: Iterable[str | Path] | None = None) -> list[WorkItem]:
    """The items of a run as a user asks for them, checked (a ValueError says what is wrong):
    instance folders if ``task_dirs``, else ``n`` generated instances of each family (None: all)."""
    from rulec.runtime import tasks

    names = sorted(tasks.FAMILIES) if families is None else list(families)
    unknown = [f for f in names if f not in tasks.FAMILIES]
    if unknown:
        raise ValueError(f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; known: {', '.join(sorted(tasks.FAMILIES))}")
    methods, budgets = list(methods), list(budgets)
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"unknown method {', '.join(bad)}; choose from {', '.join(METHODS)}")
    if n < 1 or not budgets or any(b < 1 for b in budgets):
        raise ValueError("--n and --budget must be positive")
    return folder_items(task_dirs, budgets, methods) if task_dirs else work_items(names, n, seed, budgets, methods)


def parse_shard(text: str) -> tuple[int, int]:
    """``"1/4"`` -> ``(1, 4)``; shards count from 0."""
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes I/N with whole numbers, e.g. 0/4; got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard {text}: need 0 <= I < N")
    return i, n


def shard_of(items: list[WorkItem], shard: tuple[int, int]) -> list[WorkItem]:
    i, n = shard
    return items[i::n]


def results_file(out: Path, shard: tuple[int, int]) -> Path:
    i, n = shard
    return out / ("results.jsonl" if n == 1 else f"results-shard{i}of{n}.jsonl")


def _read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of one results file; lines that are not a complete JSON object are skipped."""
    from rulec.runtime.input_limits import input_limit, json_nesting

    limit, nesting = input_limit("MAX_RECORD_BYTES"), input_limit("MAX_JSON_NESTING")
    with path.open("rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n") or len(raw) > limit:
                continue  # a line cut short by an interrupted run, or not ours
            try:
                line = raw.decode("utf-8")
                if json_nesting(line) > nesting:
                    continue
                record = json.loads(line)
            except (UnicodeDecodeError, ValueError):
                continue
            if isinstance(record, dict) and isinstance(record.get("key"), str):
                yield record


def load_results(out: Path) -> dict[str, dict[str, Any]]:
    """Every finished record in ``out/*.jsonl``, by item key (a torn or foreign line is ignored)."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(out).glob("*.jsonl")):
        try:
            for record in _read_records(path):
                records[record["key"]] = record
        except OSError:
            continue
    return records


def repair_torn_tail(path: Path) -> str | None:
    """Cut a results file back to its last complete line (a run killed mid-write leaves a torn
    one, which the next append would glue onto); returns what was cut, or None."""
    try:
        with path.open("rb+") as fh:
            size = fh.seek(0, os.SEEK_END)
            if size == 0:
                return None
            block, pos = b"", size
            while pos > 0:  # find the last newline, reading backwards in blocks
                step = min(65536, pos)
                pos -= step
                fh.seek(pos)
                block = fh.read(step) + block
                nl = block.rfind(b"\n")
                if nl >= 0:
                    keep = pos + nl + 1
                    break
            else:
                keep = 0
            if keep == size:
                return None
            fh.seek(keep)
            torn = fh.read(200)
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
    except FileNotFoundError:
        return None
    return torn.decode("utf-8", "replace")


def append_records(path: Path, records: list[dict[str, Any]]) -> None:
    """Append complete lines and fsync them, so a record reported written survives a crash."""
    data = "".join(json.dumps(r, allow_nan=False) + "\n" for r in records).encode("utf-8")
    with path.open("ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class ResultsLocked(ValueError):
    """Another run is writing the same results file."""


class ResultsLock:
    """An exclusive lock on ``<results file>.lock`` (``flock``: released when the process dies),
    so two runs of one shard into one folder refuse instead of computing everything twice."""

    def __init__(self, results: Path):
        self.path = results.with_name(results.name + ".lock")
        self._fh = None

    def __enter__(self) -> "ResultsLock":
        import fcntl

        fh = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read(200).strip() or "another process"
            fh.close()
            raise ResultsLocked(f"{self.path.parent}: another run ({holder}) is writing {self.path.name[:-5]}; "
                                "wait for it, or run another --shard or -o folder") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self._fh is not None:
            self._fh.close()  # releases the lock; the file stays (unlinking it would race)
            self._fh = None


# ------------------------------------------------------------------ running one item
class ItemRunner:
    """Runs items with one loaded reasoner (one per worker process)."""

    def __init__(self, settings: BenchSettings, reasoner=None, videos: Path | None = None):
        from rulec.runtime.models.load import load_reasoner

        self.settings = settings
        self.videos = videos  # keep each record's final video here (PNG frames + mp4), if given
        self.reasoner = reasoner if reasoner is not None else load_reasoner(settings.model)

    def run(self, item: WorkItem, skip: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The item's records, one per budget (budgets whose key is in ``skip`` are left out)."""
        from rulec import compile_rules
        from rulec.frames import to_uint8
        from rulec.runtime import tasks
        from rulec.runtime.optimize.baselines import base_sample, best_of_ns
        from rulec.runtime.optimize.budget import Costs
        from rulec.runtime.optimize.reasoner import TaskInput

        started = time.perf_counter()
        inst = tasks.load_instance(item.folder) if item.folder else tasks.make_instance(item.family, item.seed)
        frames = inst.ground_truth.shape[0]
        compiled = compile_rules(inst.rules_text, name=f"{item.family}-{item.seed}/rules.txt", num_frames=frames)
        reward = compiled.to_reward()
        caption = self.settings.caption_for(item.method, inst.prompt, inst.metadata.get("plan_caption", ""))
        task = TaskInput.from_image(inst.first_frame, caption, frames)
        config = self.settings.run_config(item.seed)
        budgets = [b for b in item.budgets if item.key(b) not in set(skip)]
        if item.method in ("base", "plan-in-prompt"):
            results = {0: base_sample(self.reasoner, task, reward, config)}
        elif item.method == "best-of-n":
            ns = {b: Costs.of(self.reasoner, config).matched_n(b) for b in budgets}
            by_n = best_of_ns(self.reasoner, task, reward, list(ns.values()), config)
            results = {b: by_n[n] for b, n in ns.items()}
        elif item.method == "tto":
            results = self._tto(task, reward, budgets, config)
        else:
            raise ValueError(f"unknown method {item.method!r}; choose from {', '.join(METHODS)}")
        wall_time = round(time.perf_counter() - started, 3)
        records = []
        for budget in budgets:
            result = results[budget]
            video = to_uint8(result.video)
            verdict = tasks.score(inst, video)
            kept = self._keep(item.key(budget), video)
            records.append({
                "key": item.key(budget),
                "family": item.family,
                "index": item.index,
                "seed": item.seed,
                "method": item.method,
                "budget": budget,
                "success": bool(verdict.success),
                "partial": float(verdict.partial),
                "checks": {k: bool(v) for k, v in verdict.checks.items()},
                "rules_passed": bool(result.final["passed"]),
                "verdict": result.final,  # the rules' own verdict, of the one schema (rulec.verdict)
                "evaluations": int(result.evaluations),
                "steps": int(getattr(result, "steps", 0)),
                "wall_time": wall_time,  # of the whole run, shared by the budgets it covered
                **({"folder": item.folder} if item.folder else {}),
                **({"video": kept} if kept else {}),
            })
        return records

    def _keep(self, key: str, video) -> str | None:
        """Write a record's video as ``videos/<key>.mp4`` with lossless PNG frames beside it."""
        if self.videos is None:
            return None
        from rulec.runtime.video_io import write_video

        name = key.replace("/", "_")
        write_video(self.videos / f"{name}.mp4", video)
        write_video(self.videos / f"{name}_frames", video)
        return f"videos/{name}.mp4"

    def _tto(self, task, reward, budgets: list[int], config: RunConfig) -> dict[int, Any]:
        """TTO at every budget, one run per group of budgets that screen the same seed count.
        A budget pays for the final decode too, so the loop may spend the rest."""
        from rulec.runtime.optimize.budget import Costs
        from rulec.runtime.optimize.tto import optimize_budgets

        costs = Costs.of(self.reasoner, config)
        limits = {b: costs.before_final_decode(b) for b in budgets}
        groups: dict[int, list[int]] = {}
        for b in budgets:
            groups.setdefault(costs.screened_seeds(config.screen, limits[b]), []).append(b)
        results = {}
        for group in groups.values():
            by_limit = optimize_budgets(self.reasoner, task, reward, config, [limits[b] for b in group])
            results.update({b: by_limit[limits[b]] for b in group})
        return results


_WORKER: ItemRunner | None = None


def _init_worker(settings: BenchSettings, threads: int, videos: Path | None) -> None:
    global _WORKER
    import torch

    torch.set_num_threads(threads)
    _WORKER = ItemRunner(settings, videos=videos)


def _run_in_worker(item: WorkItem, skip: list[str]) -> list[dict[str, Any]]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.run(item, skip)


# ------------------------------------------------------------------ Ray: one task per item
@dataclass(frozen=True)
class RayOptions:
    """Where and how ``rulec bench --ray`` runs its tasks (one per (instance, method) item).

    ``address``: ``"auto"`` (a running cluster this machine belongs to, or ``RAY_ADDRESS``; if
    none, a local Ray on this machine) or a cluster address (``ray://host:10001``, ``host:6379``).
    ``cpus`` / ``gpus``: the resources each task asks for (torch uses ``cpus`` threads)."""

    address: str = "auto"
    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        if not self.address:
            raise ValueError("--ray takes auto or a cluster address, e.g. ray://head:10001")
        if self.cpus <= 0 or self.gpus < 0:
            raise ValueError("--ray-cpus must be positive and --ray-gpus at least 0")


def _connect_ray(options: RayOptions):
    """The ``ray`` module, connected (an ImportError if ray is not installed: rulec[ray])."""
    import ray

    if ray.is_initialized():
        return ray
    if options.address == "auto":
        try:
            ray.init(address="auto", log_to_driver=False)
        except ConnectionError:  # no cluster running here: a local one for this run
            ray.init(include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=options.address, log_to_driver=False)
    return ray


_RAY_RUNNERS: dict[tuple, ItemRunner] = {}


def _ray_item(settings: BenchSettings, videos: str | None, threads: int, item: WorkItem, skip: list[str]) -> list[dict[str, Any]]:
    """One Ray task: run one item (a Ray worker process keeps its loaded reasoner for the next task)."""
    import torch

    torch.set_num_threads(threads)
    key = (settings, videos)
    if key not in _RAY_RUNNERS:
        _RAY_RUNNERS.clear()  # one loaded model per worker process
        _RAY_RUNNERS[key] = ItemRunner(settings, videos=None if videos is None else Path(videos))
    return _RAY_RUNNERS[key].run(item, skip)


def _run_on_ray(options: RayOptions, todo: list[WorkItem], skips: dict[WorkItem, list[str]], settings: BenchSettings,
                videos: Path | None, record: Callable[[list[dict[str, Any]]], None]) -> None:
    """Submit every item as a Ray task; append each item's records as its task finishes (the
    driver alone writes the results file, so it needs no shared disk; kept videos and
    ``--tasks`` folders do: every node must see the same paths)."""
    ray = _connect_ray(options)
    task = ray.remote(_ray_item).options(num_cpus=options.cpus, num_gpus=options.gpus, max_retries=1)
    threads = max(1, int(options.cpus))
    where = None if videos is None else str(videos.resolve())
    pending = [task.remote(settings, where, threads, item, skips[item]) for item in todo]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            record(ray.get(done[0]))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise


def run_bench(
    items: list[WorkItem],
    out: Path,
    settings: BenchSettings,
    *,
    shard: tuple[int, int] = (0, 1),
    workers: int = 1,
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
    runner: ItemRunner | None = None,
    keep_videos: bool = False,
    on_warning: Callable[[str], None] | None = None,
    ray: RayOptions | None = None,
) -> list[dict[str, Any]]:
    """Run this shard's unfinished items, appending each record as it finishes.

    ``on_result(record, records_done, records_to_do)`` is called for every record;
    ``keep_videos`` writes every record's final video under ``out/videos/``. A second run of
    the same shard into ``out`` raises :class:`ResultsLocked`; a torn last line left by a
    killed run is cut off (and reported to ``on_warning``) before anything is appended.

    Items run in this process (``workers`` 1), in a local process pool (``workers`` > 1), or
    as one Ray task each (``ray``); every way appends the same records to the same file."""
    out.mkdir(parents=True, exist_ok=True)
    path = results_file(out, shard)
    with ResultsLock(path):
        return _run_locked(items, out, settings, path, shard, workers, on_result, runner, keep_videos, on_warning, ray)


def _run_locked(items, out, settings, path, shard, workers, on_result, runner, keep_videos, on_warning, ray=None):
    write_meta(out, settings)
    videos = out / "videos" if keep_videos else None
    torn = repair_torn_tail(path)
    if torn is not None:
        message = f"{path}: its last line was cut short (an interrupted run) and was removed: {torn[:80]!r}"
        if on_warning:
            on_warning(message)
        else:
            import warnings

            warnings.warn(message, stacklevel=3)
    done = load_results(out)
    todo = [item for item in shard_of(items, shard) if any(k not in done for k in item.keys)]
    skips = {item: [k for k in item.keys if k in done] for item in todo}
    total = sum(len(item.keys) - len(skips[item]) for item in todo)
    finished: list[dict[str, Any]] = []

    def record(results: list[dict[str, Any]]) -> None:
        append_records(path, results)
        for result in results:
            finished.append(result)
            if on_result:
                on_result(result, len(finished), total)

    if ray is not None:
        _run_on_ray(ray, todo, skips, settings, videos, record)
        return finished
    if workers <= 1 or len(todo) <= 1:
        runner = runner or ItemRunner(settings, videos=videos)
        for item in todo:
            record(runner.run(item, skips[item]))
        return finished

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(settings, threads, videos)) as pool:
        futures = [pool.submit(_run_in_worker, item, skips[item]) for item in todo]
        for future in as_completed(futures):
            record(future.result())
    return finished


def write_meta(out: Path, settings: BenchSettings) -> None:
    """``meta.json``: the settings every record in this folder was run with (checked on resume)."""
    path = out / "meta.json"
    data = {"settings": asdict(settings)}
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ValueError(f"{path}: unreadable ({err}); use another -o folder") from None
        if not isinstance(old, dict) or not isinstance(old.get("settings", {}), dict):
            raise ValueError(f"{path}: not a rulec bench meta.json; use another -o folder")
        # settings added since a folder was written compare at their defaults
        old_settings = {**asdict(BenchSettings()), **old.get("settings", {})}
        if old_settings != data["settings"]:
            raise ValueError(f"{out} holds results run with other settings ({old.get('settings')}); use another -o folder")
        return
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ summarizing
def summarize(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Per method (at the largest budget for budgeted ones): success, partial, steps, evaluations, time; per family too.

    ``budgets`` holds the budgeted methods' success at every budget that ran.
    """
    records = list(records)
    out: dict[str, Any] = {}
    budgets: dict[str, dict[str, Any]] = {}
    for method in METHODS:
        rows = [r for r in records if r["method"] == method]
        if not rows:
            continue
        top = max(r["budget"] for r in rows)
        if method in BUDGETED:
            budgets[method] = {str(b): _aggregate([r for r in rows if r["budget"] == b]) for b in sorted({r["budget"] for r in rows})}
        chosen = [r for r in rows if r["budget"] == top]
        entry = _aggregate(chosen)
        entry["budget"] = top
        entry["families"] = {f: _aggregate([r for r in chosen if r["family"] == f]) for f in sorted({r["family"] for r in chosen})}
        out[method] = entry
    out["budgets"] = budgets
    return out


def _share(flags: list[bool]) -> float:
    return sum(bool(f) for f in flags) / len(flags)


def _aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    check_names = sorted({c for r in rows for c in r["checks"]})
    return {
        "checks": {c: _share([r["checks"][c] for r in rows if c in r["checks"]]) for c in check_names},
        "n": n,
        "success": sum(r["success"] for r in rows) / n,
        "partial": sum(r["partial"] for r in rows) / n,
        "rules_passed": sum(r["rules_passed"] for r in rows) / n,
        "steps": sum(r["steps"] for r in rows) / n,
        "evaluations": sum(r["evaluations"] for r in rows) / n,
        "wall_time": sum(r["wall_time"] for r in rows) / n,
    }


def iter_family_rows(summary: dict[str, Any]) -> Iterator[tuple[str, dict[str, dict[str, Any]]]]:
    """(family, {method: figures}) for every family any method ran on."""
    families = sorted({f for m in METHODS if m in summary for f in summary[m]["families"]})
    for family in families:
        yield family, {m: summary[m]["families"][family] for m in METHODS if m in summary and family in summary[m]["families"]}
