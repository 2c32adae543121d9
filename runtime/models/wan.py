"""Wan 2.x from a local diffusers folder, as a :class:`Reasoner` that a LoRA can be optimized on.

The folder is what ``WanImageToVideoPipeline.save_pretrained`` (or a Hub snapshot of
``Wan-AI/Wan2.1-I2V-14B-480P-Diffusers``) holds: ``model_index.json``, ``transformer/``,
``vae/``, ``text_encoder/``, ``tokenizer/``, ``scheduler/`` and, for image-to-video,
``image_encoder/`` and ``image_processor/``. It is loaded with ``local_files_only=True``:
nothing is downloaded.

Sampling is our own few-step flow-matching Euler loop over the pipeline's components (the
pipeline's ``__call__`` runs under ``no_grad``), keeping the autograd graph through the
last K steps only. While optimizing, latents are decoded by a cheap surrogate (a per-task
least-squares linear map from latent channels to RGB); the final video is decoded by the VAE.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from rulec.runtime.optimize.reasoner import Reasoner, TaskInput

SUPPORTED_PIPELINES = ("WanImageToVideoPipeline", "WanPipeline")


class WanLoadError(ValueError):
    """The model folder is missing, is not a Wan diffusers folder, or does not load."""


def check_wan_folder(path: str | Path) -> str:
    """Return the pipeline class name in ``path/model_index.json``; raise :class:`WanLoadError` otherwise."""
    folder = Path(path)
    if not folder.exists():
        raise WanLoadError(f"{folder}: model folder does not exist")
    if not folder.is_dir():
        raise WanLoadError(f"{folder}: expected a diffusers model folder, found a file")
    index = folder / "model_index.json"
    if not index.is_file():
        raise WanLoadError(f"{folder}: not a diffusers model folder (no model_index.json)")
    try:
        meta = json.loads(index.read_text())
    except (OSError, ValueError) as err:
        raise WanLoadError(f"{index}: unreadable model_index.json ({err})") from None
    cls = meta.get("_class_name") if isinstance(meta, dict) else None
    if cls not in SUPPORTED_PIPELINES:
        raise WanLoadError(
            f"{index}: pipeline {cls!r} is not supported; expected one of {', '.join(SUPPORTED_PIPELINES)}"
        )
    if meta.get("transformer_2") not in (None, [None, None]):
        raise WanLoadError(f"{index}: two-expert Wan 2.2 folders (transformer_2) are not supported")
    if meta.get("expand_timesteps"):
        raise WanLoadError(f"{index}: Wan 2.2 TI2V (expand_timesteps) folders are not supported")
    return cls


class LinearLatentDecoder(torch.nn.Module):
    """A latent -> RGB surrogate of the VAE decoder: one linear map per latent cell, upsampled.

    Latent frame 0 is pixel frame 0; latent frame k > 0 covers the next ``temporal_scale``
    pixel frames (Wan's causal VAE layout).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor, spatial_scale: int, temporal_scale: int):
        super().__init__()
        self.register_buffer("weight", weight)  # (3, C)
        self.register_buffer("bias", bias)  # (3,)
        self.spatial_scale = spatial_scale
        self.temporal_scale = temporal_scale

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """(B, C, F, h, w) normalized latents -> (B, T, 3, H, W) in [0, 1]."""
        rgb = torch.einsum("oc,bcfhw->bfohw", self.weight.to(latents.dtype), latents)
        rgb = rgb + self.bias.to(latents.dtype).view(1, 1, 3, 1, 1)
        b, f, _, h, w = rgb.shape
        rgb = F.interpolate(
            rgb.reshape(b * f, 3, h, w), scale_factor=self.spatial_scale, mode="bilinear", align_corners=False
        ).reshape(b, f, 3, h * self.spatial_scale, w * self.spatial_scale)
        repeats = torch.tensor([1] + [self.temporal_scale] * (f - 1), device=rgb.device)
        rgb = torch.repeat_interleave(rgb, repeats, dim=1)
        return rgb.clamp(0.0, 1.0)

    @classmethod
    def fit(cls, latents: torch.Tensor, video: torch.Tensor, spatial_scale: int, temporal_scale: int):
        """Least squares from latent cells to the mean decoded colour of the pixels they cover.

        ``latents`` (B, C, F, h, w); ``video`` (B, T, 3, H, W) in [0, 1], its VAE decode.
        """
        b, c, f, h, w = latents.shape
        first = video[:, :1]
        rest = video[:, 1 : 1 + (f - 1) * temporal_scale]
        rest = rest.reshape(b, f - 1, temporal_scale, 3, *video.shape[-2:]).mean(dim=2)
        target = torch.cat([first, rest], dim=1)  # (B, F, 3, H, W)
        target = F.avg_pool2d(target.flatten(0, 1), spatial_scale).reshape(b, f, 3, h, w)
        x = latents.permute(0, 2, 3, 4, 1).reshape(-1, c).double()
        y = target.permute(0, 1, 3, 4, 2).reshape(-1, 3).double()
        x1 = torch.cat([x, torch.ones_like(x[:, :1])], dim=1)
        ridge = 1e-4 * torch.eye(c + 1, dtype=x1.dtype)
        sol = torch.linalg.solve(x1.T @ x1 + ridge, x1.T @ y)  # (C+1, 3)
        return cls(sol[:c].T.float().contiguous(), sol[c].float().contiguous(), spatial_scale, temporal_scale)


@dataclass(frozen=True)
class _Conditioning:
    prompt_embeds: torch.Tensor
    image_embeds: torch.Tensor | None
    condition: torch.Tensor | None  # (1, 4 + C, F, h, w) mask + first-frame latents (image-to-video)
    surrogate: LinearLatentDecoder


class WanReasoner(Reasoner):
    """A frozen Wan 2.1 (image-to-video or text-to-video) diffusers model behind the Reasoner API."""

    def __init__(
        self,
        pipe,
        *,
        height: int | None = None,
        width: int | None = None,
        shift: float | None = None,
        max_sequence_length: int = 512,
        optimize_decoder: str = "surrogate",
        gradient_checkpointing: bool = False,
        output_task_size: bool = True,
    ):
        if optimize_decoder not in ("surrogate", "vae"):
            raise ValueError(f"optimize_decoder must be 'surrogate' or 'vae', got {optimize_decoder!r}")
        self.pipe = pipe
        self.transformer = pipe.transformer
        self.vae = pipe.vae
        self.height, self.width = height, width
        cfg = dict(pipe.scheduler.config)
        self.shift = float(shift if shift is not None else cfg.get("flow_shift") or cfg.get("shift") or 3.0)
        self.max_sequence_length = max_sequence_length
        self.optimize_decoder = optimize_decoder
        self.output_task_size = output_task_size
        self.spatial_scale = int(self.vae.config.scale_factor_spatial)
        self.temporal_scale = int(self.vae.config.scale_factor_temporal)
        self.z_dim = int(self.vae.config.z_dim)
        self.image_conditioned = self.transformer.config.in_channels > self.z_dim
        for module in (self.transformer, self.vae, pipe.text_encoder, getattr(pipe, "image_encoder", None)):
            if module is not None:
                module.requires_grad_(False)
                module.eval()
        if gradient_checkpointing:
            self.transformer.enable_gradient_checkpointing()
        self._cache: tuple[str, _Conditioning] | None = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, torch_dtype: torch.dtype = torch.float32, cpu_offload: bool = False, **kwargs
    ) -> "WanReasoner":
        """Load a local Wan diffusers folder (never downloads). Raises :class:`WanLoadError`."""
        check_wan_folder(path)
        from diffusers import DiffusionPipeline

        try:
            pipe = DiffusionPipeline.from_pretrained(str(path), local_files_only=True, use_safetensors=True, dtype=torch_dtype)
        except Exception as err:  # diffusers raises OSError/ValueError/EnvironmentError variants
            raise WanLoadError(f"{path}: could not load the Wan pipeline ({type(err).__name__}: {err})") from None
        if cpu_offload and torch.cuda.is_available():
            pipe.enable_model_cpu_offload()
        return cls(pipe, **kwargs)

    # ------------------------------------------------------------------ helpers
    @property
    def device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    def _size(self, task: TaskInput) -> tuple[int, int]:
        unit = self.spatial_scale * int(self.transformer.config.patch_size[1])
        h = self.height or max(unit, task.first_frame.shape[-2] // unit * unit)
        w = self.width or max(unit, task.first_frame.shape[-1] // unit * unit)
        if h % unit or w % unit:
            raise ValueError(f"Wan height and width must be multiples of {unit}, got {h}x{w}")
        return h, w

    def _num_frames(self, task: TaskInput) -> int:
        """Wan generates 4k+1 frames: the smallest such count covering the task's frames."""
        k = max(1, -(-(task.num_frames - 1) // self.temporal_scale))
        return k * self.temporal_scale + 1

    def _encode_text(self, caption: str) -> torch.Tensor:
        tok = self.pipe.tokenizer(
            [re.sub(r"\s+", " ", caption).strip()],
            padding="max_length",
            max_length=self.max_sequence_length,
            truncation=True,
            add_special_tokens=True,
            return_attention_mask=True,
            return_tensors="pt",
        )
        ids, mask = tok.input_ids, tok.attention_mask
        te_device = next(self.pipe.text_encoder.parameters()).device
        embeds = self.pipe.text_encoder(ids.to(te_device), mask.to(te_device)).last_hidden_state
        keep = int(mask.gt(0).sum())
        embeds = embeds[:, :keep]
        pad = embeds.new_zeros(1, self.max_sequence_length - keep, embeds.shape[-1])
        return torch.cat([embeds, pad], dim=1).to(self.device, self.transformer.dtype)

    def _vae_decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalized latents (B, C, F, h, w) -> (B, T, 3, H, W) in [0, 1] via the VAE."""
        cfg = self.vae.config
        mean = torch.tensor(cfg.latents_mean, device=latents.device, dtype=latents.dtype).view(1, -1, 1, 1, 1)
        std = torch.tensor(cfg.latents_std, device=latents.device, dtype=latents.dtype).view(1, -1, 1, 1, 1)
        raw = (latents * std + mean).to(self.vae.dtype)
        video = self.vae.decode(raw, return_dict=False)[0]  # (B, 3, T, H, W) in [-1, 1]
        return ((video.float() + 1.0) / 2.0).clamp(0.0, 1.0).permute(0, 2, 1, 3, 4)

    def _vae_encode(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1] -> normalized latents (argmax of the posterior)."""
        cfg = self.vae.config
        dist = self.vae.encode(video.to(self.vae.dtype)).latent_dist
        lat = dist.mode().float()
        mean = torch.tensor(cfg.latents_mean, device=lat.device).view(1, -1, 1, 1, 1)
        std = torch.tensor(cfg.latents_std, device=lat.device).view(1, -1, 1, 1, 1)
        return (lat - mean) / std

    def _conditioning(self, task: TaskInput) -> _Conditioning:
        """Text/image embeddings, first-frame latents and the surrogate decoder for a task (cached)."""
        h, w = self._size(task)
        frames = self._num_frames(task)
        key = hashlib.sha256(
            task.first_frame.detach().cpu().float().contiguous().numpy().tobytes()
            + task.caption.encode()
            + f"{h}x{w}x{frames}".encode()
        ).hexdigest()
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        with torch.no_grad():
            image = task.first_frame.detach().float().clamp(0, 1).unsqueeze(0)
            image = F.interpolate(image, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
            image = image * 2.0 - 1.0  # (1, 3, h, w) in [-1, 1]
            prompt_embeds = self._encode_text(task.caption)
            image_embeds = None
            if self.image_conditioned and getattr(self.transformer.config, "image_dim", None):
                from PIL import Image

                from rulec.frames import to_uint8

                pil = Image.fromarray(to_uint8(task.first_frame))
                image_embeds = self.pipe.encode_image(pil, self.device).to(self.transformer.dtype)
            condition = None
            if self.image_conditioned:
                video = torch.cat([image.unsqueeze(2), image.new_zeros(1, 3, frames - 1, h, w)], dim=2)
                lat = self._vae_encode(video.to(self.device))
                lf = lat.shape[2]
                mask = torch.zeros(1, self.temporal_scale, lf, h // self.spatial_scale, w // self.spatial_scale)
                mask[:, :, 0] = 1.0  # the first latent frame is given
                condition = torch.cat([mask.to(lat), lat], dim=1)
            # surrogate decoder fitted on the VAE's own encode/decode of the static first-frame video
            static = image.unsqueeze(2).expand(1, 3, frames, h, w).to(self.device)
            lat_static = self._vae_encode(static)
            gen = torch.Generator().manual_seed(0)
            lat_noise = torch.randn(lat_static.shape, generator=gen).to(lat_static) * 0.5 + lat_static
            lat_fit = torch.cat([lat_static, lat_noise], dim=0)
            surrogate = LinearLatentDecoder.fit(
                lat_fit.cpu(), self._vae_decode(lat_fit).cpu(), self.spatial_scale, self.temporal_scale
            ).to(self.device)
        cond = _Conditioning(prompt_embeds, image_embeds, condition, surrogate)
        self._cache = (key, cond)
        return cond

    def _sigmas(self, num_steps: int) -> torch.Tensor:
        """Shifted flow-matching noise levels from 1 down to 0 (num_steps + 1 values)."""
        s = torch.linspace(1.0, 0.0, num_steps + 1)
        return self.shift * s / (1.0 + (self.shift - 1.0) * s)

    # ------------------------------------------------------------------ the Reasoner API
    def sample(
        self,
        task: TaskInput,
        *,
        seed: int,
        num_steps: int,
        grad_steps: int = 0,
        batch_size: int = 1,
        final: bool = True,
    ) -> torch.Tensor:
        if num_steps < 1 or not 0 <= grad_steps <= num_steps:
            raise ValueError(f"need num_steps >= 1 and 0 <= grad_steps <= num_steps, got {num_steps}, {grad_steps}")
        cond = self._conditioning(task)
        h, w = self._size(task)
        frames = self._num_frames(task)
        shape = (
            batch_size,
            self.z_dim,
            (frames - 1) // self.temporal_scale + 1,
            h // self.spatial_scale,
            w // self.spatial_scale,
        )
        gen = torch.Generator().manual_seed(seed)
        latents = torch.randn(shape, generator=gen).to(self.device, torch.float32)
        dtype = self.transformer.dtype
        prompt = cond.prompt_embeds.expand(batch_size, -1, -1)
        image_embeds = None if cond.image_embeds is None else cond.image_embeds.expand(batch_size, -1, -1)
        condition = None if cond.condition is None else cond.condition.expand(batch_size, -1, -1, -1, -1)
        sigmas = self._sigmas(num_steps)
        grad_wanted = torch.is_grad_enabled() and grad_steps > 0
        for i in range(num_steps):
            track = grad_wanted and i >= num_steps - grad_steps
            with torch.set_grad_enabled(track):
                x = latents if condition is None else torch.cat([latents, condition.to(latents)], dim=1)
                t = (sigmas[i] * 1000.0).expand(batch_size).to(self.device)
                velocity = self.transformer(
                    hidden_states=x.to(dtype),
                    timestep=t,
                    encoder_hidden_states=prompt,
                    encoder_hidden_states_image=image_embeds,
                    return_dict=False,
                )[0]
                latents = latents + (sigmas[i + 1] - sigmas[i]) * velocity.float()
        with torch.set_grad_enabled(grad_wanted):
            if final or self.optimize_decoder == "vae":
                video = self._vae_decode(latents)
            else:
                video = cond.surrogate(latents)
        video = video[:, : task.num_frames]
        if self.output_task_size and tuple(video.shape[-2:]) != tuple(task.first_frame.shape[-2:]):
            b, t = video.shape[:2]
            video = F.interpolate(
                video.flatten(0, 1), size=tuple(task.first_frame.shape[-2:]), mode="bilinear", align_corners=False
            ).reshape(b, t, 3, *task.first_frame.shape[-2:])
            video = video.clamp(0.0, 1.0)
        return video


# ---------------------------------------------------------------------- tiny test configs
def save_tiny_wan(folder: str | Path, *, image_to_video: bool = True, seed: int = 0) -> Path:
    """Write a tiny random-init Wan 2.1 diffusers folder (as diffusers' own tests build it).

    For tests and measurements only: the same classes and the same on-disk layout as a real
    checkpoint, a few thousand parameters each, built offline (word-level tokenizer).
    """
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanPipeline,
        WanTransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
        PreTrainedTokenizerFast,
        UMT5Config,
        UMT5EncoderModel,
    )

    from rulec.runtime.tasks.world import DIRECTIONS, PALETTE

    words = ["<pad>", "</s>", "<unk>", "disc", "moves", "stays", "still", "then", ","]
    words += list(PALETTE) + [d for d in DIRECTIONS]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(
        UMT5Config(vocab_size=64, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                   relative_attention_num_buckets=8)
    )
    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=36 if image_to_video else 16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        image_dim=4 if image_to_video else None,
    )
    scheduler = FlowMatchEulerDiscreteScheduler(shift=3.0)
    common = dict(transformer=transformer, vae=vae, scheduler=scheduler, text_encoder=text_encoder, tokenizer=tokenizer)
    if image_to_video:
        torch.manual_seed(seed)
        image_encoder = CLIPVisionModelWithProjection(
            CLIPVisionConfig(hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2,
                             image_size=32, intermediate_size=16, patch_size=1)
        )
        pipe = WanImageToVideoPipeline(
            image_encoder=image_encoder, image_processor=CLIPImageProcessor(crop_size=32, size=32), **common
        )
    else:
        pipe = WanPipeline(**common)
    folder = Path(folder)
    pipe.save_pretrained(folder)
    return folder
