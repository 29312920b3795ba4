"""Crash-safe writes of a plan folder: real kills, stale leftovers, links, permissions,
two writers, a full disk.

The invariant checked everywhere: the output path holds a complete plan, i.e. every
output file is there and matches the SHA-256 its manifest records
(:func:`careplan.report.verify_output`), and the user's own files are untouched.
"""

from __future__ import annotations

import fcntl
import multiprocessing as mp
import os
import random
import resource
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_report import _plan

import careplan.report as report
from careplan.report import atomic
from careplan.report._common import OUTPUT_FILES

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")

_CTX = mp.get_context("fork")


@pytest.fixture(scope="module")
def plans():
    """Two versions of a small plan (with/without proposed stations), built once."""
    return _plan(with_edges=False), _plan(with_proposed=False, with_edges=False)


@pytest.fixture(scope="module")
def written(plans, tmp_path_factory):
    """Each version written once by write_all (tests copy it as their starting state)."""
    base = tmp_path_factory.mktemp("written")
    report.write_all(plans[0], base / "en", lang="en", verbose=False)
    report.write_all(plans[1], base / "zh", lang="zh", verbose=False)
    return {"en": base / "en", "zh": base / "zh"}


def _write_forever(plan_a, plan_b, out: str) -> None:  # child process
    """Write the other version than the one at *out*, again and again, until killed."""
    zh = "zh-CN" in (Path(out) / "report.html").read_text(encoding="utf-8")[:200]
    while True:
        report.write_all(plan_a, out, lang="en", verbose=False) if zh else \
            report.write_all(plan_b, out, lang="zh", verbose=False)
        zh = not zh


def _write_once(plan, out: str, lang: str) -> None:  # child process
    report.write_all(plan, out, lang=lang, verbose=False)


def _siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name != out.name)


def _user_files(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_ino) for p in out.iterdir()
            if p.is_file() and p.name.startswith("user")}


def _state(out: Path) -> str:
    """Which complete plan is at *out* ('zh'/'en' report), or raise if none is."""
    assert out.is_dir(), "output folder missing"
    assert report.verify_output(out), sorted(p.name for p in out.iterdir())
    head = (out / "report.html").read_text(encoding="utf-8")[:200]
    return "zh" if "zh-CN" in head else "en"


# -- the kill tests -----------------------------------------------------------------------
def _replay(src: str, out: str) -> None:  # child process: the write phase, files given
    """Write the plan in *src* to *out* through the real folder switch, again and again
    (alternating with the plan at *out*), until killed."""
    from careplan.report.atomic import replace_dir

    srcs = [src, str(Path(out).parent / "version-b")]
    i = 0
    while True:
        def write(tmp: Path, s=srcs[i % 2]) -> None:
            for name in OUTPUT_FILES.values():
                with open(Path(s) / name, "rb") as f, open(tmp / name, "wb") as g:
                    g.write(f.read())
            report.write_manifest(tmp)

        replace_dir(out, write, ours=set(OUTPUT_FILES.values()) | {report.MANIFEST})
        i += 1


def test_sigkill_at_random_instants_of_the_write_phase(plans, written, tmp_path):
    """50 writers killed at random instants of the write phase: files written into the
    new folder, the manifest, carrying the user's files over, the exchange, cleanup.
    The plan files are rendered once beforehand, so each kill costs milliseconds."""
    out = tmp_path / "out"
    shutil.copytree(written["en"], tmp_path / "version-a", symlinks=True)
    shutil.copytree(written["zh"], tmp_path / "version-b", symlinks=True)
    shutil.copytree(written["en"], out, symlinks=True)
    (out / "user-notes.txt").write_text("mine", encoding="utf-8")
    user = _user_files(out)
    manifest = (out / report.MANIFEST).read_bytes()
    t0 = time.monotonic()
    p = _CTX.Process(target=_replay, args=(str(tmp_path / "version-a"), str(out)))
    p.start()
    while time.monotonic() - t0 < 60:  # (no verification here: the writer is running)
        try:
            if (out / report.MANIFEST).read_bytes() != manifest:
                break
        except OSError:
            pass
        time.sleep(0.002)
    one = time.monotonic() - t0  # time to the first switch (to zh), an upper bound
    os.kill(p.pid, signal.SIGKILL)
    p.join()
    rng = random.Random(20260530)
    seen = []
    for _k in range(60):
        delay = rng.uniform(0, 2 * one)  # through the first write and into the next
        p = _CTX.Process(target=_replay, args=(str(tmp_path / "version-a"), str(out)))
        p.start()
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        seen.append(_state(out))  # a complete old or a complete new plan, every time
        assert _user_files(out) == user  # the user's file untouched (same inode)
        assert len(_siblings(out)) <= 3  # versions a, b + at most the killed run's leftover
    report.write_all(plans[0], out, lang="en", verbose=False)  # removes the leftovers
    assert _siblings(out) == ["version-a", "version-b"] and _state(out) == "en"
    assert _user_files(out) == user
    switches = sum(a != b for a, b in zip(seen, seen[1:], strict=False))
    assert switches >= 5, "the kills never let a write finish: the instants miss the switch"
    print(f"60 kills over a {one * 1000:.0f} ms write phase; the plan changed {switches} times")


