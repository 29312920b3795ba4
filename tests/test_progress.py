"""Progress bars: shown on request, silent when quiet or when not on a terminal."""

from __future__ import annotations

from careplan import _progress
from careplan._progress import is_quiet, progress, set_quiet


def test_verbose_true_shows_a_bar_even_when_captured(capsys):
    assert list(progress(range(3), desc="work", verbose=True)) == [0, 1, 2]
    assert "work" in capsys.readouterr().err


def test_default_is_silent_off_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "_QUIET", False)
    assert list(progress(range(3), desc="work")) == [0, 1, 2]  # pytest's capture is not a TTY
    assert capsys.readouterr().err == ""


def test_quiet_and_verbose_false_return_the_iterable_itself(monkeypatch):
    data = [1, 2]
    assert progress(data, verbose=False) is data
    monkeypatch.setattr(_progress, "_QUIET", False)
    set_quiet(True)
    try:
        assert is_quiet() and progress(data) is data
    finally:
        set_quiet(False)
    assert not is_quiet()
