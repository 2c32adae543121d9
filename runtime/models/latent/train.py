"""Train the object-centric latent model on motion clips (never on task solutions).

``rulec toy train`` (or ``python -m rulec.runtime.models.latent.train``). Time-bounded
(``--max-minutes``) and resumable (``--resume``): EMA weights (diffusers' ``EMAModel``) +
config go to the package assets at every checkpoint, optimizer/EMA/step state to
``--state`` as safetensors. Loss and step time go to stdout and ``<state dir>/loss.jsonl``.

Data: each clip of :mod:`rulec.runtime.models.clips` is encoded like a task image
(:func:`latent_scene.encode` on frame 0), and its target latent is every object's drawn
offset from frame 0 (only the agent and a second movable object ever move). Captions are
the clip's motion caption, empty (20 %), or an instruction naming the moving object as
task prompts do ("Move the red disc to the green square.") with no direction in it
(:data:`INSTRUCTION_P`), so the model learns which object a prompt is about, not how
to solve a task.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from rulec.frames import to_float
from rulec.runtime.models import clips, train_loop
from rulec.runtime.models.latent import render as latent_render
from rulec.runtime.models.latent import scene as latent_scene
from rulec.runtime.tasks import world
from rulec.runtime.models.latent.network import ASSETS, STEM, LatentConfig, LatentVGM, first_frame_latent, load, save
from rulec.runtime.models.pixel.train import HELD_OUT_SEED_BASE, load_state, save_state
from rulec.runtime.models.weights import num_parameters

DEFAULT_STATE = Path("/tmp/rulec_latent_vgm/state.safetensors")
#: Share of captioned clips whose caption becomes a direction-free instruction.
INSTRUCTION_P = 0.35


def instruction(rng: np.random.Generator, agent: str, names: tuple[str, ...]) -> str:
    """A task-style prompt about ``agent`` that says nothing of where it goes."""
    others = [n for n in names if n in world.PALETTE and n not in (agent, world.WALL, world.BACKGROUND)]
    if not others:
        return f"Move the {agent} disc."
    return f"Move the {agent} disc to the {others[int(rng.integers(len(others)))]} square."


def clip_example(seed: int) -> tuple[np.ndarray, str, latent_scene.Scene, torch.Tensor]:
    """(first frame, caption, encoded scene, target latent (3, T, 1, K)) of training clip ``seed``."""
    clip = clips.make_clip(seed)
    rng = np.random.default_rng([seed, 0xCA97])
    caption = clip.caption
    scene = latent_scene.encode(clip.video[0], caption)
    if caption and rng.random() < INSTRUCTION_P:  # names the same subject (the agent): the scene stays valid
        caption = instruction(rng, clip.agent_colour, scene.names)
    frames = clip.video.shape[0]
    dx = torch.zeros(1, frames, latent_scene.MAX_OBJECTS)
    dy = torch.zeros_like(dx)
    for slot, name in enumerate(scene.names):
        if name in clip.movers:
            track = torch.from_numpy(clip.movers[name]).float()
            dx[0, :, slot] = track[:, 0] - track[0, 0]
            dy[0, :, slot] = track[:, 1] - track[0, 1]
    target = latent_render.latent_from_px(dx, dy, scene.size)[0]
    return clip.video[0], caption, scene, target


def training_batch(step: int, batch: int, seed: int) -> dict:
    """A step's batch: scenes, images (B, 3, H, W) in [0, 1], captions, targets (B, 3, T, 1, K)."""
    base = (seed * 7919 + step) * batch % HELD_OUT_SEED_BASE
    examples = [clip_example(s) for s in range(base, base + batch)]
    images = to_float(np.stack([e[0] for e in examples]))
    scenes = latent_scene.stack([e[2] for e in examples])
    return {"images": images, "captions": [e[1] for e in examples], "x0": torch.stack([e[3] for e in examples]), **scenes}


