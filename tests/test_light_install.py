"""The core (compile, check, explain, the reward) works without the extras' libraries, and a
command that needs one names its extra (rulec/extras.py; pyproject.toml's extras)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from rulec.extras import EXTRAS, missing_extra

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "examples" / "tutorial"

#: a finder that refuses the extras' libraries, as if they were not installed; then rulec's CLI
BLOCKED_MAIN = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = {blocked!r}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

    sys.meta_path.insert(0, Block())
    sys.argv = ["rulec", *{argv!r}]
    from rulec.cli import main
    try:
        main()
    finally:
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
""")


def blocked_rulec(*argv, blocked=tuple(EXTRAS)):
    code = BLOCKED_MAIN.format(blocked=sorted(blocked), argv=[str(a) for a in argv])
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})


def test_the_extras_table_matches_pyproject():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = lambda reqs: {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip() for r in reqs}
    for module, where in EXTRAS.items():
        assert module not in names(core), f"{module} is in the core"
        for extra in where:
            assert module in names(extras[extra]), (module, extra)
    assert set(extras["all"]) == {"rulec[tto,teach]"}
    assert set(extras) - {"all", "dev"} == {e for where in EXTRAS.values() for e in where}
    from rulec.extras import IN_ALL

    assert set(IN_ALL) == {"tto", "teach"}
    assert "rulec[all]" not in missing_extra(ModuleNotFoundError(name="ray"))


def test_check_compile_and_explain_without_the_extras(tmp_path):
    done = blocked_rulec("check", TUTORIAL / "deliver.rules", TUTORIAL / "broken.mp4", "--json")
    assert done.returncode == 1, done.stderr  # a rule fails: judged, not crashed
    assert "unavailable" not in done.stderr, done.stderr  # every command area still mounts
    data = json.loads(done.stdout)
    assert data["schema"] == "rulec.verdict/1" and data["rules_passed"] == 3
    done = blocked_rulec("compile", TUTORIAL / "deliver.rules", "-f", "json")
    assert done.returncode == 0 and json.loads(done.stdout)[0]["ok"], done.stderr
    done = blocked_rulec("explain", TUTORIAL / "deliver.rules", TUTORIAL / "good.mp4", "-o", tmp_path / "r.png")
    assert done.returncode == 0 and (tmp_path / "r.png").stat().st_size > 0, done.stderr


@pytest.mark.parametrize("argv, module", [
    (("run", ROOT / "examples/tasks/navigate_00000", "--method", "base", "-o", "{tmp}/out"), "diffusers"),
    (("teach", ROOT / "examples/tasks/navigate_00000", "--model", "m", "--base-url", "http://127.0.0.1:9", "--no-cache"), "openai"),
    (("bench", "--n", "1", "--families", "navigate", "--methods", "base", "--ray", "auto", "-o", "{tmp}/out"), "ray"),
])
def test_a_missing_extra_is_one_message_naming_it(tmp_path, argv, module):
    done = blocked_rulec(*[str(a).replace("{tmp}", str(tmp_path)) for a in argv], blocked=[module])
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: {missing_extra(ModuleNotFoundError(name=module))}"
    assert f"rulec[{EXTRAS[module][0]}]" in done.stderr


def test_missing_extra_leaves_other_errors_alone():
    assert missing_extra(ModuleNotFoundError(name="numpy")) is None and missing_extra(ValueError("x")) is None
    assert "rulec[tto]" in missing_extra(ModuleNotFoundError(name="diffusers.models"))
