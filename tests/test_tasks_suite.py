"""The task suite: determinism, solvable ground truth, corruptions caught on the right sub-check."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rulec.runtime import tasks

from rulec.runtime.tasks import world
from rulec.runtime.tasks import InstanceError, corruption_list, load_instance, make_instance, score, write_instance
from rulec.runtime.tasks.base import MIN_MOTION_FRAMES, motion_frames_of

FAMILIES = list(tasks.FAMILIES)
SEEDS = range(12)


def test_six_families():
    assert FAMILIES == ["navigate", "maze", "hazard", "waypoints", "place", "still"]


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_instance_byte_for_byte(family, tmp_path):
    a, b = make_instance(family, 7), make_instance(family, 7)
    assert np.array_equal(a.ground_truth, b.ground_truth) and a.rules_text == b.rules_text and a.metadata == b.metadata
    write_instance(a, tmp_path / "a")
    write_instance(b, tmp_path / "b")
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", [p.name for p in (tmp_path / "a").iterdir()], shallow=False)
    assert not mismatch and not errors and len(match) == 6
    assert not np.array_equal(make_instance(family, 8).ground_truth, a.ground_truth)


@pytest.mark.parametrize("family", FAMILIES)
def test_ground_truth_scores_success(family):
    for seed in SEEDS:
        inst = make_instance(family, seed)
        result = score(inst, inst.ground_truth)
        assert result.success and result.partial == 1.0, (seed, result.checks)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_corruption_fails_the_sub_check_it_breaks(family):
    for seed in SEEDS:
        inst = make_instance(family, seed)
        for c in corruption_list(inst):
            result = score(inst, c.make(inst))
            assert not result.success and not result.checks[c.breaks], (seed, c.name, result.checks)
            assert 0.0 <= result.partial < 1.0


def test_corruptions_cover_the_issue_list():
    names = {c.name for fam in tasks.FAMILIES.values() for c in fam.corruptions}
    assert {"wall_crossing", "vanish", "duplicate", "stop_short", "wrong_order", "other_moves", "target_moved", "scenery_repainted"} <= names


@pytest.mark.parametrize("family", FAMILIES)
def test_metadata_describes_the_solution(family):
    inst = make_instance(family, 3)
    m = inst.metadata
    assert m["family"] == family and m["seed"] == 3
    agent = m["colours"]["agent"]
    assert world.PALETTE[agent["name"]] == agent["hex"]
    assert m["plan_caption"].startswith(f"{agent['name']} disc moves ")
    assert all(d in world.DIRECTIONS for d in m["plan_caption"].split(" moves ")[1].split(", then "))
    path = np.asarray(m["solution_path"])
    assert path.shape == (world.NUM_FRAMES, 2)
    mask = world.colour_mask(inst.ground_truth, agent["name"])
    ys, xs = np.mgrid[0:32, 0:32]
    centroids = np.array([[xs[f].mean() + 0.5, ys[f].mean() + 0.5] for f in mask])
    assert np.allclose(centroids, path)
    assert motion_frames_of(path) >= MIN_MOTION_FRAMES
    assert np.array_equal(inst.first_frame, inst.ground_truth[0])


@pytest.mark.parametrize("family", FAMILIES)
def test_folder_round_trip_keeps_everything(family, tmp_path):
    inst = make_instance(family, 5)
    folder = write_instance(inst, tmp_path / inst.name)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["first_frame.png", "prompt.txt", "final_frame.png", "ground_truth.mp4", "question_metadata.json", "rules.txt"]
    )
    back = load_instance(folder)
    assert np.array_equal(back.ground_truth, inst.ground_truth) and np.array_equal(back.first_frame, inst.first_frame)
    assert back.prompt == inst.prompt and back.rules_text == inst.rules_text and back.metadata == inst.metadata
    assert score(back, back.ground_truth).success


def test_load_instance_reports_missing_files(tmp_path):
    inst = make_instance("maze", 0)
    folder = write_instance(inst, tmp_path / "i")
    (folder / "ground_truth.mp4").unlink()
    with pytest.raises(InstanceError, match="missing ground_truth.mp4"):
        load_instance(folder)
    with pytest.raises(InstanceError, match="no such directory"):
        load_instance(tmp_path / "nothing")


def test_score_rejects_wrong_shapes():
    inst = make_instance("navigate", 0)
    with pytest.raises(ValueError, match="shape"):
        score(inst, inst.ground_truth[:, :16])
    with pytest.raises(ValueError, match="uint8"):
        score(inst, inst.ground_truth.astype(np.float32))


def test_unknown_family():
    with pytest.raises(KeyError, match="unknown task family 'mazes'"):
        make_instance("mazes", 0)


def test_scorers_do_not_import_the_compiler_or_primitives():
    """The yardstick must not share code with what it measures: only numpy, the world and itself."""
    import ast
    from pathlib import Path

    root = Path(tasks.__file__).parent
    allowed = ("numpy", "rulec.runtime.tasks.world", "rulec.runtime.tasks", "rulec.runtime.video_io", "rulec.runtime.input_limits", "pydantic",
               "scipy.ndimage", "scipy.optimize", "PIL",  # the realistic families: labelling, matching, drawing
               "rulec.primitives.colours")  # the one '#rrggbb' parser (#23): pure, torch-free; no detector or measure
    stdlib = ("__future__", "collections", "dataclasses", "itertools", "json", "math", "os", "pathlib", "typing", "zlib", "imageio")
    for file in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for n in names:
                if n == "rulec.runtime":  # `from rulec.runtime import world`
                    assert all(a.name == "world" for a in node.names), f"{file.name} imports from {n}"
                else:
                    assert n.startswith(allowed + stdlib), f"{file.name} imports {n}"


@pytest.mark.parametrize("family", FAMILIES)
def test_off_palette_noise_and_a_speck_are_tolerated(family):
    """Model videos have in-between colours: snapping to the first frame's palette absorbs them."""
    inst = make_instance(family, 2)
    rng = np.random.default_rng(0)
    noisy = np.clip(inst.ground_truth.astype(int) + rng.integers(-12, 13, size=inst.ground_truth.shape), 0, 255).astype(np.uint8)
    noisy[5, 0, 0] = world.rgb(inst.metadata["colours"]["agent"]["name"])  # a one-pixel speck
    assert score(inst, noisy).success


@given(family=st.sampled_from(FAMILIES), seed=st.integers(0, 2**31 - 1))
def test_any_seed_gives_a_solved_instance_whose_corruptions_fail(family, seed):
    inst = make_instance(family, seed)
    assert score(inst, inst.ground_truth).success
    for c in corruption_list(inst):
        result = score(inst, c.make(inst))
        assert not result.success and not result.checks[c.breaks], c.name
