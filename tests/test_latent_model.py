"""The object-centric embedded model: encoder, soft/hard renders, latent shapes, LoRA, weights."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rulec import frames
from rulec.runtime.models import clips

from rulec.runtime.models.latent import network as latent_model

from rulec.runtime.models.latent import render as latent_render

from rulec.runtime.models.latent import scene as latent_scene

from rulec.runtime.tasks import world
from rulec.runtime.models.latent.reasoner import LatentReasoner
from rulec.runtime.models.latent.train import clip_example, loss_fn, training_batch
from rulec.runtime.optimize.lora import LoRASpec, attach_lora, base_weights_digest, detach_lora, lora_parameters
from rulec.runtime.optimize.reasoner import TaskInput
from rulec.runtime.models.weights import ModelLoadError

SMALL = latent_model.LatentConfig(num_layers=1, num_attention_heads=2, attention_head_dim=8, ffn_dim=32, text_dim=16)


def scene_image(size: int = 32) -> np.ndarray:
    """White background, two black wall bars, a green 6x6 pad, a red disc."""
    img = world.blank(size)
    img = world.paint(img, world.rect_mask(size, 10, 0, 12, 20), "black")
    img = world.paint(img, world.rect_mask(size, 20, 12, 22, 32), "black")
    img = world.paint(img, world.rect_mask(size, 24, 2, 30, 8), "green")
    return world.paint(img, world.disc_mask(size, 4.5, 25.5), "red")


def as_task(img: np.ndarray, caption: str = "") -> TaskInput:
    return TaskInput.from_image(img, caption, 16)


def zero_latent(scene, frames=16) -> torch.Tensor:
    k = scene["masks"].shape[1]
    return latent_render.latent_from_px(torch.zeros(1, frames, k), torch.zeros(1, frames, k), tuple(scene["masks"].shape[-2:]))


def encoded_with_slot(img: np.ndarray, name: str):
    """The batched scene of ``img``, the slot of the object named ``name``, and the slot count."""
    scene = latent_scene.encode(img)
    stacked = latent_scene.stack([scene])
    return stacked, scene.names.index(name), stacked["masks"].shape[1]


def to_uint8(video: torch.Tensor) -> np.ndarray:
    return frames.to_uint8(video[0])


# ------------------------------------------------------------------ encoder
def test_encoder_finds_background_and_one_object_per_colour():
    scene = latent_scene.encode(scene_image(), "Move the red disc to the green square.")
    assert set(scene.names) == {"black", "green", "red"}  # two wall bars are one object
    assert int(scene.valid.sum()) == 3
    assert torch.equal(scene.background, torch.ones(3, 32, 32))  # everything but white is an object
    subject = [n for n, d in zip(scene.names, scene.descriptors) if d[11] == 1]
    assert subject == ["red"]
    walls = scene.names.index("black")
    assert scene.descriptors[walls, 10] == pytest.approx(0.2)  # two pieces / 10


def test_caption_subject():
    assert latent_scene.caption_subject("Move the blue disc to the green square.") == "blue"
    assert latent_scene.caption_subject("red disc moves up, then left") == "red"
    assert latent_scene.caption_subject("green square") == "green"
    assert latent_scene.caption_subject("") is None


def test_a_pad_under_a_disc_is_completed_and_drawn_below_it():
    img = world.paint(world.blank(), world.rect_mask(32, 8, 8, 16, 16), "green")
    img = world.paint(img, world.disc_mask(32, 8.5, 12.5), "red")  # the disc covers the pad's left edge
    scene = latent_scene.encode(img)
    pad = scene.masks[scene.names.index("green")]
    assert int(pad.sum()) == 64  # the whole 8x8 pad
    assert scene.names.index("green") < scene.names.index("red")
    stacked = latent_scene.stack([scene])
    assert np.array_equal(to_uint8(latent_render.render(stacked, zero_latent(stacked), hard=True))[0], img)


def test_a_maze_cell_is_not_filled_into_the_walls():
    img = world.paint(world.blank(), world.rect_mask(32, 4, 4, 20, 20) & ~world.rect_mask(32, 6, 6, 18, 18), "black")
    img = world.paint(img, world.disc_mask(32, 12.5, 12.5), "red")  # a disc inside an enclosed cell
    scene = latent_scene.encode(img)
    walls = scene.masks[scene.names.index("black")]
    assert int(walls.sum()) == int(world.colour_mask(img, "black").sum())


def test_more_colours_than_slots_keep_the_small_ones_and_leave_the_rest_drawn():
    img = world.blank(32)
    names = list(world.PALETTE)[1:]  # nine colours besides white
    for i, name in enumerate(names):
        img = world.paint(img, world.rect_mask(32, 0, 3 * i, 2 + i, 3 * i + 2), name)
    scene = latent_scene.encode(img)
    assert int(scene.valid.sum()) == latent_scene.MAX_OBJECTS
    assert names[-1] not in scene.names  # the largest stays in the background image
    stacked = latent_scene.stack([scene])
    assert np.array_equal(to_uint8(latent_render.render(stacked, zero_latent(stacked), hard=True))[0], img)


# ------------------------------------------------------------------ renders
def test_hard_render_of_no_motion_is_the_first_frame_at_any_size():
    for size in (32, 48, 64):
        img = scene_image(size)
        stacked = latent_scene.stack([latent_scene.encode(img)])
        video = to_uint8(latent_render.render(stacked, zero_latent(stacked), hard=True))
        assert video.shape == (16, size, size, 3)
        assert (video == img).all()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-8, 8), st.integers(-8, 8)), min_size=3, max_size=3),
       st.lists(st.booleans(), min_size=3, max_size=3))
def test_soft_equals_hard_at_whole_pixel_offsets(offsets, visible):
    stacked = latent_scene.stack([latent_scene.encode(scene_image())])
    k = stacked["masks"].shape[1]
    dx, dy, vis = torch.zeros(1, 16, k), torch.zeros(1, 16, k), torch.ones(1, 16, k)
    for slot, ((ox, oy), v) in enumerate(zip(offsets, visible)):
        dx[0, 1:, slot] = torch.linspace(0, ox, 15).round()
        dy[0, 1:, slot] = torch.linspace(0, oy, 15).round()
        vis[0, 5:, slot] = 1.0 if v else -1.0
    latent = latent_render.latent_from_px(dx, dy, (32, 32), vis)
    soft = latent_render.render(stacked, latent, hard=False)
    hard = latent_render.render(stacked, latent, hard=True)
    assert torch.allclose(soft, hard, atol=1e-5)


def test_hidden_objects_vanish_and_sub_pixel_drift_stays_still():
    img = scene_image()
    stacked, red, k = encoded_with_slot(img, "red")
    vis = torch.ones(1, 16, k)
    vis[0, 8:, red] = -1.0
    dx = torch.zeros(1, 16, k)
    dx[0, 1:, :] = 0.7  # every object drifts 0.7 px: rounds to 1 px, but inside the dead zone
    latent = latent_render.latent_from_px(dx, torch.zeros_like(dx), (32, 32), vis)
    video = to_uint8(latent_render.render(stacked, latent, hard=True))
    assert (video[:8] == img).all()
    red_px = world.colour_mask(video, "red").sum((1, 2))
    assert (red_px[8:] == 0).all() and (red_px[:8] == 21).all()


def test_the_soft_render_draws_still_objects_where_the_saved_video_does():
    """An object that never leaves the dead zone is drawn exactly at its start in both renders
    (a soft, sub-pixel blur of a pad's edges would fail unchanged() on the soft render only),
    and its offset still gets a gradient, so the optimizer can set it moving."""
    img = scene_image()
    stacked, red, k = encoded_with_slot(img, "red")
    dx = torch.zeros(1, 16, k)
    dx[0, 1:, :] = 0.4  # every object drifts by 0.4 px: still
    dx.requires_grad_(True)
    latent = latent_render.latent_from_px(dx, torch.zeros(1, 16, k), (32, 32))
    soft = latent_render.render(stacked, latent, hard=False)
    assert torch.allclose(soft, latent_render.render(stacked, latent.detach(), hard=True), atol=1e-6)
    x = torch.arange(32.0).view(1, 1, 1, 1, 32)
    (soft * x).sum().backward()
    assert torch.isfinite(dx.grad).all() and dx.grad[0, 1:, red].abs().sum() > 0


def test_a_moving_agent_is_drawn_over_walls():
    img = scene_image()
    stacked, red, k = encoded_with_slot(img, "red")
    dx = torch.zeros(1, 16, k)
    dx[0, :, red] = torch.arange(16).float()  # x from 4.5 to 19.5: across the wall at x 10..12
    video = to_uint8(latent_render.render(stacked, latent_render.latent_from_px(dx, torch.zeros_like(dx), (32, 32)), hard=True))
    assert (world.colour_mask(video, "red").sum((1, 2)) == 21).all()


def test_soft_render_gradients_reach_offsets_and_visibility():
    stacked = latent_scene.stack([latent_scene.encode(scene_image())])
    k = stacked["masks"].shape[1]
    dx = torch.full((1, 16, k), 0.3, requires_grad=True)
    vis = torch.full((1, 16, k), 0.5, requires_grad=True)
    video = latent_render.render(stacked, latent_render.latent_from_px(dx, torch.zeros(1, 16, k), (32, 32), vis), hard=False)
    x = torch.arange(32.0).view(1, 1, 1, 1, 32)  # a translation-sensitive loss (a plain sum is shift-invariant)
    (video * x).sum().backward()
    assert torch.isfinite(dx.grad).all() and dx.grad.abs().sum() > 0
    assert torch.isfinite(vis.grad).all() and vis.grad.abs().sum() > 0


# ------------------------------------------------------------------ training data
def test_clip_targets_render_back_to_the_clip():
    """A clip's target latent, hard-rendered over its encoded first frame, is the clip itself,
    except where an object hides most of another in frame 0 (the hidden part cannot be known)."""
    exact = 0
    for seed in range(60):
        clip = clips.make_clip(seed)
        _, _, scene, target = clip_example(seed)
        video = to_uint8(latent_render.render(latent_scene.stack([scene]), target[None], hard=True))
        exact += bool((video == clip.video).all())
        assert (video[0] == clip.video[0]).all()  # frame 0 always
    assert exact >= 54


def test_training_loss_is_finite_and_counts_only_used_slots_after_frame_0(monkeypatch):
    model = latent_model.LatentVGM(SMALL)
    data = training_batch(0, 4, 0)
    loss = loss_fn(model, data, torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    # a prediction that is right on every used slot from frame 1 on, and wild elsewhere, costs nothing
    perfect = data["x0"].clone()
    perfect[:, :, 0] = 50.0
    perfect[(~data["valid"]).view(4, 1, 1, 1, -1).expand_as(perfect)] = 99.0
    monkeypatch.setattr(model, "denoise", lambda *args: perfect)
    assert loss_fn(model, data, torch.Generator().manual_seed(0)) == 0


# ------------------------------------------------------------------ reasoner
def test_generate_gives_latent_and_video_of_the_task_size():
    r = LatentReasoner.random_init(0, SMALL)
    for size in (32, 64):
        out = r.generate(as_task(scene_image(size), "red disc moves right"), seed=0, num_steps=2)
        assert out.latent.shape == (1, 3, 16, 1, latent_scene.MAX_OBJECTS)
        assert out.video.shape == (1, 16, 3, size, size)
        assert torch.equal(out.video[0, 0], as_task(scene_image(size)).first_frame)
    a = r.sample(as_task(scene_image()), seed=3, num_steps=2)
    b = r.sample(as_task(scene_image()), seed=3, num_steps=2)
    assert torch.equal(a, b)


def test_lora_gets_gradients_through_the_soft_render_and_base_weights_stay():
    r = LatentReasoner.random_init(0, SMALL)
    before = base_weights_digest(r.transformer)
    name = attach_lora(r.transformer, LoRASpec(rank=2, alpha=2.0, target_modules=r.default_lora_targets))
    params = lora_parameters(r.transformer, name)
    video = r.sample(as_task(scene_image()), seed=0, num_steps=2, grad_steps=1, final=False)
    video.mean().backward()
    grads = [p.grad for p in params if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads) and any(g.abs().sum() > 0 for g in grads)
    torch.optim.SGD(params, lr=1.0).step()  # the adapter changes ...
    assert base_weights_digest(r.transformer) == before  # ... the base weights never do
    detach_lora(r.transformer, name)
    assert base_weights_digest(r.transformer) == before


def test_weights_round_trip_and_clear_errors(tmp_path):
    r = LatentReasoner.random_init(2, SMALL)
    latent_model.save(r.model, tmp_path)
    back = LatentReasoner.load(tmp_path)
    task = as_task(scene_image(), "red disc moves up")
    assert torch.equal(r.sample(task, seed=1, num_steps=2), back.sample(task, seed=1, num_steps=2))
    with pytest.raises(ModelLoadError, match="not found"):
        LatentReasoner.load(tmp_path / "nope")
    (tmp_path / f"{latent_model.STEM}.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelLoadError, match="safetensors"):
        LatentReasoner.load(tmp_path)
    (tmp_path / f"{latent_model.STEM}.json").write_text("{")
    with pytest.raises(ModelLoadError, match="JSON"):
        LatentReasoner.load(tmp_path)


def test_load_reasoner_names_and_paths(tmp_path):
    from rulec.runtime.models.load import ReasonerLoadError, load_reasoner
    from rulec.runtime.models.pixel.reasoner import ToyReasoner

    latent_model.save(LatentReasoner.random_init(0, SMALL).model, tmp_path / "lat")
    assert isinstance(load_reasoner(tmp_path / "lat"), LatentReasoner)
    assert isinstance(load_reasoner("pixel"), ToyReasoner)
    with pytest.raises(ReasonerLoadError, match="does not exist"):
        load_reasoner(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReasonerLoadError, match="neither a Wan"):
        load_reasoner(tmp_path / "empty")


def test_tto_judges_each_step_on_the_saved_render_at_no_extra_cost():
    from rulec import compile_rules
    from rulec.runtime.optimize.config import RunConfig
    from rulec.runtime.optimize.tto import optimize

    r = LatentReasoner.random_init(0, SMALL)
    task = as_task(scene_image(), "Move the red disc.")
    reward = compile_rules('object agent = color("#e53935")\ngoal one : at start present(agent)\n', num_frames=16).to_reward()
    cfg = RunConfig(max_steps=3, sample_steps=2, grad_steps=1, screen=0)  # the loop itself, not screening
    result = optimize(r, task, reward, cfg)
    assert result.stopped_because == "passed" and result.steps == 0
    assert result.evaluations == r.evaluations(2, 1)  # the step's own sample, no confirming re-sample
    saved = r.sample(task, seed=cfg.seed, num_steps=2, final=True)[0]
    assert torch.equal(result.video, saved)
