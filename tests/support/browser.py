"""Headless Chromium for the report tests: measure a page's layout, take screenshots.

No WebDriver: ``chromium --headless --dump-dom`` loads a copy of the page with a small
script appended that measures the layout (at load, and again after scrolling to the
bottom) and writes the numbers into the DOM as JSON, which the dump then carries out.
``--screenshot`` takes the pictures. :func:`find_chromium` installs the Debian package
(``apt-get install -y chromium``) where it is missing and the machine allows it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-dev-shm-usage", "--mute-audio")

#: Appended to the page: the measurements, as JSON in <pre id="rulec-measure">.
MEASURE = r"""
<script>
(function () {
  function box(el) {
    if (!el) return null;
    var r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height};
  }
  function measure() {
    var d = document.documentElement;
    var frames = Array.prototype.map.call(document.querySelectorAll('#frames figure img'), function (i) { return i.getBoundingClientRect().width; });
    var zooms = Array.prototype.map.call(document.querySelectorAll('#failing figure img'), function (i) { return i.getBoundingClientRect().width; });
    var wide = Array.prototype.filter.call(document.querySelectorAll('body *'), function (el) {
      return el.getBoundingClientRect().right > window.innerWidth + 0.5;
    }).map(function (el) { return el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className; }).slice(0, 10);
    return {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, innerWidth: window.innerWidth,
            innerHeight: window.innerHeight, scrollHeight: d.scrollHeight,
            legend: box(document.getElementById('legend')), frames: frames, zooms: zooms, wider: wide};
  }
  window.addEventListener('load', function () {
    var out = {top: measure()};
    window.scrollTo(0, document.documentElement.scrollHeight);
    out.bottom = measure();
    out.bottom.scrollY = window.scrollY;
    var pre = document.createElement('pre');
    pre.id = 'rulec-measure';
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();
</script>
"""


class NoBrowser(RuntimeError):
    """Chromium is missing and cannot be installed here (the message says why)."""


def find_chromium(install: bool = True) -> str:
    """The path of a Chromium binary, installing the Debian package when allowed."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    if not install:
        raise NoBrowser("no chromium on PATH")
    apt = shutil.which("apt-get")
    if apt is None:
        raise NoBrowser("no chromium on PATH and no apt-get to install it")
    if os.geteuid() != 0:
        raise NoBrowser("no chromium on PATH; installing it needs root (apt-get install -y chromium)")
    try:
        done = subprocess.run([apt, "install", "-y", "chromium"], capture_output=True, text=True, timeout=900,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    except subprocess.TimeoutExpired:
        raise NoBrowser("apt-get install -y chromium timed out") from None
    path = shutil.which("chromium")
    if done.returncode != 0 or path is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NoBrowser(f"apt-get install -y chromium failed (exit {done.returncode}): {tail[0]}")
    return path


def _run(browser: str, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([browser, *FLAGS, *args], capture_output=True, text=True, timeout=timeout)


def measure(browser: str, page: Path, width: int, height: int = 900) -> dict:
    """Load ``page`` in a ``width`` x ``height`` window; its layout at the top and scrolled to the bottom."""
    probe = page.with_name(page.stem + f".measure-{width}.html")
    text = page.read_text(encoding="utf-8")
    probe.write_text(text.replace("</body>", MEASURE + "</body>") if "</body>" in text else text + MEASURE, encoding="utf-8")
    done = _run(browser, [f"--window-size={width},{height}", "--virtual-time-budget=10000", "--dump-dom", probe.resolve().as_uri()])
    found = re.search(r'<pre id="rulec-measure">(.*?)</pre>', done.stdout, re.S)
    if not found:
        raise RuntimeError(f"chromium gave no measurements (exit {done.returncode}): {done.stderr[-2000:]}")
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(browser: str, page: Path, png: Path, width: int, height: int) -> Path:
    """A ``width`` x ``height`` screenshot of the top of ``page``."""
    done = _run(browser, [f"--window-size={width},{height}", "--virtual-time-budget=10000",
                          f"--screenshot={png.resolve()}", page.resolve().as_uri()])
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-2000:]}")
    return png
