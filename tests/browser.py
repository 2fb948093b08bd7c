"""Open an HTML file in a real headless Chromium and report what the browser saw.

The browser tests check that a self-contained HTML page (the report) loads without errors,
that its images decode and that its embedded fonts load, and they keep a screenshot. Python
has no websocket client in its standard library (so no DevTools protocol) and the project adds
no packages for this, so only command-line features of headless Chromium are used, in two
runs started side by side, each with a fresh temporary profile (``--user-data-dir``),
``--no-sandbox`` (the tests may run as root) and all host names unresolvable (the page must
need no network):

1. **Screenshot** of the untouched page: ``--screenshot=PATH --window-size=W,H``.
2. **Probe** of a temporary copy of the page, in which a small script is the first element of
   ``<head>`` so that it runs before anything else on the page. It records

   - uncaught exceptions (``error`` events on ``window``) and unhandled promise rejections,
   - every call of ``console.error`` (wrapped, and passed on),
   - elements whose resource failed to load (``error`` events, captured on ``window``, of
     ``<img>``, ``<script>``, ``<link>``),

   and after the ``load`` event and ``document.fonts.ready`` it lists every image
   (``img.complete && img.naturalWidth > 0``) and every font face of ``document.fonts`` with
   its status (``loaded``, ``error``, or ``unloaded`` for a face that no text uses), takes
   ``document.body.innerText``, and writes all of it as JSON into a hidden
   ``<pre id="__page_probe__">``. ``--dump-dom --virtual-time-budget=...`` prints the DOM
   once the page has settled, and the JSON is read back from it with ``html.parser``.

   The copy sits in a temporary directory, not beside the original: a page that needs files
   next to it fails here, as it should for a self-contained report.

A second source of errors is Chromium's own log (``--enable-logging=stderr --v=0``) of both
runs: its ``CONSOLE`` lines do not say the level of a message, so only those that start with
``Uncaught`` or ``Failed to load resource`` are taken, when the probe has not already
reported them. The screenshot run's log covers the page without the probe script.

``loaded`` is true when the probe's JSON came back (the page's load event fired and its fonts
settled within the time limit); ``console_errors`` then also lists images that failed to
decode and fonts whose status is ``error``, so that one empty list means a clean page.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Where `sh tests/browser_setup.sh $(VENV)/browser-setup.txt` (the Makefile's test target)
# leaves the line saying what it did; sys.prefix is the virtual environment the tests run in.
SETUP_STATUS = Path(sys.prefix) / "browser-setup.txt"
PROBE_ID = "__page_probe__"

PROBE_SCRIPT = """<script>(function () {
  var errors = [];
  function show(a) {
    if (a instanceof Error) return a.stack || String(a);
    if (a !== null && typeof a === "object") { try { return JSON.stringify(a); } catch (e) {} }
    return String(a);
  }
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && t.tagName) {
      var url = t.currentSrc || t.src || t.href || "";
      errors.push("Failed to load resource: <" + t.tagName.toLowerCase() + "> "
                  + (url.length > 100 ? url.slice(0, 100) + "..." : url));
    } else {
      errors.push("Uncaught " + (e.error && e.error.stack ? e.error.stack : e.message)
                  + " (" + e.filename + ":" + e.lineno + ")");
    }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("Uncaught (in promise) " + show(e.reason));
  });
  var consoleError = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.map.call(arguments, show).join(" "));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    document.fonts.ready.then(function () {
      var images = Array.prototype.map.call(document.images, function (img) {
        var src = img.currentSrc || img.src || "";
        return {src: src.length > 100 ? src.slice(0, 100) + "..." : src, alt: img.alt,
                loaded: img.complete && img.naturalWidth > 0,
                width: img.naturalWidth, height: img.naturalHeight};
      });
      var fonts = [];
      document.fonts.forEach(function (f) {
        fonts.push({family: f.family.replace(/^["']|["']$/g, ""), weight: f.weight,
                    style: f.style, status: f.status});
      });
      var probe = {errors: errors, images: images, fonts: fonts,
                   text: document.body ? document.body.innerText : ""};
      var pre = document.createElement("pre");
      pre.id = "%s";
      pre.hidden = true;
      pre.textContent = JSON.stringify(probe);
      (document.body || document.documentElement).appendChild(pre);
    });
  });
})();</script>""" % PROBE_ID
# on one line, so that line numbers in messages are those of the original page
PROBE_SCRIPT = " ".join(line.strip() for line in PROBE_SCRIPT.splitlines())

CHROMIUM_FLAGS = (
    "--headless=new",
    "--disable-gpu",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--mute-audio",
    # no network: every host name fails to resolve
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
)
# Chromium logs a console message as
# [pid:tid:date:INFO:CONSOLE:3] "Uncaught Error: boom", source: file:///... (3)
# (older builds: INFO:CONSOLE(3)).
CONSOLE_LINE = re.compile(r':CONSOLE[:(][^\]]*\]\s*"(?P<message>.*)", source: (?P<source>.*)$')


@dataclass
class PageResult:
    console_errors: list[str]
    screenshot: Path
    loaded: bool
    text: str
    # what the probe saw: one dict per <img> (src, alt, loaded, width, height) and one per
    # font face of document.fonts (family, weight, style, status)
    images: list[dict] = field(default_factory=list)
    fonts: list[dict] = field(default_factory=list)

    def font_status(self, family: str) -> set[str]:
        """Statuses of the faces of one family (empty when the page declares none)."""
        return {f["status"] for f in self.fonts if f["family"] == family}


def find_chromium() -> str | None:
    """The path of a Chromium or Chrome binary on PATH, or None."""
    for name in BROWSER_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser's path, or skip the test saying why there is none."""
    path = find_chromium()
    if path:
        return path
    reason = f"none of {', '.join(BROWSER_NAMES)} on PATH; run `sh tests/browser_setup.sh`"
    try:
        status = SETUP_STATUS.read_text(encoding="utf-8").strip()
    except OSError:
        status = ""
    if status:
        reason = f"{reason} (its last run: {status})"
    pytest.skip(f"headless Chromium not available: {reason}")


