"""The training loop both embedded models share: warm-up, clipping, logging, checkpoints, a time budget.

Why one loop: a resumable, time-bounded run (``--max-minutes``) that logs every step and
checkpoints every ``--ckpt-every`` steps is the same for the pixel and the latent model;
only the batch loss and the EMA update differ, and those are passed in.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import torch


def parser(description: str, *, steps: int, batch: int, warmup: int, ema: float, max_minutes: float, ckpt_every: int,
           log_every: int, threads: int, out: Path, state: Path) -> argparse.ArgumentParser:
    """The options every trainer takes (this loop reads most of them), at one model's recipe."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=batch)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=warmup)
    p.add_argument("--ema", type=float, default=ema)
    p.add_argument("--max-minutes", type=float, default=max_minutes)
    p.add_argument("--ckpt-every", type=int, default=ckpt_every)
    p.add_argument("--log-every", type=int, default=log_every)
    p.add_argument("--threads", type=int, default=threads)
    p.add_argument("--out", default=str(out))
    p.add_argument("--state", default=str(state))
    p.add_argument("--resume", action="store_true")
    return p


def start_from_shipped(model: torch.nn.Module, load: Callable, out: Path, weights_file: str, state_path: Path) -> tuple[dict, int, float]:
    """``--resume`` without a state file (a fresh machine): the EMA weights in ``out`` (else the
    shipped ones) into ``model``, a fresh optimizer; returns (their training info, step, wall seconds)."""
    shipped = load(out if (out / weights_file).exists() else None)
    model.load_state_dict(shipped.state_dict())
    info = shipped.config.training or {}
    print(f"no state at {state_path}: starting from the shipped weights (fresh optimizer)", flush=True)
    return info, int(info.get("steps", 0)), float(info.get("train_minutes", 0.0)) * 60


def run(model: torch.nn.Module, opt: torch.optim.Optimizer, args, *, step: int, wall: float, log_path: Path,
        batch_loss: Callable[[int], torch.Tensor], after_update: Callable[[int], None],
        checkpoint: Callable[[int, float], None]) -> tuple[int, float]:
    """Train from ``step`` to ``args.steps`` or until ``args.max_minutes`` pass; returns (step, wall seconds)."""
    run_start = time.time()
    model.train()
    with log_path.open("a") as log:
        while step < args.steps:
            if time.time() - run_start > args.max_minutes * 60:
                print(f"time budget of {args.max_minutes} min reached at step {step}", flush=True)
                break
            t0 = time.time()
            lr = args.lr * min(1.0, (step + 1) / args.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            loss = batch_loss(step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            after_update(step)
            step += 1
            dt = time.time() - t0
            wall += dt
            log.write(json.dumps({"step": step, "loss": loss.item(), "sec": round(dt, 3), "lr": lr}) + "\n")
            if step % args.log_every == 0:
                log.flush()
                print(f"step {step} loss {loss.item():.4f} {dt:.2f}s/step total {wall / 60:.1f} min", flush=True)
            if step % args.ckpt_every == 0:
                checkpoint(step, wall)
    checkpoint(step, wall)
    return step, wall
