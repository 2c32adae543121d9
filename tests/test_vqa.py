"""The ask() atom: torch image preprocessing that matches the VLM's processor, and VQAScorer margins and gradients.

The VLM is a tiny random-init Qwen2-VL built offline (tests/fixtures/teacher/tiny_vlm.py) and saved to a
temporary folder, so it loads through the same from_pretrained path as a real checkpoint.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from rulec.frames import to_float
from rulec.runtime.teacher.vlm import VLMLoadError
from rulec.runtime.models.vqa import TorchImagePreprocessor, VQAScorer, sample_frames

_spec = importlib.util.spec_from_file_location("tiny_vlm", Path(__file__).parent / "fixtures/teacher/tiny_vlm.py")
tiny_vlm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny_vlm)

QUESTION = "is the red disc on the green square ?"


@pytest.fixture(scope="module")
def vlm_dir(tmp_path_factory):
    return tiny_vlm.save(tmp_path_factory.mktemp("tiny-qwen2-vl"))


@pytest.fixture(scope="module")
def scorer(vlm_dir):
    torch.manual_seed(0)
    return VQAScorer.from_pretrained(vlm_dir, frames=3)


def _image(kind: str, h: int, w: int, seed: int = 0) -> np.ndarray:
    if kind == "noise":
        return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = np.full((h, w, 3), 255, np.uint8)
    img[h // 4 : h // 2, w // 4 : w // 2] = (229, 57, 53)
    img[h // 2 :, w // 2 :] = (0, 0, 0)
    return img


def _to_frames(*images: np.ndarray) -> torch.Tensor:
    return to_float(np.stack(images))


# ------------------------------------------------------------------ preprocessing parity
@pytest.mark.parametrize(
    "h, w, min_pixels, max_pixels",
    [(56, 56, 56 * 56, 112 * 112), (32, 32, 56 * 56, 112 * 112), (40, 90, 56 * 56, 56 * 112), (200, 150, 56 * 56, 84 * 84), (32, 32, 224 * 224, 224 * 224)],
)
@pytest.mark.parametrize("kind", ["noise", "blocks"])
def test_torch_preprocessing_matches_the_processor(h, w, min_pixels, max_pixels, kind):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    images = [_image(kind, h, w, seed) for seed in (0, 1)]
    ref = processor(images=images, return_tensors="np")
    pixel_values, grid = TorchImagePreprocessor.from_image_processor(processor)(_to_frames(*images))
    np.testing.assert_array_equal(grid.numpy(), ref["image_grid_thw"])
    # The processor rounds to 8 bits after each resampling pass; we do not (it has no gradient):
    # at most ~1 grey level apart, i.e. 1.25/255 over the smallest std in normalized units.
    resized = (h, w) != TorchImagePreprocessor.from_image_processor(processor).target_size(h, w)
    atol = 1.25 / 255 / min(processor.image_std) if resized else 1e-5
    np.testing.assert_allclose(pixel_values.numpy(), ref["pixel_values"], atol=atol, rtol=0)


def test_preprocessing_is_differentiable():
    pre = TorchImagePreprocessor(min_pixels=56 * 56, max_pixels=56 * 56)
    frames = torch.rand(2, 3, 32, 32, requires_grad=True)
    values, _ = pre(frames)
    values.square().sum().backward()
    assert frames.grad is not None and frames.grad.abs().sum() > 0 and torch.isfinite(frames.grad).all()


def test_sample_frames_hold_the_nearest_sample():
    indices, owner = sample_frames(16, 4)
    assert indices.tolist() == [0, 5, 10, 15]
    assert owner.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3]
    indices, owner = sample_frames(3, 8)  # more samples than frames: every frame once
    assert indices.tolist() == [0, 1, 2] and owner.tolist() == [0, 1, 2]


# ------------------------------------------------------------------ the scorer
def test_margin_is_finite_and_reaches_the_pixels(scorer):
    video = torch.rand(2, 6, 3, 32, 32, requires_grad=True)
    margin = scorer.margin(video, QUESTION)
    assert margin.shape == (2, 6) and torch.isfinite(margin).all()
    margin.sum().backward()
    grad = video.grad.abs().sum(dim=(2, 3, 4))
    sampled = sample_frames(6, 3)[0].tolist()
    assert (grad[:, sampled] > 0).all()  # every sampled frame of every video gets gradient
    others = [t for t in range(6) if t not in sampled]
    assert (grad[:, others] == 0).all()  # frames not looked at get none
    assert all(not p.requires_grad and p.grad is None for p in scorer.model.parameters())
    assert not scorer.model.training


def test_each_sample_is_held_and_scored_independently(scorer):
    video = torch.rand(2, 6, 3, 32, 32)
    with torch.no_grad():
        margin = scorer.margin(video, QUESTION)
        indices, owner = sample_frames(6, 3)
        torch.testing.assert_close(margin, margin[:, indices][:, owner])
        for b in range(2):
            for k, t in enumerate(indices.tolist()):
                alone = scorer.margin(video[b : b + 1, t : t + 1], QUESTION)
                torch.testing.assert_close(alone[0, 0], margin[b, owner.tolist().index(k)], atol=1e-5, rtol=1e-4)


def test_margin_matches_the_processor_path(scorer, vlm_dir):
    """Same logits as feeding the model the image processor's own pixel values."""
    from transformers import AutoImageProcessor

    image = _image("noise", 56, 56)  # no resize: the two paths agree to float precision
    ref = AutoImageProcessor.from_pretrained(vlm_dir, local_files_only=True)(images=[image], return_tensors="pt")
    ids = scorer.prompt_ids(QUESTION, int(ref["image_grid_thw"].prod()) // 4)[None]
    with torch.no_grad():
        logits = scorer.model(
            input_ids=ids, attention_mask=torch.ones_like(ids), mm_token_type_ids=(ids == scorer.image_token_id).int(),
            pixel_values=ref["pixel_values"], image_grid_thw=ref["image_grid_thw"],
        ).logits[0, -1]
        expected = logits[scorer.yes_id] - logits[scorer.no_id]
        got = scorer.margin(_to_frames(image)[None], QUESTION)[0, 0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)


def test_questions_change_the_margin_and_text_is_cached(vlm_dir):
    scorer = VQAScorer.from_pretrained(vlm_dir, frames=2)
    video = torch.rand(1, 4, 3, 32, 32)
    with torch.no_grad():
        a = scorer.margin(video, QUESTION)
        b = scorer.margin(video, "is the blue square on the red disc ?")
        a_again = scorer.margin(video, QUESTION)
    assert not torch.allclose(a, b)
    torch.testing.assert_close(a, a_again)
    assert len(scorer._text_cache) == 2
    assert scorer.prompt_ids(QUESTION, 4) is scorer.prompt_ids(QUESTION, 4)
    uncached = VQAScorer(scorer.model, scorer.tokenizer, tiny_vlm.build()[2], cache_text=False)
    uncached.prompt_ids(QUESTION, 4)
    assert uncached._text_cache == {}


def test_train_mode_keeps_the_vlm_in_eval(scorer):
    wrapper = torch.nn.ModuleDict({"vqa": scorer}).train()
    assert wrapper.training and not scorer.model.training


def test_bad_inputs_are_clear_errors(scorer, tmp_path):
    with pytest.raises(ValueError, match=r"ask\(\) needs a video \(B, T, 3, H, W\)"):
        scorer.margin(torch.rand(4, 3, 32, 32), QUESTION)
    with pytest.raises(ValueError, match="'maybe so' is 2 tokens"):
        VQAScorer(scorer.model, scorer.tokenizer, tiny_vlm.build()[2], yes="maybe so")
    with pytest.raises(VLMLoadError, match="no such folder"):
        VQAScorer.from_pretrained(tmp_path / "absent")
    with pytest.raises(VLMLoadError, match="config.json is missing"):
        VQAScorer.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(VLMLoadError, match="no \\*.safetensors"):
        VQAScorer.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    with pytest.raises(VLMLoadError, match="could not load the VLM"):
        VQAScorer.from_pretrained(tmp_path)


def test_from_model_and_scale(scorer):
    class Processor:  # what a transformers processor exposes
        tokenizer = scorer.tokenizer
        image_processor = tiny_vlm.build()[2]

    halved = VQAScorer.from_model(scorer.model, Processor(), frames=3, scale=2.0)
    video = torch.rand(1, 3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(halved.margin(video, QUESTION), scorer.margin(video, QUESTION) / 2)
    with pytest.raises(ValueError, match="tokenizer and image processor"):
        VQAScorer.from_model(scorer.model, None, tokenizer=scorer.tokenizer)


def test_ask_rule_in_a_compiled_reward(scorer):
    """ask() inside a rule: the reward's loss reaches exactly the frames the VLM looked at."""
    pytest.importorskip("rulec.reward")
    import rulec

    compiled = rulec.compile_rules(f'goal g : eventually ask("{QUESTION}")\n')
    reward = compiled.to_reward(vlm=scorer)
    video = torch.rand(2, 6, 3, 32, 32, requires_grad=True)
    report = reward(video)
    assert torch.isfinite(report.sample_loss).all()
    report.loss.backward()
    grad = video.grad.abs().sum(dim=(2, 3, 4))
    sampled = sample_frames(6, scorer.frames)[0].tolist()
    assert (grad[:, sampled] > 0).all() and (grad[:, [t for t in range(6) if t not in sampled]] == 0).all()
