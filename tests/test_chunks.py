"""The reward on large videos, a chunk of frames at a time (rulec.chunks): the same verdicts,
robustness and gradients as the whole-video evaluation, for every kind of frame-local node."""

from __future__ import annotations

import pytest
import torch

from rulec import compile_rules
from rulec.chunks import CONTEXT_FRAMES, chunk_bounds
from rulec.frames import to_float
from test_stream import RULES, random_video


@pytest.mark.parametrize("num_frames, chunk", [(1, 1), (7, 2), (9, 4), (9, 9), (10, 3)])
def test_chunks_cover_every_frame_once_with_one_frame_of_context(num_frames, chunk):
    bounds = chunk_bounds(num_frames, chunk)
    kept = [t for lo, hi, _ in bounds for t in range(lo, hi)]
    assert kept == list(range(num_frames))
    assert [c for _, _, c in bounds] == [0] + [CONTEXT_FRAMES] * (len(bounds) - 1)


def video_of(seed: int, frames: int = 9) -> torch.Tensor:
    return to_float(random_video(seed, frames=frames)).unsqueeze(0).double()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("chunk_pixels", [24 * 24, 3 * 24 * 24])  # one frame (context included) / three
def test_chunked_reward_equals_the_whole_video_reward_and_its_gradient(seed, chunk_pixels):
    compiled = compile_rules(RULES, num_frames=9)
    whole = compiled.to_reward(whole_pixels=None)
    chunked = compiled.to_reward(chunk_pixels=chunk_pixels, whole_pixels=0)
    assert chunked._chunk_frames(video_of(seed)) is not None  # the video really is chunked

    grads, reports = [], []
    for reward in (whole, chunked):
        video = video_of(seed).requires_grad_(True)
        report = reward(video)
        report.loss.backward()
        grads.append(video.grad)
        reports.append(report)
    a, b = reports
    for ra, rb in zip(a.rules, b.rules):
        assert torch.equal(ra.exact, rb.exact), ra.name
        assert torch.equal(ra.trace, rb.trace), ra.name
        torch.testing.assert_close(ra.smooth, rb.smooth, rtol=1e-9, atol=1e-12, msg=ra.name)
    torch.testing.assert_close(a.loss, b.loss, rtol=1e-9, atol=1e-12)
    assert grads[0].abs().sum() > 0
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-7, atol=1e-10)


def test_a_small_video_is_evaluated_whole_and_ask_never_chunked():
    compiled = compile_rules(RULES, num_frames=9)
    assert compiled.to_reward()._chunk_frames(video_of(0)) is None  # 9 x 24 x 24 is far below a chunk
    asking = compile_rules('object a = color("#ff0000")\ngoal g : eventually ask("is it red?")\n')
    assert asking.to_reward(chunk_pixels=16, whole_pixels=0)._chunk_frames(video_of(0)) is None
