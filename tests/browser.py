"""Drive a headless Chromium for the HTML report tests: dump the DOM after scripts ran, or screenshot.

Uses the browser's own ``--dump-dom`` and ``--screenshot`` switches (no DevTools websocket,
so no extra dependency). ``--virtual-time-budget`` lets the page's scripts run before the
DOM is dumped. Chromium comes from Debian (``.ci/install-browser.sh``); ``$CHROMIUM``
overrides the binary. Every run gets a fresh profile directory and no network services.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",                     # the tests run as root in CI containers
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
)
TIMEOUT = 60


def find_chromium() -> str | None:
    """The Chromium binary, or None when none is installed."""
    override = os.environ.get("CHROMIUM")
    if override:
        return override if shutil.which(override) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(url: str, extra: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (run .ci/install-browser.sh)")
    with tempfile.TemporaryDirectory(prefix="opnote-chromium-") as profile:
        cmd = [binary, *FLAGS, f"--user-data-dir={profile}", *extra, url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
                              stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def file_url(path: Path, fragment: str = "") -> str:
    """A file:// URL of ``path``, with ``#fragment`` when given."""
    url = Path(path).resolve().as_uri()
    return f"{url}#{fragment}" if fragment else url


def dump_dom(url: str, budget_ms: int = 3000) -> str:
    """The serialised DOM of ``url`` after its scripts have run."""
    return _run(url, ["--dump-dom", f"--virtual-time-budget={budget_ms}"]).stdout


def screenshot(url: str, out: Path, width: int = 1280, height: int = 1600, budget_ms: int = 3000) -> Path:
    """A PNG screenshot of the top ``width`` x ``height`` pixels of ``url``."""
    out = Path(out).resolve()
    _run(url, [f"--screenshot={out}", f"--window-size={width},{height}",
               f"--virtual-time-budget={budget_ms}"], cwd=out.parent)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {out}")
    return out


def print_pdf(url: str, out: Path, budget_ms: int = 3000) -> Path:
    """The page printed to PDF (print CSS applied), without header and footer."""
    out = Path(out).resolve()
    _run(url, [f"--print-to-pdf={out}", "--no-pdf-header-footer", f"--virtual-time-budget={budget_ms}"],
         cwd=out.parent)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no PDF to {out}")
    return out
