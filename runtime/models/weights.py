"""Saving and loading the embedded models: safetensors weights plus a JSON config beside them.

One place for what every embedded model does the same way: weights load through
safetensors only (never pickle), a missing or mismatched file is a :class:`ModelLoadError`
that names the file and the reason, and a config is a dataclass read from strict JSON.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Callable, TypeVar

import torch

C = TypeVar("C")

#: Where the shipped weights of the embedded models live (package data).
ASSETS = Path(__file__).resolve().parent / "assets"


class ModelLoadError(Exception):
    """A model's weights or config are missing or invalid (the message says which and why)."""


def config_from_json(cls: type[C], text: str, where: str = "config") -> C:
    """A config dataclass from JSON; tuple fields come back as tuples. Raises :class:`ModelLoadError`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelLoadError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{where}: expected a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ModelLoadError(f"{where}: unknown config keys {sorted(unknown)}")
    try:
        for name, value in data.items():
            default = fields[name].default
            if isinstance(default, tuple) and isinstance(value, list):
                data[name] = tuple(type(default[0])(v) if default else v for v in value)
        return cls(**data)
    except (TypeError, ValueError) as e:
        raise ModelLoadError(f"{where}: invalid config ({e})") from None


def config_to_json(config: Any) -> str:
    data = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}
    return json.dumps(data, indent=2)


def save_model(model: torch.nn.Module, folder: str | Path, stem: str, state_dict: dict[str, torch.Tensor] | None = None) -> None:
    """Write ``<stem>.safetensors`` + ``<stem>.json`` (``state_dict`` overrides, e.g. EMA weights)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sd = state_dict if state_dict is not None else model.state_dict()
    tmp = folder / f"{stem}.safetensors.tmp"
    save_file({k: v.detach().contiguous().cpu() for k, v in sd.items()}, str(tmp))
    tmp.replace(folder / f"{stem}.safetensors")
    (folder / f"{stem}.json").write_text(config_to_json(model.config) + "\n")


def load_model(path: str | Path | None, default_folder: Path, stem: str, config_cls: type[C],
               build: Callable[[C], torch.nn.Module], train_hint: str) -> torch.nn.Module:
    """Load from ``default_folder`` (``path=None``), a folder, or a ``.safetensors`` file with its JSON beside it."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path) if path is not None else default_folder
    weights = p / f"{stem}.safetensors" if p.is_dir() else p
    config_path = weights.with_name(f"{stem}.json")
    if not weights.exists():
        hint = f" (train it with `{train_hint}`)" if path is None else ""
        raise ModelLoadError(f"{weights}: model weights not found{hint}")
    if not config_path.exists():
        raise ModelLoadError(f"{config_path}: model config not found next to the weights")
    config = config_from_json(config_cls, config_path.read_text(), where=str(config_path))
    try:
        sd = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelLoadError(f"{weights}: not a readable safetensors file ({e})") from None
    model = build(config)
    try:
        missing, unexpected = model.load_state_dict(sd, strict=False)
    except RuntimeError as e:  # shape mismatches
        raise ModelLoadError(f"{weights}: weights do not match the config ({str(e).splitlines()[-1].strip()})") from None
    if missing or unexpected:
        raise ModelLoadError(
            f"{weights}: weights do not match the config (missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]})"
        )
    model.eval()
    return model


def num_parameters(model: torch.nn.Module) -> int:
    """The model's parameter count (what the trainers report)."""
    return sum(p.numel() for p in model.parameters())
