"""A fresh peft LoRA on a frozen diffusers transformer: attach, read, save, detach.

Test-time optimization trains one adapter per task instance and nothing else, so this
module keeps the adapter's life cycle in one place: the base weights are frozen before the
adapter is added and are never written to; the adapter is saved in the diffusers LoRA
format (``transformer.<module>.lora_A.weight`` keys plus the LoRA config as safetensors
metadata) so that ``WanImageToVideoPipeline.load_lora_weights`` can reuse it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import torch

#: the file name a run writes its adapter to
LORA_FILE = "lora.safetensors"

_adapter_ids = itertools.count()


@dataclass(frozen=True)
class LoRASpec:
    """The shape of the adapter: rank, scale (alpha) and which Linear modules it wraps.

    ``alpha`` left out is the rank (peft scales the update by alpha / rank: a scale of 1,
    so the learning rate means the same at every rank); it is decided here only."""

    rank: int = 4
    alpha: float | None = None
    target_modules: tuple[str, ...] = ("to_q", "to_k", "to_v", "to_out.0")
    init_seed: int = 0

    def __post_init__(self) -> None:
        if self.rank < 1:
            raise ValueError(f"LoRA rank must be at least 1, got {self.rank}")
        if self.alpha is None:
            object.__setattr__(self, "alpha", float(self.rank))

    def to_peft(self):
        from peft import LoraConfig

        return LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            target_modules=list(self.target_modules),
            init_lora_weights=True,  # B = 0: the adapter starts as the identity
        )


def attach_lora(transformer: torch.nn.Module, spec: LoRASpec) -> str:
    """Freeze ``transformer`` and add a new, active LoRA to it; returns the adapter's name.

    Each call makes a new adapter name, so an instance never sees an earlier instance's
    adapter. Only the new adapter's parameters require gradients afterwards.
    """
    for p in transformer.parameters():
        p.requires_grad_(False)
    name = f"tto_{next(_adapter_ids)}"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(spec.init_seed)  # A's random init is reproducible per run
        try:
            transformer.add_adapter(spec.to_peft(), adapter_name=name)
        except ValueError as err:  # peft: "Target modules {...} not found in the base model"
            raise ValueError(f"cannot attach a LoRA: {err}") from None
    transformer.set_adapter(name)
    for pname, p in transformer.named_parameters():
        p.requires_grad_(f".{name}." in pname)
    return name


def detach_lora(transformer: torch.nn.Module, name: str) -> None:
    """Remove the adapter; the transformer computes exactly the base model again."""
    transformer.delete_adapters(name)


def lora_parameters(transformer: torch.nn.Module, name: str) -> list[torch.nn.Parameter]:
    """The trainable tensors of one adapter (its A and B matrices)."""
    return [p for pname, p in transformer.named_parameters() if f".{name}." in pname]


def lora_state_dict(transformer: torch.nn.Module, name: str) -> dict[str, torch.Tensor]:
    """The adapter's weights in peft's key format (``blocks.0.attn1.to_q.lora_A.weight``), copied."""
    from peft import get_peft_model_state_dict

    state = get_peft_model_state_dict(transformer, adapter_name=name)
    return {k: v.detach().clone() for k, v in state.items()}


def load_lora_state(transformer: torch.nn.Module, name: str, state: dict[str, torch.Tensor]) -> None:
    """Write a state from :func:`lora_state_dict` back into the adapter (e.g. undo a bad step)."""
    from peft import set_peft_model_state_dict

    with torch.no_grad():
        result = set_peft_model_state_dict(transformer, state, adapter_name=name)
    unexpected = getattr(result, "unexpected_keys", None)
    if unexpected:
        raise ValueError(f"adapter state has keys the model does not: {unexpected[:3]}")


def save_lora(state: dict[str, torch.Tensor], spec: LoRASpec, folder: str | Path) -> Path:
    """Save an adapter as ``folder/lora.safetensors`` in the diffusers Wan LoRA format."""
    from diffusers.loaders.lora_pipeline import WanLoraLoaderMixin

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "r": spec.rank,
        "lora_alpha": spec.alpha,
        "target_modules": list(spec.target_modules),
    }
    WanLoraLoaderMixin.save_lora_weights(
        folder,
        transformer_lora_layers={k: v.contiguous() for k, v in state.items()},
        weight_name=LORA_FILE,
        transformer_lora_adapter_metadata=metadata,
    )
    return folder / LORA_FILE


def base_weights_digest(transformer: torch.nn.Module) -> str:
    """SHA-256 over the base (non-LoRA) weights, named as in the unadapted model.

    peft renames a wrapped Linear's weight to ``….base_layer.weight``; the digest strips
    that so it is comparable before, during and after an adapter's life.
    """
    h = hashlib.sha256()
    names = []
    for pname, tensor in transformer.state_dict().items():
        if "lora_" in pname:
            continue
        names.append((pname.replace(".base_layer", ""), tensor))
    for pname, tensor in sorted(names, key=lambda item: item[0]):
        h.update(pname.encode())
        h.update(json.dumps([str(tensor.dtype), list(tensor.shape)]).encode())
        h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