def test_sigkill_at_random_instants_of_a_whole_run(plans, written, tmp_path):
    """Writers of the real write_all (rendering included) killed at random instants."""
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    (out / "user-notes.txt").write_text("mine", encoding="utf-8")
    user = _user_files(out)
    t0 = time.monotonic()
    p = _CTX.Process(target=_write_once, args=(plans[1], str(out), "zh"))
    p.start()
    p.join()
    one = time.monotonic() - t0
    assert p.exitcode == 0 and _state(out) == "zh"
    rng = random.Random(7)
    for k in range(4):
        delay = rng.uniform(0, one) if k % 2 else rng.uniform(0.8 * one, 1.2 * one)
        p = _CTX.Process(target=_write_forever, args=(*plans, str(out)))
        p.start()
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)
        p.join()
        _state(out)
        assert _user_files(out) == user
        assert len(_siblings(out)) <= 1
    report.write_all(plans[0], out, lang="en", verbose=False)  # removes the leftovers
    assert _siblings(out) == [] and _state(out) == "en" and _user_files(out) == user


# -- leftovers ----------------------------------------------------------------------------
def test_stale_leftovers_removed_but_a_live_writer_is_left_alone(plans, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    stale = [tmp_path / ".out.careplan-0123.tmp", tmp_path / ".out.careplan-4567.old"]
    for d in stale:
        d.mkdir()
        (d / "report.html").write_text("half", encoding="utf-8")
    (tmp_path / ".out.careplan-89ab.tmp.gpkg").write_bytes(b"x")  # not a sibling of out
    live = tmp_path / ".out.careplan-live.tmp"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a writer still at work holds it
    try:
        report.write_all(plans[1], out, lang="zh", verbose=False)
        assert not any(d.exists() for d in stale)
        assert live.exists()
    finally:
        os.close(fd)
    report.write_all(plans[1], out, lang="zh", verbose=False)
    assert not live.exists() and _state(out) == "zh"


def test_stale_temp_file_of_a_single_file_write_removed(tmp_path):
    target = tmp_path / "t.xlsx"
    (tmp_path / ".t.xlsx.careplan-dead.tmp.xlsx").write_bytes(b"half")
    atomic.atomic_write_bytes(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]


def test_switch_cut_between_two_renames_is_repaired(plans, written, tmp_path, monkeypatch):
    """Where the system cannot exchange two folders (two renames), a run killed between
    them leaves only `.out.careplan-*.old`; the next run puts it back first."""
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    (out / "user-a.txt").write_text("a", encoding="utf-8")
    old = tmp_path / ".out.careplan-cut.old"
    os.replace(out, old)  # the state after the first rename
    monkeypatch.setattr(atomic, "_EXCHANGE", None)  # no exchange: the two-rename path
    atomic._restore_interrupted(out)
    assert _state(out) == "en" and (out / "user-a.txt").read_text() == "a"
    report.write_all(plans[1], out, lang="zh", verbose=False)
    assert _state(out) == "zh" and (out / "user-a.txt").read_text() == "a"
    assert _siblings(out) == []


def test_exchange_is_used_where_the_system_has_it(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not atomic._exchange(a, b):
        pytest.skip("this system/file system has no atomic exchange")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


# -- what a shared drive brings -------------------------------------------------------------
def test_user_files_folders_and_links_in_the_output_are_kept(plans, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    (out / "user-memo.docx").write_bytes(b"memo")
    (out / "user-memo.docx").chmod(0o640)
    (out / "drafts").mkdir()
    (out / "drafts" / "v1.txt").write_text("v1", encoding="utf-8")
    (out / "latest").symlink_to("drafts/v1.txt")
    st = (out / "user-memo.docx").stat()
    report.write_all(plans[1], out, lang="zh", verbose=False)
    st2 = (out / "user-memo.docx").stat()
    assert (st2.st_ino, st2.st_mtime_ns, st2.st_mode) == (st.st_ino, st.st_mtime_ns, st.st_mode)
    assert (out / "drafts" / "v1.txt").read_text() == "v1"
    assert (out / "latest").is_symlink() and os.readlink(out / "latest") == "drafts/v1.txt"
    assert _state(out) == "zh"


def test_output_path_that_is_a_link_keeps_the_link(plans, tmp_path):
    real = tmp_path / "shared" / "plan-2026"
    real.mkdir(parents=True)
    (real / "user-readme.txt").write_text("r", encoding="utf-8")
    link = tmp_path / "out"
    link.symlink_to(real)
    report.write_all(plans[0], link, lang="en", verbose=False)
    assert link.is_symlink() and Path(os.readlink(link)) == real
    assert _state(real) == "en" and (real / "user-readme.txt").read_text() == "r"
    report.write_all(plans[1], link, lang="zh", verbose=False)
    assert link.is_symlink() and _state(real) == "zh"
    assert _siblings(real) == [] and sorted(p.name for p in tmp_path.iterdir()) == [
        "out", "shared"]


def test_folder_permissions_are_kept(plans, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    out.chmod(0o750)
    report.write_all(plans[1], out, lang="zh", verbose=False)
    assert (out.stat().st_mode & 0o777) == 0o750


def test_two_writers_at_once_both_finish_and_one_complete_plan_stays(plans, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    (out / "user-x.txt").write_text("x", encoding="utf-8")
    procs = [_CTX.Process(target=_write_once, args=(plans[i], str(out), lang))
             for i, lang in ((1, "zh"), (0, "en"))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]
    assert _state(out) in ("zh", "en") and (out / "user-x.txt").read_text() == "x"
    assert _siblings(out) == []


def test_path_through_a_file_is_one_line_error(plans, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(report.OutputError) as e:
        report.write_all(plans[0], f / "out", lang="en", verbose=False)
    msg = str(e.value)
    assert "\n" not in msg and str(f / "out") in msg


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_parent_is_one_line_error(plans, tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(report.OutputError, match="permission denied"):
            report.write_all(plans[0], parent / "out", lang="en", verbose=False)
    finally:
        parent.chmod(0o755)


# -- a full disk ------------------------------------------------------------------------------
def _write_with_file_size_limit(plan, out: str, limit: int, q) -> None:  # child
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        report.write_all(plan, out, lang="zh", verbose=False)
        q.put(("ok", ""))
    except report.OutputError as e:
        q.put(("OutputError", str(e)))
    except BaseException as e:  # noqa: BLE001 - reported to the test
        q.put((type(e).__name__, str(e)))


def test_no_room_to_write_is_one_line_and_keeps_the_old_plan(plans, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for limit in (20_000, 200_000):  # dies in the GeoPackage / in the report
        q = _CTX.Queue()
        p = _CTX.Process(target=_write_with_file_size_limit,
                         args=(plans[1], str(out), limit, q))
        p.start()
        kind, msg = q.get(timeout=300)
        p.join()
        assert kind == "OutputError", (kind, msg)
        assert "\n" not in msg and str(out) in msg
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert _siblings(out) == []


def test_full_disk_on_a_small_tmpfs(plans, tmp_path):
    """A real ENOSPC on a 300 kB tmpfs (needs permission to mount; skipped otherwise)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)],
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(report.OutputError, match="no space left|disk full") as e:
            report.write_all(plans[0], mnt / "out", lang="zh", verbose=False)
        assert "\n" not in str(e.value)
        assert list(mnt.iterdir()) == []  # nothing half-written left behind
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_cli_check_out_leaves_no_temp_file_on_failure(tmp_path, capsys):
    from careplan.cli import main

    root = Path(__file__).resolve().parents[1]
    gpkg = root / "src" / "careplan" / "datasets" / "sample.gpkg"
    f = tmp_path / "afile"
    f.write_text("x")
    code = main(["check", "--areas", str(gpkg), "--areas-layer", "areas", "--facilities",
                 str(gpkg), "--facilities-layer", "facilities", "--out", str(f / "t.xlsx")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("careplan: error:") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_manifest_detects_a_changed_file(plans, written, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(written["en"], out, symlinks=True)
    assert report.verify_output(out)
    (out / OUTPUT_FILES["tables"]).write_bytes(b"tampered")
    assert not report.verify_output(out)
