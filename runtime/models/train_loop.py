"""The training loop both embedded models share: warm-up, clipping, logging, checkpoints, a time budget.

Why one loop: a resumable, time-bounded run (``--max-minutes``) that logs every step and
checkpoints every ``--ckpt-every`` steps is the same for the pixel and the latent model;
only the batch loss and the EMA update differ, and those are passed in.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import torch


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
