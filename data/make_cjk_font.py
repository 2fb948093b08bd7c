"""Build forecast/fonts/NotoSansCJKsc-Regular-subset.otf, the Chinese font of the figures.

Source: Noto Sans CJK SC Regular, version 1.004 (Adobe / Google; SIL Open Font License 1.1),
as shipped in the PyPI wheel ``mplfonts==0.0.11`` (file ``mplfonts/fonts/NotoSansCJKsc-
Regular.otf``). The wheel used:

    mplfonts-0.0.11-py3-none-any.whl
    sha256 b5e05ba7fd9a59cae48d1db41f657f50e6765e6f04b8d78504438b93a66b6e13

Only the font is taken from the wheel (not its SimHei, which is not freely licensed). The font
is cut down with ``fontTools.subset`` to the characters the figures can need:

- ASCII and Latin-1 (U+0020-007E, U+00A0-00FF), general punctuation (U+2000-206F);
- CJK symbols and punctuation (U+3000-303F) and full-width forms (U+FF00-FFEF);
- math signs used in labels: − × ÷ ± ≤ ≥ ‰ ° · …;
- every character of GB 2312 (symbol rows 0xA1-0xA9, hanzi rows 0xB0-0xF7; columns
  0xA1-0xFE), found by decoding each two-byte code;
- every non-ASCII character of the project's tables: data/*.csv and the census region list
  shared/data/china_census2020_regions.csv (county names use characters outside GB 2312,
  e.g. 亳, 儋, 涪 are in it but some others are not).

Name tables are kept (the family stays "Noto Sans CJK SC"); the OFL 1.1 text and the font's
copyright line are in forecast/fonts/OFL.txt.

Regenerate from the project root:

    .venv/bin/python data/make_cjk_font.py                      # downloads the wheel with pip
    .venv/bin/python data/make_cjk_font.py --wheel path/to/mplfonts-0.0.11-py3-none-any.whl

The wheel's sha256 is checked against the one above before its font is used.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "forecast" / "fonts" / "NotoSansCJKsc-Regular-subset.otf"
WHEEL = "mplfonts-0.0.11-py3-none-any.whl"
WHEEL_SHA256 = "b5e05ba7fd9a59cae48d1db41f657f50e6765e6f04b8d78504438b93a66b6e13"
FONT_IN_WHEEL = "mplfonts/fonts/NotoSansCJKsc-Regular.otf"
TABLES = sorted(ROOT.glob("data/*.csv")) + [
    ROOT.parent / "shared" / "data" / "china_census2020_regions.csv"
]
RANGES = [
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
]
MATH_SIGNS = "−×÷±≤≥‰°·…"


def gb2312_characters() -> set[str]:
    """Every character of GB 2312: symbol rows 0xA1-0xA9 and hanzi rows 0xB0-0xF7."""
    rows = list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8))
    found = set()
    for row in rows:
        for col in range(0xA1, 0xFF):
            try:
                found.add(bytes([row, col]).decode("gb2312"))
            except UnicodeDecodeError:
                continue  # unassigned code point
    return found


def table_characters(paths: list[Path]) -> set[str]:
    """Non-ASCII characters of the given UTF-8 text files (missing files are skipped)."""
    found = set()
    for path in paths:
        if path.exists():
            found |= {c for c in path.read_text(encoding="utf-8-sig") if ord(c) > 0x7F}
        else:
            print(f"skipped (not found): {path}", file=sys.stderr)
    return found


def wanted_codepoints() -> set[int]:
    """Code points to keep in the subset."""
    points = {cp for lo, hi in RANGES for cp in range(lo, hi + 1)}
    points |= {ord(c) for c in MATH_SIGNS}
    points |= {ord(c) for c in gb2312_characters()}
    points |= {ord(c) for c in table_characters(TABLES) if c.isprintable()}
    return points


def fetch_wheel(folder: Path) -> Path:
    """Download the mplfonts wheel (without dependencies) into ``folder`` with pip."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "mplfonts==0.0.11", "-d", str(folder)],
        check=True,
    )
    return folder / WHEEL


def checked_font(wheel: Path, folder: Path) -> Path:
    """Check the wheel's sha256 and extract its Noto Sans CJK SC font into ``folder``."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: sha256 {digest}; expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as archive:
        archive.extract(FONT_IN_WHEEL, folder)
    return folder / FONT_IN_WHEEL


def subset_font(source: Path, out: Path, codepoints: set[int]) -> None:
    """Write the subset of ``source`` covering ``codepoints`` to ``out``, name tables kept."""
    options = subset.Options()
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    options.drop_tables += ["DSIG"]
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    out.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(out), options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"path to {WHEEL} (else downloaded)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        source = checked_font(wheel, Path(tmp))
        codepoints = wanted_codepoints()
        subset_font(source, OUT, codepoints)
    covered = len(TTFont(OUT).getBestCmap())
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB, {covered} characters "
          f"of {len(codepoints)} asked)")


if __name__ == "__main__":
    main()
