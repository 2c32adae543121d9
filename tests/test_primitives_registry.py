"""The registry is the one list of what exists: kernels, signatures and docs follow it."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from rulec.primitives.docgen import render
from rulec.primitives.kernels import KERNELS
from rulec.primitives.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_every_registry_entry_but_ask_has_a_kernel():
    assert set(KERNELS) == set(REGISTRY) - {"ask"}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_parameters_follow_the_registry_order(name):
    spec = REGISTRY[name]
    params = list(inspect.signature(KERNELS[name]).parameters.values())
    assert params[0].name == "sem"
    rest = params[1:]
    if rest and rest[-1].kind is inspect.Parameter.VAR_POSITIONAL:  # n-ary and/or
        assert name in ("and", "or", "fill_holes", "forall", "exists")  # fill_holes: one argument per declared object
        if name in ("forall", "exists"):  # the fixed arguments, then one body per choice of instances
            assert [p.name for p in rest[:-1]] == [p.name for p in spec.params[:-1]]
        return
    assert [p.name for p in rest] == [*spec.inputs, *(p.name for p in spec.params), *spec.appended]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_entry_documents_both_behaviours(name):
    spec = REGISTRY[name]
    assert spec.doc.strip() and spec.exact.strip() and spec.smooth.strip()


def test_committed_docs_equal_the_generator_output():
    committed = (ROOT / "docs" / "primitives.md").read_text()
    assert committed == render(), "docs/primitives.md is stale: run `python -m rulec.primitives.docgen > docs/primitives.md`"


def test_docgen_runs_without_torch():
    code = "import sys, rulec.primitives.docgen as d; d.render(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
