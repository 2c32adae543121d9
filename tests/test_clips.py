"""The training-clip generator: deterministic, and its clips obey the task world's rules."""

import numpy as np
import pytest

from rulec.runtime.models import clips

from rulec.runtime.tasks import world

SEEDS = range(60)


def test_same_seed_same_clip_and_different_seeds_differ():
    a, b, c = clips.make_clip(7), clips.make_clip(7), clips.make_clip(8)
    assert np.array_equal(a.video, b.video) and a.caption == b.caption
    assert not np.array_equal(a.video, c.video)


@pytest.mark.parametrize("seed", SEEDS)
def test_clip_invariants(seed):
    clip = clips.make_clip(seed)
    v = clip.video
    assert v.shape == (world.NUM_FRAMES, world.FRAME_SIZE, world.FRAME_SIZE, 3) and v.dtype == np.uint8
    palette = {world.rgb(name) for name in world.PALETTE}
    assert {tuple(p) for p in v.reshape(-1, 3)} <= palette
    # exactly one agent: its colour forms the 21-pixel disc at the track position, every frame
    agent = world.colour_mask(v, clip.agent_colour)
    for t in range(len(v)):
        expected = world.disc_mask(world.FRAME_SIZE, *clip.track[t], world.AGENT_RADIUS)
        assert np.array_equal(agent[t], expected)
        assert agent[t].sum() == 21
    # walls never move and the agent never covers one
    walls = world.colour_mask(v, world.WALL)
    assert (walls == walls[0]).all()
    # speed bound: at most 2 px/frame plus the snapping to pixel centres
    assert np.hypot(*np.diff(clip.track, axis=0).T).max() <= 2.0 + np.sqrt(2) + 1e-9


@pytest.mark.parametrize("seed", SEEDS)
def test_caption_describes_the_motion(seed):
    clip = clips.make_clip(seed)
    if clip.caption:
        assert clip.caption == world.caption(clip.agent_colour, clip.directions)
    net = clip.track[-1] - clip.track[0]
    if len(clip.directions) == 1 and np.hypot(*net) >= 1.5:
        assert world.direction_word(*net) == clip.directions[0]
    if not clip.directions:
        assert np.hypot(*net) < 3.0


def test_captions_cover_the_vocabulary_and_empty():
    caps = [clips.make_clip(s).caption for s in range(300)]
    assert 0.1 < sum(c == "" for c in caps) / len(caps) < 0.3
    words = {w for c in caps for w in c.replace(",", "").split()}
    assert set(world.DIRECTIONS) <= words and set(world.AGENT_COLOURS) <= words
