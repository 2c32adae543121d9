"""The adapter's life cycle: attach, train only it, save in diffusers format, load back."""

from __future__ import annotations

import pytest
import torch
from safetensors import safe_open
from test_tto_support import PixelWanReasoner, task_input

from rulec.runtime.optimize.lora import (
    LORA_FILE,
    LoRASpec,
    attach_lora,
    base_weights_digest,
    detach_lora,
    lora_parameters,
    lora_state_dict,
    save_lora,
)


def test_only_the_adapter_trains_and_detach_restores_the_base():
    reasoner = PixelWanReasoner()
    tr = reasoner.transformer
    digest = base_weights_digest(tr)
    name = attach_lora(tr, LoRASpec(rank=2, alpha=2.0, target_modules=("to_q", "to_v")))
    trainable = [n for n, p in tr.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n and f".{name}." in n for n in trainable)
    assert all(n.rsplit(".", 3)[0].endswith(("to_q", "to_v")) for n in trainable)
    with torch.no_grad():
        for p in lora_parameters(tr, name):
            p.add_(0.1)
    assert base_weights_digest(tr) == digest
    out_adapted = reasoner.sample(task_input(), seed=0, num_steps=2)
    detach_lora(tr, name)
    name2 = attach_lora(tr, LoRASpec(rank=2))
    assert all(float(v.abs().sum()) == 0 for k, v in lora_state_dict(tr, name2).items() if "lora_B" in k)
    detach_lora(tr, name2)
    assert not torch.equal(out_adapted, reasoner.sample(task_input(), seed=0, num_steps=2))


def test_unknown_target_modules_give_a_clear_error():
    with pytest.raises(ValueError, match="cannot attach a LoRA"):
        attach_lora(PixelWanReasoner().transformer, LoRASpec(target_modules=("no_such_proj",)))


def test_saved_file_loads_back_into_a_fresh_model_with_the_same_output(tmp_path):
    from diffusers.loaders.lora_pipeline import WanLoraLoaderMixin

    reasoner = PixelWanReasoner()
    spec = LoRASpec(rank=4, alpha=8.0)
    name = attach_lora(reasoner.transformer, spec)
    with torch.no_grad():
        for p in lora_parameters(reasoner.transformer, name):
            p.normal_(0, 0.05)
    expected = reasoner.sample(task_input(), seed=0, num_steps=2)
    path = save_lora(lora_state_dict(reasoner.transformer, name), spec, tmp_path)
    assert path == tmp_path / LORA_FILE
    with safe_open(str(path), "pt") as f:
        assert all(k.startswith("transformer.") for k in f.keys())

    fresh = PixelWanReasoner()
    state, metadata = WanLoraLoaderMixin.lora_state_dict(str(tmp_path), weight_name=LORA_FILE, return_lora_metadata=True)
    fresh.transformer.load_lora_adapter(state, prefix="transformer", adapter_name="reused", metadata=metadata)
    assert torch.allclose(fresh.sample(task_input(), seed=0, num_steps=2), expected, atol=1e-6)
