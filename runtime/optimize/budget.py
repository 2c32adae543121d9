"""What a run costs in model evaluations: the one place that says it.

A model evaluation is one transformer forward; a denoising step kept in the autograd
graph costs two more for its backward (:meth:`Reasoner.evaluations`). Methods are compared
at equal evaluations, so the benchmark, ``rulec run`` (Best-of-N matched to a TTO run) and
the optimization loop (stopping within a budget) all count with :class:`Costs`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rulec.runtime.optimize.config import RunConfig


@dataclass(frozen=True)
class Costs:
    """The price of each part of a run, for one reasoner at one configuration."""

    sample: int  # a sample without gradients: base, a Best-of-N or screened seed, a confirmation, the final decode
    step: int  # an optimization step: a sample with gradients through the last K denoising steps

    @classmethod
    def of(cls, reasoner, config: RunConfig) -> Costs:
        return cls(sample=reasoner.evaluations(config.sample_steps, 0),
                   step=reasoner.evaluations(config.sample_steps, config.grad_steps))

    @property
    def final_decode(self) -> int:
        """The answer's full decode, which a run ends with unless a saved sample already passed."""
        return self.sample

    def screening(self, seeds: int) -> int:
        return seeds * self.sample

    def screened_seeds(self, screen: int, max_evaluations: int | None) -> int:
        """How many of ``screen`` seeds screening samples within ``max_evaluations`` (all if unbounded)."""
        if max_evaluations is None:
            return screen
        return min(screen, max_evaluations // self.sample)

    def best_of_n(self, n: int) -> int:
        return n * self.sample

    def matched_n(self, evaluations: int) -> int:
        """The largest N whose Best-of-N costs no more than ``evaluations`` (at least 1)."""
        return max(1, evaluations // self.sample)

    def tto_run(self, config: RunConfig) -> int:
        """A TTO run that uses its whole step budget: screening, ``max_steps`` steps, the last
        step's scoring sample (no update follows it), the final decode."""
        seeds = self.screened_seeds(config.screen, config.max_evaluations)
        return self.screening(seeds) + config.max_steps * self.step + self.sample + self.final_decode

    def before_final_decode(self, budget: int) -> int:
        """What screening and the steps may spend of a ``budget`` that also pays for the final decode (at least 1)."""
        return max(budget - self.final_decode, 1)
