"""Wan 2.x through a tiny random-init diffusers folder, loaded as a real checkpoint would be."""

from __future__ import annotations

import json

import pytest
import torch
from test_tto_support import RedRightReward, redness, task_input

from rulec.runtime.optimize.lora import LORA_FILE, base_weights_digest, save_lora
from rulec.runtime.optimize.config import RunConfig
from rulec.runtime.optimize.tto import optimize
from rulec.runtime.models.wan import LinearLatentDecoder, WanLoadError, WanReasoner, save_tiny_wan


@pytest.fixture(scope="module")
def wan_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wan") / "tiny-wan-i2v"
    save_tiny_wan(folder)
    return folder


def test_missing_or_wrong_folder_gives_a_clear_error(tmp_path):
    with pytest.raises(WanLoadError, match="does not exist"):
        WanReasoner.from_pretrained(tmp_path / "nope")
    with pytest.raises(WanLoadError, match="no model_index.json"):
        WanReasoner.from_pretrained(tmp_path)
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(WanLoadError, match="found a file"):
        WanReasoner.from_pretrained(tmp_path / "file.bin")
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(WanLoadError, match="not supported"):
        WanReasoner.from_pretrained(tmp_path)


def test_broken_component_gives_a_clear_error(wan_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(wan_dir, broken)
    shutil.rmtree(broken / "transformer")
    with pytest.raises(WanLoadError, match="could not load"):
        WanReasoner.from_pretrained(broken)


def test_sample_shape_range_and_seed(wan_dir):
    reasoner = WanReasoner.from_pretrained(wan_dir)
    task = task_input(num_frames=10)
    a = reasoner.sample(task, seed=1, num_steps=2)
    b = reasoner.sample(task, seed=1, num_steps=2)
    c = reasoner.sample(task, seed=2, num_steps=2)
    assert a.shape == (1, 10, 3, 32, 32) and 0 <= float(a.min()) and float(a.max()) <= 1
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_surrogate_decoder_is_a_fitted_least_squares_map():
    torch.manual_seed(0)
    w, bias = torch.randn(3, 16) * 0.05, torch.full((3,), 0.5)
    latents = torch.randn(2, 16, 3, 4, 4)
    cells = torch.einsum("oc,bcfhw->bfohw", w, latents) + bias.view(1, 1, 3, 1, 1)  # (2, 3, 3, 4, 4)
    video = cells.repeat_interleave(8, dim=-1).repeat_interleave(8, dim=-2)
    video = torch.repeat_interleave(video, torch.tensor([1, 4, 4]), dim=1)  # Wan's 1 + 4k frames
    fitted = LinearLatentDecoder.fit(latents, video, 8, 4)
    assert torch.allclose(fitted.weight, w, atol=1e-3) and torch.allclose(fitted.bias, bias, atol=1e-3)
    assert fitted(latents).shape == (2, 9, 3, 32, 32)


def test_surrogate_tracks_the_vae_roughly(wan_dir):
    reasoner = WanReasoner.from_pretrained(wan_dir)
    task = task_input()
    full = reasoner.sample(task, seed=0, num_steps=2, final=True)
    cheap = reasoner.sample(task, seed=0, num_steps=2, final=False)
    assert (full - cheap).abs().mean() < (full - full.mean()).abs().mean() + 0.05


def test_two_step_optimization_changes_output_saves_a_reusable_lora(wan_dir, tmp_path):
    from diffusers import DiffusionPipeline

    reasoner = WanReasoner.from_pretrained(wan_dir, optimize_decoder="vae")
    task = task_input()
    before = base_weights_digest(reasoner.transformer)
    base = reasoner.sample(task, seed=0, num_steps=2)
    reward = RedRightReward(float(redness(base)[0, -1]) + 0.5)
    result = optimize(reasoner, task, reward, RunConfig(max_steps=2, sample_steps=2, grad_steps=1, lr=5e-2))
    assert result.steps == 2
    assert not torch.equal(result.video, base[0])
    assert base_weights_digest(reasoner.transformer) == before
    path = save_lora(result.lora_state, result.lora_spec, tmp_path / "out")
    assert path.name == LORA_FILE

    # a fresh pipeline loads it with diffusers' own Wan LoRA loader and reproduces the output
    pipe = DiffusionPipeline.from_pretrained(str(wan_dir), local_files_only=True)
    pipe.load_lora_weights(str(tmp_path / "out"), weight_name=LORA_FILE, adapter_name="reused")
    reloaded = WanReasoner(pipe)
    again = reloaded.sample(task, seed=result.final["seed"], num_steps=2)
    assert torch.allclose(again[0], result.video, atol=1e-5)
