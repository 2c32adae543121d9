"""`rulec bench`: a small smoke run, resume, shards, and the report's JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rulec.cli import app
from rulec.runtime.bench import run as bench

FAST = ["--n", "2", "--families", "navigate", "--budget", "12", "--max-steps", "2", "--sample-steps", "2", "--grad-steps", "1", "--seed", "3", "--screen", "0"]


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def lines(folder) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    result = run_cli("bench", *FAST, "-o", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_smoke_runs_every_method_on_every_instance(full_run):
    records = lines(full_run)
    assert sorted((r["index"], r["method"]) for r in records) == sorted((i, m) for i in range(2) for m in bench.METHODS)
    for r in records:
        assert isinstance(r["success"], bool) and 0.0 <= r["partial"] <= 1.0
        assert r["checks"], "the independent scorer's sub-checks are recorded"
    by_method = {r["method"]: r for r in records if r["index"] == 0}
    assert by_method["base"]["evaluations"] == 2  # one 2-step sample
    assert by_method["best-of-n"]["evaluations"] <= 12  # matched to the budget
    assert by_method["best-of-n"]["evaluations"] == 12  # 6 samples of 2 steps fill it exactly
    assert by_method["tto"]["evaluations"] <= 12
    assert 1 <= by_method["tto"]["steps"] <= 2


def test_rerun_resumes_and_runs_nothing_new(full_run):
    before = (full_run / "results.jsonl").read_text()
    result = run_cli("bench", *FAST, "-o", str(full_run))
    assert result.exit_code == 0, result.output
    assert "0 results written" in result.output
    assert (full_run / "results.jsonl").read_text() == before


def test_shards_merge_to_the_unsharded_run(full_run, tmp_path):
    for shard, workers in (("0/2", "2"), ("1/2", "1")):  # one shard through the process pool
        result = run_cli("bench", *FAST, "-o", str(tmp_path), "--shard", shard, "--workers", workers)
        assert result.exit_code == 0, result.output
    assert len(list(tmp_path.glob("results-shard*.jsonl"))) == 2
    assert strip_times(bench.load_results(tmp_path)) == strip_times(bench.load_results(full_run))
    merged = json.loads(run_cli("bench", "report", str(tmp_path), "--json").output)
    single = json.loads(run_cli("bench", "report", str(full_run), "--json").output)
    for method in bench.METHODS:
        assert merged[method]["success"] == single[method]["success"]
        assert set(merged[method]["families"]) == {"navigate"}


def test_report_json_has_every_method_with_success_and_families(full_run):
    result = run_cli("bench", "report", str(full_run), "--json")
    assert result.exit_code == 0
    summary = json.loads(result.output)
    records = lines(full_run)
    for method in bench.METHODS:
        rows = [r for r in records if r["method"] == method]
        assert summary[method]["success"] == sum(r["success"] for r in rows) / len(rows)
        assert summary[method]["families"]["navigate"]["n"] == 2


def test_a_torn_last_line_is_ignored_and_rerun(tmp_path, full_run):
    text = (full_run / "results.jsonl").read_text().splitlines()
    (tmp_path / "results.jsonl").write_text("\n".join(text[:-1]) + "\n" + text[-1][: len(text[-1]) // 2])
    (tmp_path / "meta.json").write_text((full_run / "meta.json").read_text())
    assert len(bench.load_results(tmp_path)) == len(text) - 1


def test_other_settings_in_the_same_folder_are_refused(full_run):
    result = run_cli("bench", *FAST[:-2], "--seed", "3", "--lr", "0.5", "-o", str(full_run))
    assert result.exit_code == 2
    assert "other settings" in result.output


def test_a_folder_from_before_a_setting_existed_resumes_at_its_default(tmp_path):
    settings = bench.BenchSettings()
    old = {k: v for k, v in json.loads(json.dumps({"settings": settings.__dict__}))["settings"].items() if k != "screen"}
    (tmp_path / "meta.json").write_text(json.dumps({"settings": old}))
    bench.write_meta(tmp_path, settings)  # same settings: accepted
    with pytest.raises(ValueError, match="other settings"):
        bench.write_meta(tmp_path, bench.BenchSettings(screen=bench.BenchSettings.screen + 1))


def test_screened_tto_records_fewer_steps_within_the_budget(tmp_path):
    result = run_cli("bench", *FAST, "--methods", "tto", "--screen", "3", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    for r in lines(tmp_path):
        # 3 screened 2-step samples (6) + the final decode (2) leave 4 of 12: one step with gradients
        assert r["evaluations"] <= 12 and r["steps"] <= 1
    assert json.loads((tmp_path / "meta.json").read_text())["settings"]["screen"] == 3
    # budgets 6 and 12 leave room for 2 and 3 screened seeds: run apart, both recorded
    args = FAST[: FAST.index("12")] + ["6,12"] + FAST[FAST.index("12") + 1:]
    result = run_cli("bench", *args, "--methods", "tto", "--screen", "3", "-o", str(tmp_path / "two"))
    assert result.exit_code == 0, result.output
    assert sorted(r["budget"] for r in lines(tmp_path / "two")) == [6, 6, 12, 12]


def test_bad_arguments_are_usage_errors(tmp_path):
    for args in (["--families", "nope"], ["--shard", "2/2"], ["--methods", "magic"], ["--budget", "0"], ["--screen", "-1"]):
        result = run_cli("bench", "-o", str(tmp_path), *args)
        assert result.exit_code == 2, args
        assert "error:" in result.output
    assert run_cli("bench", "report", str(tmp_path / "missing")).exit_code == 2


def test_items_and_shards_partition_the_run():
    items = bench.work_items(["a", "b"], 3, 0, [20, 10])
    assert len(items) == 2 * 3 * 4  # one item per (instance, method)
    assert {i.budgets for i in items if i.method in bench.BUDGETED} == {(10, 20)}
    keys = [k for i in items for k in i.keys]
    assert len(keys) == len(set(keys)) == 2 * 3 * (2 + 2 * 2)
    shards = [bench.shard_of(items, (i, 3)) for i in range(3)]
    assert sorted(k for s in shards for i in s for k in i.keys) == sorted(keys)


def strip_times(records):
    return {k: {f: v for f, v in r.items() if f != "wall_time"} for k, r in records.items()}


def test_several_budgets_in_one_run_equal_separate_runs(tmp_path):
    args = [a for a in FAST if a != "12"]
    args = args[: args.index("--budget") + 1] + ["6,12"] + args[args.index("--budget") + 1:]
    methods = ["--methods", "best-of-n,tto"]
    together, apart = tmp_path / "together", tmp_path / "apart"
    assert run_cli("bench", *args, *methods, "-o", str(together)).exit_code == 0
    budget_at = args.index("6,12")
    for budget in ("6", "12"):
        single = args[:budget_at] + [budget] + args[budget_at + 1:]
        assert run_cli("bench", *single, *methods, "-o", str(apart)).exit_code == 0
    got, expected = strip_times(bench.load_results(together)), strip_times(bench.load_results(apart))
    assert len(got) == 2 * 2 * 2 and got == expected
    assert {r["evaluations"] for r in got.values() if r["method"] == "best-of-n"} == {6, 12}


def test_a_new_budget_runs_only_the_missing_records(tmp_path, full_run):
    (tmp_path / "meta.json").write_text((full_run / "meta.json").read_text())
    (tmp_path / "results.jsonl").write_text((full_run / "results.jsonl").read_text())
    args = FAST[: FAST.index("12")] + ["6,12"] + FAST[FAST.index("12") + 1:]
    result = run_cli("bench", *args, "--methods", "best-of-n", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    new = lines(tmp_path)[len(lines(full_run)):]
    assert sorted((r["index"], r["budget"]) for r in new) == [(0, 6), (1, 6)]


def test_report_writes_markdown_with_budgets_and_the_budget_plot(full_run, tmp_path):
    md, png = tmp_path / "tables.md", tmp_path / "plot.png"
    result = run_cli("bench", "report", str(full_run), "--markdown", str(md), "--plot", str(png))
    assert result.exit_code == 0, result.output
    summary = json.loads(run_cli("bench", "report", str(full_run), "--json").output)
    text = md.read_text()
    for method in bench.BUDGETED:
        at = summary["budgets"][method]["12"]
        assert f"| {method} | {at['success']:.1%} / {at['partial']:.3f} |" in text
    family = text[text.index("### navigate"):]
    checks = summary["tto"]["families"]["navigate"]["checks"]
    assert "Sub-checks passed:" in family and all(f"| {c} |" in family for c in checks)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_task_folders_as_items_keep_their_videos(tmp_path):
    from rulec.runtime.video_io import read_video

    args = ["--tasks", "examples/tasks/navigate_00000", "--tasks", "examples/tasks/maze_00000", "--methods", "base,best-of-n,tto",
            "--budget", "12", "--max-steps", "2", "--sample-steps", "2", "--grad-steps", "1", "--keep-videos"]
    result = run_cli("bench", *args, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    records = {r["key"]: r for r in lines(tmp_path)}
    assert set(records) == {f"{name}_00000/{m}/{b}" for name in ("navigate", "maze") for m, b in (("base", 0), ("best-of-n", 12), ("tto", 12))}
    for key, r in records.items():
        assert r["family"] == key.split("_")[0] and r["folder"].endswith(key.split("/")[0])
        video = read_video(tmp_path / r["video"])
        assert video.shape == (16, 32, 32, 3)
        assert (read_video(tmp_path / r["video"].replace(".mp4", "_frames")) == video).all()
    grid = tmp_path / "grid.png"
    assert run_cli("bench", "report", str(tmp_path), "--filmstrips", str(grid)).exit_code == 0
    import imageio.v3 as iio

    assert iio.imread(grid).shape[0] > 400  # six labelled rows (two families x three methods)
    bad = CliRunner().invoke(app, ["bench", "--tasks", str(tmp_path / "none"), "-o", str(tmp_path / "o")])
    assert bad.exit_code == 2 and "no such task folder" in bad.output


def test_ray_runs_give_the_local_pools_records(tmp_path):
    """`rulec bench --ray auto`: one Ray task per (instance, method), the same records in the same files."""
    ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'rulec[ray]'")
    small = [FAST[0], "1", *FAST[2:], "--methods", "base,best-of-n"]
    local, remote = tmp_path / "local", tmp_path / "ray"
    result = run_cli("bench", *small, "-o", str(local))  # in-process: the pool's records (test_shards_merge_...)
    assert result.exit_code == 0, result.output
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)  # one worker: ~25 s on 2 shared cores
    try:
        result = run_cli("bench", *small, "-o", str(remote), "--ray", "auto")
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    assert "2 results written" in result.output
    assert sorted(p.name for p in remote.iterdir()) == sorted(p.name for p in local.iterdir())
    assert strip_times(bench.load_results(remote)) == strip_times(bench.load_results(local))
    assert (remote / "meta.json").read_text() == (local / "meta.json").read_text()


def test_ray_options_are_checked_before_any_work(tmp_path):
    result = run_cli("bench", *FAST, "-o", str(tmp_path / "x"), "--ray", "auto", "--workers", "2")
    assert result.exit_code == 2 and "--workers" in result.output
    result = run_cli("bench", *FAST, "-o", str(tmp_path / "y"), "--ray", "auto", "--ray-cpus", "0")
    assert result.exit_code == 2 and "--ray-cpus" in result.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
