"""Each family's reference rules.txt compiles and agrees with the scorer on a few instances.

The full measurement (50 instances per family) is ``benchmarks/agreement.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import rulec
from rulec.runtime import tasks

pytestmark = pytest.mark.skipif(not hasattr(rulec, "compile_rules"), reason="the compiler is not there yet")


@pytest.mark.parametrize("family", list(tasks.FAMILIES))
def test_rules_compile_for_every_family(family):
    for seed in range(5):
        inst = tasks.make_instance(family, seed)
        compiled = rulec.compile_rules(inst.rules_text, name=inst.name, num_frames=inst.ground_truth.shape[0])
        kinds = {r.kind for r in compiled.rules}
        assert kinds == {"goal", "process"}


@pytest.mark.parametrize("family", list(tasks.FAMILIES))
def test_rules_verdict_equals_scorer_success(family):
    torch = pytest.importorskip("torch")
    from rulec import frames

    inst = tasks.make_instance(family, 1)
    names = ["ground_truth"] + [c.name for c in tasks.corruption_list(inst)]
    videos = np.stack([inst.ground_truth] + [c.make(inst) for c in tasks.corruption_list(inst)])
    reward = rulec.compile_rules(inst.rules_text, name=inst.name, num_frames=videos.shape[1]).to_reward()
    with torch.no_grad():
        report = reward(frames.to_float(videos))
    by_rules = report.passed.numpy().tolist()
    by_scorer = [tasks.score(inst, v).success for v in videos]
    assert by_rules == by_scorer, dict(zip(names, zip(by_rules, by_scorer)))
    assert by_rules[0] and not any(by_rules[1:])
