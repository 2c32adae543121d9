"""Which video model a command drives: one name or path -> a loaded :class:`Reasoner`.

``latent`` (the default) is the embedded object-centric model, ``pixel`` the embedded
pixel-space model; a path is a Wan 2.x diffusers folder (it holds ``model_index.json``)
or a folder / ``.safetensors`` file of either embedded model. One function, so
``rulec run``, ``rulec bench``, ``rulec toy sample`` and the benchmarks choose alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below are read by command-line modules that must not import torch
    from rulec.runtime.optimize.reasoner import Reasoner

EMBEDDED = ("latent", "pixel")
DEFAULT = "latent"


class ReasonerLoadError(ValueError):
    """The model name or path cannot be loaded (the message says which and why)."""


def _embedded_kind(path: Path) -> str:
    from rulec.runtime.models.latent import network as latent_model
    from rulec.runtime.models.pixel import network as toy_model

    for kind, stem in (("latent", latent_model.STEM), ("pixel", toy_model.STEM)):
        if (path / f"{stem}.safetensors").exists() or path.name == f"{stem}.safetensors":
            return kind
    raise ReasonerLoadError(
        f"{path}: neither a Wan diffusers folder (model_index.json) nor embedded-model weights "
        f"({latent_model.STEM}.safetensors or {toy_model.STEM}.safetensors)"
    )


def load_reasoner(model: str | Path | None = None) -> Reasoner:
    """``None``/``"latent"``/``"pixel"`` or a path; raises :class:`ReasonerLoadError`."""
    from rulec.runtime.models.weights import ModelLoadError

    name = DEFAULT if model is None else str(model)
    path = None
    if name not in EMBEDDED:
        path = Path(name)
        if not path.exists():
            raise ReasonerLoadError(f"model path does not exist: {path} (or name one of: {', '.join(EMBEDDED)})")
        if (path / "model_index.json").is_file():
            from rulec.runtime.models.wan import WanLoadError, WanReasoner

            try:
                return WanReasoner.from_pretrained(path)
            except WanLoadError as err:
                raise ReasonerLoadError(str(err)) from None
        name = _embedded_kind(path)
    try:
        if name == "latent":
            from rulec.runtime.models.latent.reasoner import LatentReasoner

            return LatentReasoner.load(path)
        from rulec.runtime.models.pixel.reasoner import ToyReasoner

        return ToyReasoner.load(path)
    except ModelLoadError as err:
        raise ReasonerLoadError(f"cannot load the model: {err}") from None
