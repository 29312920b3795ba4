"""Open a local HTML file in headless Chromium and inspect it (DevTools protocol over a pipe).

No browser driver or websocket package is needed: Chromium started with
``--remote-debugging-pipe`` reads JSON commands (NUL-terminated) on fd 3 and writes
replies and events on fd 4.  Used by the report tests to check that hostile data
runs nothing and that the map renders, and to take screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-extensions", "--mute-audio", "--hide-scrollbars"]


def chromium_path() -> str | None:
    """The Chromium (or Chrome) executable, or None when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _onto_3_4(fd_in: int, fd_out: int) -> None:
    """In the child: put *fd_in* on fd 3 and *fd_out* on fd 4 (inheritable)."""
    a, b = os.dup(fd_in), os.dup(fd_out)  # copies above 4 first, so nothing is clobbered
    while a <= 4 or b <= 4:
        a, b = (os.dup(a) if a <= 4 else a), (os.dup(b) if b <= 4 else b)
    os.dup2(a, 3)
    os.dup2(b, 4)


class Browser:
    """A headless Chromium session on one page; use as a context manager."""

    def __init__(self, *, width: int = 1280, height: int = 900, timeout_s: float = 60.0):
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium is not installed")
        self.timeout_s = timeout_s
        self._profile = tempfile.mkdtemp(prefix="careplan-chromium-")
        r_cmd, w_cmd = os.pipe()  # we write commands -> chromium reads fd 3
        r_out, w_out = os.pipe()  # chromium writes fd 4 -> we read
        self._proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self._profile}", "--remote-debugging-pipe",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=lambda: _onto_3_4(r_cmd, w_out))
        os.close(r_cmd)
        os.close(w_out)
        self._w, self._r = w_cmd, r_out
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    # -- protocol -------------------------------------------------------------------
    def _send(self, method: str, params: dict | None = None, *, session: bool = True) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, deadline: float) -> dict | None:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._r], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _handle_event(self, msg: dict) -> None:
        self.events.append(msg)
        if msg.get("method") == "Page.javascriptDialogOpening":
            self._send("Page.handleJavaScriptDialog", {"accept": True})

    def call(self, method: str, params: dict | None = None, *, session: bool = True) -> dict:
        """Send a command and return its result (events meanwhile go to :attr:`events`)."""
        mid = self._send(method, params, session=session)
        deadline = time.monotonic() + self.timeout_s
        while True:
            msg = self._read(deadline)
            if msg is None:
                raise TimeoutError(f"no reply to {method}")
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self._handle_event(msg)

    def wait_event(self, method: str, timeout_s: float | None = None) -> dict | None:
        """Wait for the event *method* (returns it, or None on timeout)."""
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while True:
            msg = self._read(deadline)
            if msg is None:
                return None
            if "method" in msg:
                self._handle_event(msg)
                if msg["method"] == method:
                    return msg

    def pump(self, seconds: float) -> None:
        """Collect events for *seconds*."""
        deadline = time.monotonic() + seconds
        while self._read_event(deadline):
            pass

    def _read_event(self, deadline: float) -> bool:
        msg = self._read(deadline)
        if msg is None:
            return False
        if "method" in msg:
            self._handle_event(msg)
        return True

    # -- page -----------------------------------------------------------------------
    def open(self, path: str | os.PathLike, *, settle_s: float = 1.5) -> None:
        """Open a local file and wait for its load event plus *settle_s* seconds."""
        url = Path(path).resolve().as_uri()
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        sess = self.call("Target.attachToTarget", {"targetId": target["targetId"],
                                                   "flatten": True}, session=False)
        self.session = sess["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        if self.wait_event("Page.loadEventFired") is None:
            raise TimeoutError(f"{url} did not load")
        self.pump(settle_s)

    def eval(self, expression: str) -> Any:
        """Evaluate *expression* in the page; return its JSON value."""
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"evaluation failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def screenshot(self, path: str | os.PathLike, *, full_page: bool = True) -> Path:
        """Save a PNG screenshot of the page."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": min(size["height"], 16000), "scale": 1}
        data = self.call("Page.captureScreenshot", params)["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    # -- what happened ----------------------------------------------------------------
    def dialogs(self) -> list[str]:
        """Messages of alert/confirm/prompt dialogs the page opened."""
        return [e["params"].get("message", "") for e in self.events
                if e.get("method") == "Page.javascriptDialogOpening"]

    def errors(self) -> list[str]:
        """Uncaught exceptions and console errors of the page (and its frames)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(d.get("exception", {}).get("description") or d.get("text", ""))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", "")))
                                    for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(p["entry"].get("text", ""))
        return out

    def close(self) -> None:
        try:
            self._send("Browser.close", session=False)
            self._proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
            self._proc.wait()
        finally:
            for fd in (self._w, self._r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
