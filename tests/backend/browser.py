"""Pages in a real browser: the app under uvicorn on a free port, and headless Chromium dumping the DOM."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

from backend_helpers import serve  # noqa: F401 - the page tests take it from here


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def render(url: str, tmp_path: Path, budget_ms: int = 15000) -> str:
    """The DOM after the page's scripts ran (virtual time lets its fetches finish before the dump)."""
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'chromium'}", f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def text_of(dom: str) -> str:
    """Visible-ish text: tags dropped, entities decoded, whitespace collapsed."""
    dom = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", dom, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom))).strip()
