"""The Python blocks of docs/spopt.md run as written (tester's finding 7: clients and
facilities were undefined, and the frames had to be projected), like test_readme."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "spopt.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
BLOCKS = BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_doc_has_a_block():
    assert BLOCKS


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_spopt_block_runs(i, tmp_path):
    env = dict(os.environ, CAREPLAN_QUIET="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", BLOCKS[i]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip(), "the block prints its results"
