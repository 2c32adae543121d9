"""A bounded Hypothesis run of the input fuzzer (benchmarks/fuzz_inputs.py runs it long):
no task folder, metadata, image, VLM answer or results file escapes its loader's one error."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.fuzz_inputs import PATHS, make_template, run_one


@pytest.fixture(scope="module")
def workspace():
    with tempfile.TemporaryDirectory(prefix="rulec-fuzz-test-") as tmp:
        work = Path(tmp)
        yield work, make_template(work)


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_no_input_escapes(workspace, path, seed):
    work, template = workspace
    assert run_one(path, random.Random(seed), work, template) is None


def test_the_harness_reports_an_escape(workspace, monkeypatch):
    """The harness can fail: a loader that raises something else is counted."""
    from rulec.runtime.tasks import folder

    work, template = workspace
    monkeypatch.setattr(folder, "read_metadata", lambda path: (_ for _ in ()).throw(KeyError("boom")))
    assert "KeyError" in run_one("metadata", random.Random(0), work, template)
