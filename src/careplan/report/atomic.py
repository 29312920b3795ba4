"""Crash-safe output: one helper for single files and one for a plan's folder.

Guarantee
---------
At every instant the output path holds either the complete earlier output or
the complete new one, whatever kills the writer (``SIGKILL``, power loss aside:
no ``fsync`` of the directory is promised).

Scheme (a folder of outputs, :func:`replace_dir`)
-------------------------------------------------
1. The new output is written into a fresh hidden sibling folder
   ``.<name>.careplan-<uuid>.tmp`` (same file system, so a rename is atomic).
   While it is written the writer holds an exclusive ``flock`` on that folder.
2. Under an exclusive ``flock`` on the parent folder (one writer switches at a
   time; a second writer waits), the user's own files in the current output
   folder (anything that is not one of careplan's output names) are hard-linked
   into the new folder (the same files, not copies: their contents, times and
   permissions are untouched; copied where the file system has no hard links),
   and the folder's permission bits are copied.
3. One atomic switch: ``renameat2(RENAME_EXCHANGE)`` (Linux) or
   ``renamex_np(RENAME_SWAP)`` (macOS) exchanges the new folder with the old
   one in a single step; the old version then sits at the temporary name and is
   removed.  Where the system has no exchange (or the file system refuses it),
   the old folder is first renamed to ``.<name>.careplan-<uuid>.old`` and the new
   one renamed into place; a run that finds the output missing and such an
   ``.old`` folder restores it first.
4. Any later run removes temporary and old folders that no live writer holds
   (the lock of a killed writer is released by the kernel).

If the output path is a symbolic link to a folder, the link is kept and the
folder it points to is replaced.

Single files (:func:`atomic_file`) are written to ``.<name>.careplan-<uuid>.tmp``
beside the target, then moved over it with ``os.replace``; stale temporary files
of killed writers are removed by the next write of the same file.

Errors (full disk, no permission, a path that is not a folder) end in one
:class:`~careplan._errors.CareplanError` whose message names the path.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from careplan._errors import CareplanError, InputError

try:  # POSIX only; elsewhere writes are still atomic but not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["OutputError", "atomic_file", "atomic_write_bytes", "replace_dir", "write_error"]

_TAG = ".careplan-"


class OutputError(CareplanError):
    """An output could not be written (disk full, permissions, path in the way).

    Attributes
    ----------
    path : str
        The output the user asked for.
    reason : str
        What went wrong, in a few words.
    """

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = str(path), " ".join(str(reason).split())
        super().__init__(
            f"could not write {self.path}: {self.reason}; free space, fix the permissions or "
            "choose another output path. Any earlier output there is unchanged.")


def write_error(exc: OSError, path: Path | str) -> OutputError:
    """A one-line :class:`OutputError` for an ``OSError`` raised while writing *path*."""
    reason = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EFBIG: "file too large for this file system or process limit",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
    }.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    return OutputError(path, reason)


# --------------------------------------------------------------------------------------
# locks
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def _flock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on *path* (a file or folder); yields False if not
    acquired (non-blocking) or locking is unavailable."""
    if fcntl is None:  # pragma: no cover
        yield True
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _lock_fd(path: Path) -> int:
    """Open *path* and hold an exclusive ``flock`` on it until the fd is closed."""
    fd = os.open(path, os.O_RDONLY)
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            p.unlink()


def remove_stale(target: Path) -> list[Path]:
    """Remove temporary/old siblings of *target* left by killed writers.

    Returns the paths removed.  A sibling still locked by a live writer is kept.
    """
    removed = []
    parent = target.parent
    with contextlib.suppress(OSError):
        for p in parent.iterdir():
            if not _is_ours(p, target):
                continue
            with _flock(p, blocking=False) as free:
                if free:
                    _remove(p)
                    removed.append(p)
    return removed


def _tmp_name(target: Path, suffix: str = ".tmp") -> Path:
    """``.<name>.careplan-<uuid><suffix>`` beside *target*."""
    return target.parent / f".{target.name}{_TAG}{uuid.uuid4().hex}{suffix}"


def _is_ours(p: Path, target: Path) -> bool:
    name = p.name
    return name.startswith(f".{target.name}{_TAG}") and (
        name.endswith((".tmp", ".old")) or name.endswith(f".tmp{target.suffix}"))


