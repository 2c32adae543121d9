"""The shipped weights: present, small, loadable by default, and they honour the first frame."""

import torch

from rulec.runtime import clips, toy_model
from rulec.runtime.reasoner import TaskInput
from rulec.runtime.toy_reasoner import ToyReasoner


def test_shipped_weights_load_by_default_and_are_small():
    weights = toy_model.ASSETS / toy_model.WEIGHTS_FILE
    assert weights.exists(), "runtime/assets/toy_vgm.safetensors must ship with the package"
    assert weights.stat().st_size <= 20 * 1024 * 1024
    r = ToyReasoner.load()
    assert r.model.config.training.get("steps", 0) > 0  # trained, not a random init
    assert 4 <= r.default_steps <= 8


def test_shipped_model_sample_keeps_the_task_image():
    torch.set_num_threads(1)
    r = ToyReasoner.load()
    frame = torch.from_numpy(clips.make_clip(2_000_000_001).video[0]).float().div(255).permute(2, 0, 1)
    v = r.sample(TaskInput(frame, caption=""), seed=0, num_steps=2, batch_size=2)
    assert v.shape == (2, 16, 3, 32, 32) and 0 <= v.min() and v.max() <= 1
    assert torch.allclose(v[:, 0], frame.expand(2, -1, -1, -1), atol=1e-5)
    assert torch.equal(v, r.sample(TaskInput(frame, caption=""), seed=0, num_steps=2, batch_size=2))
