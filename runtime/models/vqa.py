"""The ``ask("question")`` atom: a VLM's yes/no margin on video frames, differentiable in the pixels.

This is the paper's VQA reward as one atom of the rules language: ``logit(yes) - logit(no)``
of a frozen transformers VLM looking at a subsample of the frames. The VLM's own image
processor works in numpy/PIL (no gradient), so :class:`TorchImagePreprocessor` redoes its
steps in torch: smart resize (bicubic, antialiased, as PIL), rescale, normalize, patchify
into the Qwen2-VL flat patch layout. Qwen2-VL and Qwen2.5-VL checkpoints are supported.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_RESAMPLE = {0: "nearest", 2: "bilinear", 3: "bicubic"}  # PIL resampling codes


def smart_resize(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """Qwen2-VL's target size: sides divisible by ``factor``, area within [min_pixels, max_pixels], aspect kept."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as qwen_smart_resize

    return qwen_smart_resize(height, width, factor=factor, min_pixels=min_pixels, max_pixels=max_pixels)


class TorchImagePreprocessor:
    """Qwen2-VL image preprocessing in torch, so gradients reach the pixels.

    ``frames (N, 3, H, W)`` in [0, 1] -> ``pixel_values (N * gh * gw, 3 * tp * p * p)`` and
    ``image_grid_thw (N, 3)`` = ``[1, gh, gw]`` per frame, matching the image processor's output.
    """

    def __init__(
        self,
        *,
        patch_size: int = 14,
        merge_size: int = 2,
        temporal_patch_size: int = 2,
        image_mean=(0.48145466, 0.4578275, 0.40821073),
        image_std=(0.26862954, 0.26130258, 0.27577711),
        min_pixels: int = 56 * 56,
        max_pixels: int = 28 * 28 * 1280,
        resample: int = 3,
    ):
        if resample not in _RESAMPLE:
            raise ValueError(f"unsupported resampling {resample} (supported PIL codes: {sorted(_RESAMPLE)})")
        self.patch_size = patch_size
        self.merge_size = merge_size
        self.temporal_patch_size = temporal_patch_size
        self.mean = torch.tensor(image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(image_std, dtype=torch.float32).view(1, 3, 1, 1)
        self.min_pixels = min_pixels
        self.max_pixels = max_pixels
        self.mode = _RESAMPLE[resample]

    @classmethod
    def from_image_processor(cls, processor, *, min_pixels: int | None = None, max_pixels: int | None = None):
        """Read sizes, statistics and resampling from a Qwen2-VL image processor (PIL or torchvision backend)."""
        size = processor.size
        get = (lambda k: size.get(k)) if isinstance(size, dict) else (lambda k: getattr(size, k, None))
        return cls(
            patch_size=processor.patch_size,
            merge_size=processor.merge_size,
            temporal_patch_size=processor.temporal_patch_size,
            image_mean=tuple(processor.image_mean),
            image_std=tuple(processor.image_std),
            min_pixels=min_pixels or get("shortest_edge") or get("min_pixels") or 56 * 56,
            max_pixels=max_pixels or get("longest_edge") or get("max_pixels") or 28 * 28 * 1280,
            resample=int(getattr(processor, "resample", 3)),
        )

    def target_size(self, height: int, width: int) -> tuple[int, int]:
        return smart_resize(height, width, self.patch_size * self.merge_size, self.min_pixels, self.max_pixels)

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """Patches per column and row after resizing."""
        rh, rw = self.target_size(height, width)
        return rh // self.patch_size, rw // self.patch_size

    def resize(self, frames: Tensor) -> Tensor:
        rh, rw = self.target_size(*frames.shape[-2:])
        if (rh, rw) == tuple(frames.shape[-2:]):
            return frames
        if self.mode == "nearest":
            return F.interpolate(frames, size=(rh, rw), mode="nearest-exact")
        # PIL resamples horizontally, then vertically, clipping to the pixel range after each
        # pass (it stores 8-bit values in between): the same two passes here, without rounding.
        h, w = frames.shape[-2:]
        if rw != w:
            frames = F.interpolate(frames, size=(h, rw), mode=self.mode, align_corners=False, antialias=True).clamp(0.0, 1.0)
        if rh != h:
            frames = F.interpolate(frames, size=(rh, rw), mode=self.mode, align_corners=False, antialias=True).clamp(0.0, 1.0)
        return frames

    def __call__(self, frames: Tensor) -> tuple[Tensor, Tensor]:
        if frames.dim() != 4 or frames.shape[1] != 3:
            raise ValueError(f"expected frames (N, 3, H, W), got {tuple(frames.shape)}")
        frames = self.resize(frames.float())
        frames = (frames - self.mean.to(frames.device)) / self.std.to(frames.device)
        n, c, h, w = frames.shape
        p, m, tp = self.patch_size, self.merge_size, self.temporal_patch_size
        gh, gw = h // p, w // p
        patches = frames.reshape(n, c, gh // m, m, p, gw // m, m, p).permute(0, 2, 5, 3, 6, 1, 4, 7)
        patches = patches.unsqueeze(6).expand(-1, -1, -1, -1, -1, -1, tp, -1, -1)
        pixel_values = patches.reshape(n * gh * gw, c * tp * p * p)
        grid_thw = torch.tensor([[1, gh, gw]] * n, dtype=torch.long, device=frames.device)
        return pixel_values, grid_thw


def sample_frames(num_frames: int, count: int) -> tuple[Tensor, Tensor]:
    """Evenly spaced frame indices (first and last included) and, for every frame, the sample that stands for it.

    Returns ``(indices (K,), owner (T,))`` where ``owner[t]`` is the position in ``indices``
    of the nearest sampled frame: each sample's value is held over the frames it represents.
    """
    if count < 1:
        raise ValueError("frames must be >= 1")
    k = min(count, num_frames)
    indices = torch.linspace(0, num_frames - 1, k).round().long().unique()
    owner = (torch.arange(num_frames)[:, None] - indices[None, :]).abs().argmin(dim=1)
    return indices, owner


class VQAScorer(nn.Module):
    """``margin(video, question)``: logit(yes) - logit(no) of a frozen VLM, per frame, differentiable in the pixels."""

    def __init__(
        self,
        model: nn.Module,
        tokenizer,
        image_processor,
        *,
        frames: int = 4,
        yes: str = "Yes",
        no: str = "No",
        template: str = "{question} Answer yes or no.",
        cache_text: bool = True,
        min_pixels: int | None = None,
        max_pixels: int | None = None,
        scale: float = 1.0,
    ):
        super().__init__()
        if not scale > 0:
            raise ValueError("scale must be > 0")
        self.scale = float(scale)  # margins are divided by it (logit units -> the ~1 scale of other atoms)
        self.model = model.eval()
        self.model.requires_grad_(False)
        self.tokenizer = tokenizer
        self.preprocess = TorchImagePreprocessor.from_image_processor(image_processor, min_pixels=min_pixels, max_pixels=max_pixels)
        self.frames = frames
        self.template = template
        self.cache_text = cache_text
        self.image_token = getattr(tokenizer, "image_token", None) or "<|image_pad|>"
        self.image_token_id = int(model.config.image_token_id)
        self.yes_id = self._single_token(yes)
        self.no_id = self._single_token(no)
        self._text_cache: dict[tuple[str, int], Tensor] = {}

    @classmethod
    def from_pretrained(cls, path: str | Path, *, frames: int = 4, dtype=None, device: str = "cpu", **kwargs) -> VQAScorer:
        """Load a local Qwen2-VL / Qwen2.5-VL folder (safetensors, ``local_files_only``); a clear error if unusable."""
        from rulec.runtime.teacher.vlm import load_local_vlm

        vlm = load_local_vlm(path, dtype=dtype, device=device)
        return cls(vlm.model, vlm.tokenizer, vlm.image_processor, frames=frames, **kwargs)

    @classmethod
    def from_model(cls, model: nn.Module, processor=None, *, tokenizer=None, image_processor=None, **kwargs) -> VQAScorer:
        """Wrap an already-built VLM and its processor (or its tokenizer and image processor)."""
        tokenizer = tokenizer or getattr(processor, "tokenizer", None)
        image_processor = image_processor or getattr(processor, "image_processor", None)
        if tokenizer is None or image_processor is None:
            raise ValueError("VQAScorer needs the VLM's tokenizer and image processor (pass a processor, or both)")
        return cls(model, tokenizer, image_processor, **kwargs)

    def train(self, mode: bool = True) -> VQAScorer:
        """The VLM stays in eval mode whatever the enclosing module does (no dropout in a reward)."""
        super().train(mode)
        self.model.eval()
        return self

    def _single_token(self, word: str) -> int:
        ids = self.tokenizer(word, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ValueError(f"the answer word {word!r} is {len(ids)} tokens for this tokenizer; pick a single-token word")
        return int(ids[0])

    def prompt_ids(self, question: str, image_tokens: int) -> Tensor:
        """Token ids of the chat turn (image placeholders expanded), cached per (question, image size)."""
        key = (question, image_tokens)
        if self.cache_text and key in self._text_cache:
            return self._text_cache[key]
        from rulec.runtime.teacher.vlm import expand_image_tokens

        content = [{"type": "image"}, {"type": "text", "text": self.template.format(question=question)}]
        conversation = [{"role": "user", "content": content}]
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        else:
            text = f"<|vision_start|>{self.image_token}<|vision_end|>{self.template.format(question=question)}"
        text = expand_image_tokens(text, self.image_token, [image_tokens])
        ids = torch.tensor(self.tokenizer(text, add_special_tokens=False)["input_ids"], dtype=torch.long)
        if int((ids == self.image_token_id).sum()) != image_tokens:
            raise ValueError("the tokenizer split the image placeholder; is this a Qwen2-VL-family checkpoint?")
        if self.cache_text:
            self._text_cache[key] = ids
        return ids

    def margin(self, video: Tensor, question: str) -> Tensor:
        """``video (B, T, 3, H, W)`` in [0, 1] -> ``(B, T)`` margins, each sampled frame's value held over its frames."""
        if video.dim() != 5 or video.shape[2] != 3:
            raise ValueError(f"ask() needs a video (B, T, 3, H, W), got {tuple(video.shape)}")
        b, t, _, h, w = video.shape
        indices, owner = sample_frames(t, self.frames)
        indices, owner = indices.to(video.device), owner.to(video.device)
        k = indices.numel()
        frames = video.index_select(1, indices).reshape(b * k, 3, h, w)
        pixel_values, grid_thw = self.preprocess(frames)
        gh, gw = int(grid_thw[0, 1]), int(grid_thw[0, 2])
        ids = self.prompt_ids(question, gh * gw // self.preprocess.merge_size**2).to(video.device)
        input_ids = ids.unsqueeze(0).expand(b * k, -1)
        param = next(self.model.parameters())
        out = self.model(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            mm_token_type_ids=(input_ids == self.image_token_id).int(),
            pixel_values=pixel_values.to(param.dtype),
            image_grid_thw=grid_thw,
            use_cache=False,
            logits_to_keep=1,
        )
        last = out.logits[:, -1].float()
        per_sample = ((last[:, self.yes_id] - last[:, self.no_id]) / self.scale).reshape(b, k)
        return per_sample.index_select(1, owner)
