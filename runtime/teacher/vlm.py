"""Load a local transformers VLM (model, tokenizer, image processor) and build its chat inputs.

Everything loads from a folder with ``local_files_only=True`` and through safetensors. The
full ``AutoProcessor`` is used when it loads; some processors (Qwen2-VL's, in transformers 5
without torchvision) cannot, and then a Qwen-style builder takes over: the chat template
from the tokenizer, one ``<|image_pad|>`` expanded to as many tokens as the image has merged
patches, pixels from :class:`rulec.runtime.models.vqa.TorchImagePreprocessor`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class VLMLoadError(Exception):
    """A VLM folder that is missing or does not hold a usable model."""


@dataclass
class LocalVLM:
    """A frozen VLM with what it needs to read text and images."""

    model: Any
    tokenizer: Any
    image_processor: Any
    processor: Any | None  # the full AutoProcessor, when it could be loaded
    path: Path | None = None

    @property
    def image_token(self) -> str:
        return getattr(self.tokenizer, "image_token", None) or "<|image_pad|>"

    @property
    def image_token_id(self) -> int:
        return int(self.model.config.image_token_id)


def load_local_vlm(path: str | Path, *, dtype=None, device: str = "cpu") -> LocalVLM:
    """``AutoModelForImageTextToText`` + tokenizer + image processor from a local folder, frozen and in eval mode."""
    folder = Path(path)
    if not folder.is_dir():
        raise VLMLoadError(f"{folder}: no such folder (expected a local VLM checkpoint: config.json, *.safetensors, tokenizer)")
    if not (folder / "config.json").is_file():
        raise VLMLoadError(f"{folder}: not a model folder (config.json is missing)")
    if not any(folder.glob("*.safetensors")):
        raise VLMLoadError(f"{folder}: no *.safetensors weights (only safetensors are loaded)")

    from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    kwargs = {"local_files_only": True}
    try:
        model = AutoModelForImageTextToText.from_pretrained(folder, use_safetensors=True, dtype=dtype, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        image_processor = AutoImageProcessor.from_pretrained(folder, **kwargs)
    except (OSError, ValueError, KeyError, ImportError) as err:
        raise VLMLoadError(f"{folder}: could not load the VLM: {_first_line(err)}") from err
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = _processor_chat_template(folder)
    try:
        processor = AutoProcessor.from_pretrained(folder, **kwargs)
    except (OSError, ValueError, KeyError, ImportError, TypeError, AttributeError):
        processor = None  # the Qwen-style builder stands in (see module docstring)
    model = model.to(device).eval()
    model.requires_grad_(False)
    return LocalVLM(model=model, tokenizer=tokenizer, image_processor=image_processor, processor=processor, path=folder)


def _processor_chat_template(folder: Path) -> str | None:
    """The chat template some checkpoints keep beside the processor rather than in the tokenizer."""
    import json

    jinja, as_json = folder / "chat_template.jinja", folder / "chat_template.json"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    if as_json.is_file():
        try:
            template = json.loads(as_json.read_text(encoding="utf-8")).get("chat_template")
        except (ValueError, AttributeError):
            return None
        return template if isinstance(template, str) else None
    return None


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def expand_image_tokens(text: str, image_token: str, tokens_per_image: list[int]) -> str:
    """Replace the i-th ``image_token`` in ``text`` by ``tokens_per_image[i]`` copies of it."""
    pieces = text.split(image_token)
    if len(pieces) - 1 != len(tokens_per_image):
        raise ValueError(f"the chat text has {len(pieces) - 1} image placeholders for {len(tokens_per_image)} images")
    out = [pieces[0]]
    for count, piece in zip(tokens_per_image, pieces[1:]):
        out.append(image_token * count + piece)
    return "".join(out)