def with_probe(html: str) -> str:
    """The page with the probe script as the first element of <head>."""
    head = re.search(r"<head\b[^>]*>", html, re.IGNORECASE)
    if head:
        return html[:head.end()] + PROBE_SCRIPT + html[head.end():]
    opening = re.search(r"<html\b[^>]*>", html, re.IGNORECASE)
    if opening:
        return html[:opening.end()] + "<head>" + PROBE_SCRIPT + "</head>" + html[opening.end():]
    doctype = re.match(r"\s*<!doctype[^>]*>", html, re.IGNORECASE)
    at = doctype.end() if doctype else 0
    return html[:at] + PROBE_SCRIPT + html[at:]


class _DomReader(HTMLParser):
    """The probe's JSON, and as a fallback the text outside <script>, <style> and <head>."""

    SKIP = {"script", "style", "head", "title", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.probe: list[str] = []
        self.text: list[str] = []
        self._in_probe = False
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "pre" and dict(attrs).get("id") == PROBE_ID:
            self._in_probe = True
        elif tag in self.SKIP:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "pre" and self._in_probe:
            self._in_probe = False
        elif tag in self.SKIP and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._in_probe:
            self.probe.append(data)
        elif not self._skip:
            self.text.append(data)


def _start(browser: str, args: list[str], profile: Path) -> subprocess.Popen:
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS="disabled:")
    return subprocess.Popen([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)


def _finish(process: subprocess.Popen, timeout: float) -> tuple[str, str, bool]:
    """stdout, stderr, and whether the browser ended within the time limit; on timeout the
    browser's whole process group is ended."""
    try:
        out, err = process.communicate(timeout=timeout)
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), False


def _logged_errors(stderr: str) -> list[str]:
    """Console messages in Chromium's log that are errors whatever their level."""
    errors = []
    for line in stderr.splitlines():
        match = CONSOLE_LINE.search(line)
        if match and match["message"].startswith(("Uncaught", "Failed to load resource")):
            errors.append(f"{match['message']} ({match['source']})")
    return errors


def open_page(html_path: Path, screenshot: Path, width: int = 1280, height: int = 2000,
              timeout: float = 60) -> PageResult:
    """Load html_path in headless Chromium: screenshot to `screenshot` (PNG), errors, images,
    fonts and visible text from the probe (see the module docstring)."""
    browser = find_chromium()
    if browser is None:
        raise RuntimeError(f"none of {', '.join(BROWSER_NAMES)} on PATH")
    html_path = Path(html_path).resolve()
    screenshot = Path(screenshot).resolve()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.unlink(missing_ok=True)
    budget = f"--virtual-time-budget={int(min(timeout, 60) * 1000 // 4)}"
    size = f"--window-size={width},{height}"
    with tempfile.TemporaryDirectory(prefix="page-") as tmp:
        tmp = Path(tmp)
        probed = tmp / "page" / html_path.name
        probed.parent.mkdir()
        probed.write_text(with_probe(html_path.read_text(encoding="utf-8")), encoding="utf-8")
        shot = _start(browser, [budget, size, f"--screenshot={screenshot}",
                                html_path.as_uri()], tmp / "profile-screenshot")
        probe = _start(browser, [budget, size, "--dump-dom", probed.as_uri()],
                       tmp / "profile-probe")
        _, shot_log, _ = _finish(shot, timeout)
        dom, probe_log, _ = _finish(probe, timeout)

    reader = _DomReader()
    reader.feed(dom)
    reader.close()
    try:
        found = json.loads("".join(reader.probe)) if reader.probe else None
    except json.JSONDecodeError:
        found = None
    if found is None:
        errors, images, fonts = [], [], []
        text = re.sub(r"\s+", " ", " ".join(reader.text)).strip()
    else:
        errors, images, fonts, text = (found["errors"], found["images"], found["fonts"],
                                       found["text"])
    errors = [e.replace(probed.as_uri(), html_path.as_uri()) for e in errors]
    for image in images:
        if not image["loaded"] and f"Failed to load resource: <img> {image['src']}" not in errors:
            errors.append(f"image not loaded: {image['src']!r} (alt {image['alt']!r})")
    for font in fonts:
        if font["status"] == "error":
            errors.append(f"font failed to load: {font['family']!r} "
                          f"(weight {font['weight']}, style {font['style']})")
    for message in _logged_errors(probe_log) + _logged_errors(shot_log):
        head = message.split(" (")[0].split("\n")[0]
        if not any(head in known for known in errors):
            errors.append(message)
    return PageResult(console_errors=errors, screenshot=screenshot,
                      loaded=found is not None, text=text, images=images, fonts=fonts)