def loss_fn(model: LatentVGM, data: dict, gen: torch.Generator) -> torch.Tensor:
    """MSE of the predicted clean latent on frames 1.. of the used slots (logit-normal sigma)."""
    x0 = data["x0"]
    b, _, t, _, k = x0.shape
    sigma = torch.sigmoid(torch.randn(b, generator=gen))
    noise = torch.randn(x0.shape, generator=gen)
    s = sigma.view(b, 1, 1, 1, 1)
    x_t = torch.cat([first_frame_latent(b, t, k), ((1 - s) * x0 + s * noise)[:, :, 1:]], dim=2)
    context = model.context(data["images"], model.caption_ids(data["captions"]))
    x0_hat = model.denoise(x_t, sigma, data["descriptors"], context)
    used = data["valid"].float().view(b, 1, 1, 1, k)
    err = ((x0_hat - x0) ** 2 * used)[:, :, 1:]
    return err.sum() / (used.sum() * err.shape[1] * err.shape[2]).clamp_min(1.0)


def _ema_tensors(model: LatentVGM, ema) -> dict[str, torch.Tensor]:
    names = [n for n, _ in model.named_parameters()]
    return dict(zip(names, ema.shadow_params))


def ema_state_dict(model: LatentVGM, ema) -> dict[str, torch.Tensor]:
    """The model's state dict with the EMA values in place of the trained parameters."""
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    sd.update({k: v.detach().clone() for k, v in _ema_tensors(model, ema).items()})
    return sd


def train(args: argparse.Namespace) -> int:
    from diffusers.training_utils import EMAModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    state_path, out = Path(args.state), Path(args.out)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    log_path = state_path.parent / "loss.jsonl"

    config = LatentConfig()
    model = LatentVGM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
    step, wall = 0, 0.0
    if args.resume and state_path.exists():
        model_sd, ema_sd, opt_sd, meta = load_state(state_path)
        model.load_state_dict(model_sd)
        opt.load_state_dict(opt_sd)
        step, wall = int(meta["step"]), float(meta["wall"])
    elif args.resume:  # a fresh machine: continue from the shipped EMA weights
        _, step, wall = train_loop.start_from_shipped(model, load, out, f"{STEM}.safetensors", state_path)
        ema_sd, meta = None, {"ema_step": step}
    else:
        ema_sd, meta = None, {}
    ema = EMAModel(model.parameters(), decay=args.ema, use_ema_warmup=True, power=0.75)
    if ema_sd is not None:
        names = [n for n, _ in model.named_parameters()]
        ema.load_state_dict({**ema.state_dict(), "optimization_step": int(meta.get("ema_step", step)),
                             "shadow_params": [ema_sd[n] for n in names]})
    elif args.resume:
        ema.optimization_step = int(meta.get("ema_step", step))
    print(f"latent VGM: {num_parameters(model):,} parameters; at step {step} ({wall / 60:.1f} min trained); "
          f"training to step {args.steps}, at most {args.max_minutes} min this run", flush=True)

    def checkpoint(step: int, wall: float) -> None:
        config.training = {
            "steps": step, "train_minutes": round(wall / 60, 1), "seed": args.seed, "batch": args.batch,
            "lr": args.lr, "ema_decay": args.ema, "weights": "EMA", "clips": "runtime/models/clips.py",
            "command": f"rulec toy train --steps {args.steps} --seed {args.seed} --batch {args.batch}",
        }
        save(model, out, state_dict=ema_state_dict(model, ema))
        save_state(state_path, model.state_dict(), _ema_tensors(model, ema), opt.state_dict(),
                   {"step": step, "wall": wall, "ema_step": ema.optimization_step})

    def batch_loss(step: int) -> torch.Tensor:
        data = training_batch(step, args.batch, args.seed)
        return loss_fn(model, data, torch.Generator().manual_seed(args.seed * 1_000_003 + step))

    step, wall = train_loop.run(model, opt, args, step=step, wall=wall, log_path=log_path, batch_loss=batch_loss,
                                after_update=lambda step: ema.step(model.parameters()), checkpoint=checkpoint)
    print(f"saved EMA weights at step {step} ({wall / 60:.1f} min of training) to {out}", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    return train_loop.parser(__doc__.split("\n")[0], steps=6000, batch=64, warmup=100, ema=0.999, max_minutes=30.0,
                             ckpt_every=250, log_every=25, threads=2, out=ASSETS, state=DEFAULT_STATE)


def main(argv: list[str] | None = None) -> int:
    return train(parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
