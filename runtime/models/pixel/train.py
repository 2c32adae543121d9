"""Train the embedded toy VGM on motion clips (never on task solutions).

``python -m rulec.runtime.models.pixel.train --steps 3000 --seed 0`` (or ``rulec toy train``).
Time-bounded (``--max-minutes``), checkpointing every ``--ckpt-every`` steps: EMA
weights + config into the package assets, optimizer/step state to ``--state`` (outside the
package), so ``--resume`` continues where a run stopped. Loss and step time go to stdout
and to ``<state dir>/loss.jsonl``; a filmstrip of EMA samples is written per checkpoint.

Recipe (see docs/toy-model.md and the lessons' feasibility probe): flow matching with
logit-normal sigma, clean first frame in-context at frame 0, loss on frames 1.. only with
pixels that differ from the first frame weighted x10, x0-prediction (residual over the
first frame) trained with the velocity-space loss, AdamW lr 1e-3 with 50 warm-up steps,
EMA weights for sampling.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rulec.frames import to_float, to_uint8
from rulec.runtime.models import clips, train_loop
from rulec.runtime.models.pixel.network import ASSETS, WEIGHTS_FILE, ToyConfig, ToyVGM, load, save
from rulec.runtime.models.weights import num_parameters

DEFAULT_STATE = Path("/tmp/rulec_toy_vgm/state.safetensors")
#: Clip seeds used for training are below this; held-out evaluation seeds start here.
HELD_OUT_SEED_BASE = 1_000_000_000
CHANGED_WEIGHT = 10.0
MIN_SIGMA = 0.05


def clip_batch(step: int, batch: int, seed: int) -> tuple[torch.Tensor, list[str]]:
    """Training batch for a step: videos (B, 3, T, H, W) in [-1, 1] and captions."""
    base = (seed * 7919 + step) * batch % HELD_OUT_SEED_BASE
    videos, captions = clips.make_batch(range(base, base + batch))
    x = torch.from_numpy(videos).float().div(127.5).sub(1.0)  # (B, T, H, W, 3)
    return x.permute(0, 4, 1, 2, 3).contiguous(), captions


def loss_fn(model: ToyVGM, x0: torch.Tensor, captions: list[str], gen: torch.Generator, space: str = "x0") -> torch.Tensor:
    """Weighted MSE of the predicted clean video on frames 1.. ("x0"), or of the implied
    velocity ("v": the x0 error divided by sigma, which stresses near-clean inputs)."""
    b = x0.shape[0]
    first = x0[:, :, 0]
    sigma = torch.sigmoid(torch.randn(b, generator=gen))  # logit-normal
    noise = torch.randn(x0.shape, generator=gen)
    s = sigma.view(b, 1, 1, 1, 1)
    x_t = (1 - s) * x0 + s * noise
    x_t = torch.cat([first.unsqueeze(2), x_t[:, :, 1:]], dim=2)
    x0_hat = model.denoise(x_t, sigma, first, model.caption_ids(captions))
    changed = (x0 - first.unsqueeze(2)).abs().amax(dim=1, keepdim=True) > 1e-3
    weight = 1.0 + (CHANGED_WEIGHT - 1.0) * changed.float()
    err = (x0_hat - x0) ** 2 if space == "x0" else ((x0_hat - x0) / s.clamp_min(MIN_SIGMA)) ** 2
    return (weight * err)[:, :, 1:].mean()


def filmstrip(model: ToyVGM, path: Path, num_steps: int = 8, n: int = 6) -> None:
    """PNG: rows = held-out clips; left half ground-truth-like clip, right half a sample."""
    import imageio.v3 as iio

    from rulec.runtime.models.pixel.reasoner import sample_videos

    cs = [clips.make_clip(HELD_OUT_SEED_BASE + 17 + i) for i in range(n)]
    first = to_float(np.stack([c.video[0] for c in cs]))
    with torch.no_grad():
        vids = sample_videos(model, first, [c.caption for c in cs], seed=0, num_steps=num_steps)
    samples = to_uint8(vids)
    rows = []
    for c, s in zip(cs, samples):
        cells = [c.video[t] for t in range(0, 16, 3)] + [s[t] for t in range(0, 16, 3)]
        rows.append(np.concatenate([np.pad(f, ((1, 1), (1, 1), (0, 0)), constant_values=128) for f in cells], 1))
    img = np.concatenate(rows, 0).repeat(3, 0).repeat(3, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, img)


def save_state(path: Path, model_sd: dict, ema: dict, opt_sd: dict, meta: dict) -> None:
    """The resume state as safetensors: weights, EMA, optimizer tensors; the rest as JSON metadata."""
    from safetensors.torch import save_file

    tensors = {f"model.{k}": v for k, v in model_sd.items()} | {f"ema.{k}": v for k, v in ema.items()}
    for index, entry in opt_sd["state"].items():
        for name, value in entry.items():
            tensors[f"opt.{index}.{name}"] = torch.as_tensor(value)
    info = {"meta": meta, "param_groups": opt_sd["param_groups"]}
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata={"rulec": json.dumps(info)})


def load_state(path: Path) -> tuple[dict, dict, dict, dict]:
    """Inverse of :func:`save_state`: (model state, EMA, optimizer state, metadata)."""
    from safetensors import safe_open

    model_sd, ema, opt_state = {}, {}, {}
    with safe_open(str(path), framework="pt") as f:
        info = json.loads(f.metadata()["rulec"])
        for key in f.keys():
            group, _, rest = key.partition(".")
            if group == "model":
                model_sd[rest] = f.get_tensor(key)
            elif group == "ema":
                ema[rest] = f.get_tensor(key)
            else:
                index, _, name = rest.partition(".")
                opt_state.setdefault(int(index), {})[name] = f.get_tensor(key)
    opt_state = dict(sorted(opt_state.items()))
    return model_sd, ema, {"state": opt_state, "param_groups": info["param_groups"]}, info["meta"]


def train(args: argparse.Namespace) -> int:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    state_path = Path(args.state)
    out = Path(args.out)
    log_path = state_path.parent / "loss.jsonl"
    state_path.parent.mkdir(parents=True, exist_ok=True)

    config = ToyConfig()
    model = ToyVGM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
    step, wall = 0, 0.0
    history: list = [[0, args.loss]]  # [first step, loss space] of each run (a resumed run may switch)
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if args.resume and state_path.exists():
        model_sd, ema, opt_sd, meta = load_state(state_path)
        model.load_state_dict(model_sd)
        opt.load_state_dict(opt_sd)
        step, wall = int(meta["step"]), float(meta["wall"])
        history = meta.get("history", [[0, "v"]]) + [[step, args.loss]]
    elif args.resume:  # no state file (a fresh machine): continue from the shipped EMA weights
        info, step, wall = train_loop.start_from_shipped(model, load, out, WEIGHTS_FILE, state_path)
        ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
        history = [list(r) for r in info.get("loss_runs", [[0, "v"]])] + [[step, args.loss]]
    if args.resume:
        print(f"resumed at step {step} ({wall / 60:.1f} min trained)", flush=True)
    print(f"toy VGM: {num_parameters(model):,} parameters; training to step {args.steps}, "
          f"at most {args.max_minutes} min this run", flush=True)

    def checkpoint(step: int, wall: float) -> None:
        config.training = {
            "steps": step, "train_minutes": round(wall / 60, 1), "seed": args.seed, "batch": args.batch,
            "lr": args.lr, "ema_decay": args.ema, "weights": "EMA", "loss_runs": history,
            "command": f"rulec toy train --steps {args.steps} --seed {args.seed}",
        }
        save(model, out, state_dict=ema)
        save_state(state_path, model.state_dict(), ema, opt.state_dict(), {"step": step, "wall": wall, "history": history})
        if args.filmstrips:
            ema_model = ToyVGM(config)
            ema_model.load_state_dict(ema)
            ema_model.eval()
            filmstrip(ema_model, state_path.parent / f"film_{step:05d}.png")

    def batch_loss(step: int) -> torch.Tensor:
        x0, captions = clip_batch(step, args.batch, args.seed)
        return loss_fn(model, x0, captions, torch.Generator().manual_seed(args.seed * 1_000_003 + step), space=args.loss)

    def update_ema(step: int) -> None:
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for k, v in model.state_dict().items():
                if v.dtype.is_floating_point:
                    ema[k].lerp_(v, 1 - decay)
                else:
                    ema[k].copy_(v)

    step, wall = train_loop.run(model, opt, args, step=step, wall=wall, log_path=log_path, batch_loss=batch_loss,
                                after_update=update_ema, checkpoint=checkpoint)
    print(f"saved EMA weights at step {step} ({wall / 60:.1f} min of training) to {out}", flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    p = train_loop.parser(__doc__.split("\n")[0], steps=3000, batch=16, warmup=50, ema=0.995, max_minutes=80.0,
                          ckpt_every=100, log_every=10, threads=1, out=ASSETS, state=DEFAULT_STATE)
    p.add_argument("--loss", choices=("x0", "v"), default="x0", help="loss space (see loss_fn)")
    p.add_argument("--no-filmstrips", dest="filmstrips", action="store_false")
    return p


def main(argv: list[str] | None = None) -> int:
    return train(parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
