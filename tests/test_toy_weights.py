"""The shipped weights: present, small, loadable by default, and they honour the first frame."""

import torch

from rulec.frames import to_float
from rulec.runtime.models import clips

from rulec.runtime.models.pixel import network as toy_model
from rulec.runtime.optimize.reasoner import TaskInput
from rulec.runtime.models.pixel.reasoner import ToyReasoner


def test_shipped_weights_load_by_default_and_are_small():
    weights = toy_model.ASSETS / toy_model.WEIGHTS_FILE
    assert weights.exists(), "runtime/models/assets/toy_vgm.safetensors must ship with the package"
    assert weights.stat().st_size <= 20 * 1024 * 1024
    r = ToyReasoner.load()
    assert r.model.config.training.get("steps", 0) > 0  # trained, not a random init
    assert 4 <= r.default_steps <= 8


def test_shipped_model_sample_keeps_the_task_image():
    torch.set_num_threads(1)
    r = ToyReasoner.load()
    frame = to_float(clips.make_clip(2_000_000_001).video[0])
    v = r.sample(TaskInput(frame, caption=""), seed=0, num_steps=2, batch_size=2)
    assert v.shape == (2, 16, 3, 32, 32) and 0 <= v.min() and v.max() <= 1
    assert torch.allclose(v[:, 0], frame.expand(2, -1, -1, -1), atol=1e-5)
    assert torch.equal(v, r.sample(TaskInput(frame, caption=""), seed=0, num_steps=2, batch_size=2))


def test_training_state_round_trips_through_safetensors(tmp_path):
    """The resume state holds no pickle: weights, EMA and optimizer tensors in safetensors."""
    from rulec.runtime.models.pixel.network import ToyConfig, ToyVGM
    from rulec.runtime.models.pixel.train import load_state, save_state

    torch.manual_seed(0)
    model = ToyVGM(ToyConfig())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = sum(p.square().sum() for p in model.parameters())
    loss.backward()
    opt.step()
    ema = {k: v.detach() * 0.5 for k, v in model.state_dict().items()}
    path = tmp_path / "state.safetensors"
    save_state(path, model.state_dict(), ema, opt.state_dict(), {"step": 3, "wall": 1.5, "history": [[0, "x0"]]})
    model_sd, ema_back, opt_sd, meta = load_state(path)
    assert meta == {"step": 3, "wall": 1.5, "history": [[0, "x0"]]}
    for k, v in model.state_dict().items():
        assert torch.equal(model_sd[k], v) and torch.equal(ema_back[k], ema[k])
    fresh = torch.optim.AdamW(ToyVGM(ToyConfig()).parameters(), lr=1e-3)
    fresh.load_state_dict(opt_sd)
    loaded = fresh.state_dict()["state"]
    for i, a in opt.state_dict()["state"].items():
        assert torch.equal(a["exp_avg"], loaded[i]["exp_avg"]) and torch.equal(a["exp_avg_sq"], loaded[i]["exp_avg_sq"])
