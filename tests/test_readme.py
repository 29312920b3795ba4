"""Every code block of the README runs as written.

The two install blocks (``pip install``) are run verbatim by ``.ci/run`` itself (it extracts
them from the README), so here we run every ``python`` block in a fresh interpreter and every
other ``bash`` block line by line, each from a scratch folder holding a copy of ``examples/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _blocks(lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(README.read_text(encoding="utf-8")) if kind == lang]


def _env() -> dict[str, str]:
    env = dict(os.environ, CAREPLAN_QUIET="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env


def _scratch(tmp_path: Path) -> Path:
    """A folder laid out like the repository root for the parts the README refers to."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "src").symlink_to(REPO / "src")
    return tmp_path


def test_readme_has_blocks():
    assert len(_blocks("python")) >= 1
    assert len(_blocks("bash")) >= 3


@pytest.mark.parametrize("i", range(len(_blocks("python"))))
def test_python_block_runs(i, tmp_path):
    code = _blocks("python")[i]
    run = subprocess.run([sys.executable, "-c", code], cwd=_scratch(tmp_path), env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]


def _command_lines() -> list[str]:
    lines = []
    for body in _blocks("bash"):
        if "pip install" in body:  # run verbatim by .ci/run
            continue
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


@pytest.mark.parametrize("line", _command_lines())
def test_bash_line_runs(line, tmp_path):
    bindir = Path(sys.executable).parent
    env = _env()
    env["PATH"] = os.pathsep.join([str(bindir), env["PATH"]])
    run = subprocess.run(["bash", "-c", line], cwd=_scratch(tmp_path), env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-3000:])
