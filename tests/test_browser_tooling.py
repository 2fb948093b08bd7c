"""The headless-browser helper of tests/browser.py, on small hand-made pages: a clean page
with Chinese text in an embedded font and an inline PNG, and pages with a thrown error, a
console error, an unhandled rejection and a broken image, each of which must be reported."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from fontTools import subset
from PIL import Image

from forecast.report.plots import FONT_PATH
from tests.browser import PageResult, open_page, require_chromium

FAMILY = "ReportCJK"
CHINESE = "人口预测报告：二〇三〇年幼儿园需求"


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_chromium()


def font_face_css(text: str, family: str = FAMILY) -> str:
    """An @font-face rule with the project's CJK font cut down to `text`, as a data URI."""
    options = subset.Options()
    font = subset.load_font(str(FONT_PATH), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'@font-face {{ font-family: "{family}"; '
            f'src: url("data:font/otf;base64,{data}") format("opentype"); }}')


def png_data_uri(size=(60, 30), color=(200, 30, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def page(tmp_path: Path, body: str, style: str = "", name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text("<!DOCTYPE html>\n<html lang=\"zh\"><head><meta charset=\"utf-8\">"
                    f"<title>test</title><style>{style}</style></head>\n"
                    f"<body>{body}</body></html>\n", encoding="utf-8")
    return path


def open_in_browser(tmp_path: Path, html: Path) -> PageResult:
    return open_page(html, tmp_path / (html.stem + ".png"), width=800, height=400, timeout=30)


def test_clean_page_with_embedded_font_and_inline_image(chromium, tmp_path):
    style = font_face_css(CHINESE) + f' body {{ font-family: "{FAMILY}"; font-size: 32px; }}'
    html = page(tmp_path, f"<h1>{CHINESE}</h1>"
                          f'<img src="{png_data_uri()}" alt="chart" width="120" height="60">',
                style=style)

    result = open_in_browser(tmp_path, html)

    assert result.loaded
    assert result.console_errors == []
    assert result.font_status(FAMILY) == {"loaded"}
    assert [(i["loaded"], i["width"], i["height"]) for i in result.images] == [(True, 60, 30)]
    assert CHINESE in result.text
    assert result.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(result.screenshot) as shot:
        assert shot.size == (800, 400)
        pixels = shot.convert("L")
        # dark glyphs on the white page, and the red image
        assert pixels.getextrema()[0] < 100
        assert sum(pixels.histogram()[:200]) > 1000


def test_thrown_error_is_reported(chromium, tmp_path):
    html = page(tmp_path, '<p>before</p><script>throw new Error("boom");</script><p>after</p>')

    result = open_in_browser(tmp_path, html)

    assert result.loaded
    assert any("Uncaught" in e and "boom" in e for e in result.console_errors)
    assert "before" in result.text and "after" in result.text


def test_console_error_and_unhandled_rejection_are_reported(chromium, tmp_path):
    html = page(tmp_path, '<script>console.error("bad value", 42);'
                          'Promise.reject(new Error("rejected"));</script>')

    result = open_in_browser(tmp_path, html)

    assert any("console.error: bad value 42" in e for e in result.console_errors)
    assert any("(in promise)" in e and "rejected" in e for e in result.console_errors)


def test_broken_image_is_reported(chromium, tmp_path):
    html = page(tmp_path, f'<img src="{png_data_uri()}" alt="good">'
                          '<img src="data:image/png;base64,iVBORw0KGgoAAAA" alt="broken">')

    result = open_in_browser(tmp_path, html)

    assert result.loaded
    assert [(i["alt"], i["loaded"]) for i in result.images] == [("good", True),
                                                                ("broken", False)]
    assert [e for e in result.console_errors if "<img>" in e or "image" in e]


def test_font_that_cannot_load_is_reported(chromium, tmp_path):
    """A font from the network fails: the browser runs without network access."""
    style = ('@font-face { font-family: "Remote"; src: url("https://fonts.example.com/r.woff2"); }'
             ' body { font-family: "Remote"; }')
    html = page(tmp_path, "<p>text</p>", style=style)

    result = open_in_browser(tmp_path, html)

    assert result.font_status("Remote") == {"error"}
    assert any("font failed to load: 'Remote'" in e for e in result.console_errors)


def test_skips_with_the_reason_when_there_is_no_browser(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.skip.Exception, match="headless Chromium not available"):
        require_chromium()