# --------------------------------------------------------------------------------------
# single files
# --------------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, create: bool = True) -> Iterator[Path]:
    """Context manager yielding a temporary path to write; on success it replaces *path*.

    The temporary file sits beside *path* (``.<name>.careplan-<uuid>.tmp``) and is
    removed on failure; stale ones from killed writers are removed first.

    Parameters
    ----------
    path : path-like
        The file to (re)place; its folder must exist.
    create : bool, default True
        Create the (empty) temporary file and lock it while it is written, so a
        concurrent writer's cleanup leaves it alone.  ``False`` for writers that
        need the path not to exist (GeoPackage).

    Yields
    ------
    Path
        Where to write.

    Raises
    ------
    OutputError
        On an ``OSError`` (full disk, permissions), with a one-line message.
    """
    target = Path(path)
    remove_stale(target)
    tmp = _tmp_name(target, ".tmp" + target.suffix)  # keeps the extension writers check
    try:
        if create:
            with open(tmp, "wb"):  # create it, so it can be locked while being written
                pass
        with _flock(tmp):
            yield tmp
            os.replace(tmp, target)
    except OSError as e:
        raise write_error(e, target) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write *data* to *path* atomically (see :func:`atomic_file`); return the path."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


# --------------------------------------------------------------------------------------
# folders
# --------------------------------------------------------------------------------------
def _exchange_fn() -> Callable[[Path, Path], bool] | None:
    """A function atomically exchanging two paths, or None if the system has none."""
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
    except OSError:  # pragma: no cover
        return None
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        fn, at_fdcwd, flag = libc.renameat2, -100, 2  # AT_FDCWD, RENAME_EXCHANGE

        def exchange(a: Path, b: Path) -> bool:
            r = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), flag)
            return _check_exchange(r, a, b)

        return exchange
    if sys.platform == "darwin" and hasattr(libc, "renamex_np"):  # pragma: no cover
        fn, flag = libc.renamex_np, 0x2  # RENAME_SWAP

        def exchange(a: Path, b: Path) -> bool:
            return _check_exchange(fn(os.fsencode(a), os.fsencode(b), flag), a, b)

        return exchange
    return None  # pragma: no cover


def _check_exchange(r: int, a: Path, b: Path) -> bool:
    if r == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # the file system cannot exchange: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


_EXCHANGE: Callable[[Path, Path], bool] | None | bool = False  # False = not looked up yet


def _exchange(a: Path, b: Path) -> bool:
    global _EXCHANGE
    if _EXCHANGE is False:
        _EXCHANGE = _exchange_fn()
    return bool(_EXCHANGE and _EXCHANGE(a, b))  # type: ignore[operator]


def _restore_interrupted(target: Path) -> None:
    """If a two-rename switch was cut between its renames, put the old output back."""
    if target.exists() or target.is_symlink():
        return
    olds = sorted(target.parent.glob(f".{target.name}{_TAG}*.old"),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds:
        with _flock(old, blocking=False) as free:
            if free:
                os.replace(old, target)
                return


def _link_tree(src: Path, dst: Path) -> None:
    """Recreate *src* at *dst*: folders made, files hard-linked (copied if links fail),
    symbolic links recreated as links (never followed)."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        dst.mkdir()
        shutil.copystat(src, dst)
        for p in src.iterdir():
            _link_tree(p, dst / p.name)
    else:
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)


def replace_dir(target: str | os.PathLike, write: Callable[[Path], None], *,
                ours: Iterable[str]) -> Path:
    """Write a folder of outputs and switch it into place atomically.

    Parameters
    ----------
    target : path-like
        The output folder (created with its parents if missing).  A symbolic link
        to a folder is kept; the folder it points to is replaced.
    write : callable
        ``write(folder)`` writes every output into the (empty, new) *folder*.
    ours : iterable of str
        Names of the entries *write* produces.  Every other entry of an existing
        output folder is the user's and is carried over untouched.

    Returns
    -------
    Path
        The output folder.

    Raises
    ------
    InputError
        If *target* exists and is not a folder.
    OutputError
        On an ``OSError`` while writing (full disk, permissions), one line.

    Notes
    -----
    See the module docstring for the scheme and what it guarantees.
    """
    given = Path(target)
    real = Path(os.path.realpath(given)) if given.is_symlink() else given.absolute()
    if real.exists() and not real.is_dir():
        raise InputError(f"{given} exists and is not a directory; choose a directory path.")
    ours = set(ours)
    tmp: Path | None = None
    fd = -1
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        with _flock(real.parent):  # cleanup and claiming a new folder, one writer at a time
            _restore_interrupted(real)
            remove_stale(real)
            tmp = _tmp_name(real)
            tmp.mkdir()
            fd = _lock_fd(tmp)
        write(tmp)
        with _flock(real.parent):  # one switch at a time
            if real.is_dir():
                for p in real.iterdir():
                    if p.name not in ours and not (tmp / p.name).exists():
                        _link_tree(p, tmp / p.name)
                shutil.copymode(real, tmp)
                if not _exchange(tmp, real):
                    old = _tmp_name(real, ".old")
                    os.replace(real, old)
                    os.replace(tmp, real)
                    tmp = old
            else:
                os.replace(tmp, real)
                tmp = None
    except OSError as e:
        raise write_error(e, given) from None
    except OutputError as e:  # from a writer: name the folder the user asked for
        raise OutputError(given, e.reason) from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp is not None:
            _remove(tmp)
    return given
