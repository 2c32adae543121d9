"""The embedded toy VGM behind the Reasoner interface: sampling, conditioning, gradients."""

import pytest
import torch

from rulec.runtime.models import clips

from rulec.runtime.models.pixel import network as toy_model
from rulec.runtime.optimize.reasoner import Reasoner, TaskInput
from rulec.runtime.models.pixel.network import ToyModelError
from rulec.runtime.models.pixel.reasoner import ToyReasoner


@pytest.fixture(scope="module")
def reasoner():
    torch.set_num_threads(1)
    return ToyReasoner.random_init(seed=0)


@pytest.fixture(scope="module")
def task():
    return TaskInput.from_image(clips.make_clip(3).video[0], "red disc moves right")


def test_is_a_reasoner_with_a_diffusers_transformer(reasoner):
    from diffusers import WanTransformer3DModel
    from diffusers.loaders.peft import PeftAdapterMixin

    assert isinstance(reasoner, Reasoner)
    assert isinstance(reasoner.transformer, WanTransformer3DModel)
    assert isinstance(reasoner.transformer, PeftAdapterMixin)
    assert not any(p.requires_grad for p in reasoner.model.parameters())  # frozen base


def test_random_init_is_seeded():
    a, b, c = (ToyReasoner.random_init(seed=s) for s in (1, 1, 2))
    pa, pb, pc = (next(r.transformer.parameters()) for r in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_two_step_sample_is_deterministic_per_seed(reasoner, task):
    a = reasoner.sample(task, seed=5, num_steps=2)
    b = reasoner.sample(task, seed=5, num_steps=2)
    c = reasoner.sample(task, seed=6, num_steps=2)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_shape_range_and_first_frame(reasoner, task):
    v = reasoner.sample(task, seed=0, num_steps=2, batch_size=3)
    assert v.shape == (3, 16, 3, 32, 32)
    assert v.min() >= 0 and v.max() <= 1
    for b in range(3):
        assert torch.allclose(v[b, 0], task.first_frame, atol=1e-5)
    assert not torch.equal(v[0], v[1])  # batch members get different noise


def test_empty_and_free_form_captions_work(reasoner, task):
    for text in ("", "Move the red disc to the green pad!"):
        v = reasoner.sample(TaskInput(task.first_frame, caption=text), seed=0, num_steps=2)
        assert v.shape == (1, 16, 3, 32, 32) and torch.isfinite(v).all()


def test_tokenizer_keeps_only_vocabulary_words():
    vocab = toy_model.VOCAB
    ids = toy_model.tokenize("Move the red disc up, then left-ish", vocab, 8)
    assert [vocab[i] for i in ids if i] == ["red", "disc", "up", "then"]
    assert toy_model.tokenize("", vocab, 4) == [0, 0, 0, 0]


@pytest.mark.parametrize("num_steps,grad_steps", [(4, 0), (4, 1), (4, 4)])
def test_autograd_records_only_the_last_grad_steps(reasoner, task, num_steps, grad_steps):
    seen = []
    hook = reasoner.transformer.register_forward_hook(lambda *a: seen.append(torch.is_grad_enabled()))
    try:
        reasoner.sample(task, seed=0, num_steps=num_steps, grad_steps=grad_steps)
    finally:
        hook.remove()
    assert seen == [False] * (num_steps - grad_steps) + [True] * grad_steps


def test_lora_gets_gradients_through_the_sampler(task):
    from peft import LoraConfig

    r = ToyReasoner.random_init(seed=0)
    r.transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=list(r.default_lora_targets)))
    lora = [p for n, p in r.transformer.named_parameters() if "lora_" in n]
    assert lora and all(p.requires_grad for p in lora)
    v = r.sample(task, seed=0, num_steps=3, grad_steps=1)
    assert v.requires_grad
    v[:, 1:].mean().backward()
    grads = [p.grad for p in lora if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    assert all(torch.isfinite(g).all() for g in grads)
    base = [p for n, p in r.transformer.named_parameters() if "lora_" not in n]
    assert all(p.grad is None for p in base)


def test_no_grad_steps_gives_no_graph(reasoner, task):
    assert not reasoner.sample(task, seed=0, num_steps=2).requires_grad


def test_bad_inputs_are_clear_errors(reasoner, task):
    with pytest.raises(ValueError, match="first frame"):
        reasoner.sample(TaskInput(torch.zeros(3, 64, 64)), seed=0, num_steps=2)
    with pytest.raises(ValueError, match="grad_steps"):
        reasoner.sample(task, seed=0, num_steps=2, grad_steps=3)


def test_missing_and_invalid_weights_are_clear_errors(tmp_path):
    with pytest.raises(ToyModelError, match="not found"):
        ToyReasoner.load(tmp_path / "nope")
    toy_model.save(ToyReasoner.random_init().model, tmp_path)
    (tmp_path / toy_model.WEIGHTS_FILE).write_bytes(b"not safetensors")
    with pytest.raises(ToyModelError, match="safetensors"):
        ToyReasoner.load(tmp_path)
    (tmp_path / toy_model.CONFIG_FILE).write_text("{")
    with pytest.raises(ToyModelError, match="JSON"):
        ToyReasoner.load(tmp_path)


def test_save_load_round_trip(tmp_path, task):
    r = ToyReasoner.random_init(seed=3)
    toy_model.save(r.model, tmp_path)
    back = ToyReasoner.load(tmp_path)
    assert torch.equal(r.sample(task, seed=1, num_steps=2), back.sample(task, seed=1, num_steps=2))


def test_classifier_free_guidance_moves_captioned_samples_only(reasoner, task):
    from rulec.runtime.models.pixel.reasoner import sample_videos

    first = task.first_frame[None]
    with torch.no_grad():
        plain = sample_videos(reasoner.model, first, [task.caption], seed=1, num_steps=2, num_frames=4)
        guided = sample_videos(reasoner.model, first, [task.caption], seed=1, num_steps=2, num_frames=4, guidance=3.0)
        empty = sample_videos(reasoner.model, first, [""], seed=1, num_steps=2, num_frames=4)
        empty_guided = sample_videos(reasoner.model, first, [""], seed=1, num_steps=2, num_frames=4, guidance=3.0)
    assert (guided - plain).abs().max() > 1e-3  # the caption's pull is amplified
    assert torch.allclose(empty_guided, empty, atol=1e-5)  # nothing to amplify without a caption
    assert torch.equal(guided[:, 0], plain[:, 0])  # the first frame is still the task image
    with pytest.raises(ValueError, match="guidance"):
        sample_videos(reasoner.model, first, [task.caption], seed=1, num_steps=2, guidance=0.0)
