"""The package's layers: each folder of ``forecast/`` is a layer, and a module imports only
from its own layer or the ones below it (:data:`LAYERS`, bottom first). Every import is
checked, also those inside functions. The modules at the top (``forecast/__init__.py``,
``__main__.py``, ``testing.py``) may import any layer; no layer imports them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import forecast

PACKAGE = Path(forecast.__file__).parent
#: The layers, bottom first.
LAYERS = ("core", "demography", "data", "models", "regions", "projection", "planning",
          "report", "runs")


def module_name(path: Path, root: Path) -> str:
    """``forecast.a.b`` of ``root/a/b.py`` (``root`` is the package folder)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([root.name, *parts])


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import of the package in ``path``, relative
    imports resolved; ``from a import b`` counts as ``a.b`` where ``b`` is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                sub = root.parent / Path(*candidate.split("."))
                found.append((node.lineno, candidate if sub.with_suffix(".py").is_file()
                              or (sub / "__init__.py").is_file() else base))
    return [(line, name) for line, name in found
            if name == root.name or name.startswith(root.name + ".")]


def layer_of(module: str) -> str | None:
    """The layer of ``forecast.<layer>....``; None for the top modules (``forecast``,
    ``forecast.testing``, ...)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else None


def upward_imports(root: Path, layers: tuple[str, ...] = LAYERS) -> list[str]:
    """Every import of a higher layer or of a top module by a module of a layer, as
    ``file:line: module (layer) imports name (layer)``."""
    rank = {name: i for i, name in enumerate(layers)}
    problems = []
    for path in sorted(root.rglob("*.py")):
        own = layer_of(module_name(path, root))
        if own is None:
            continue
        for line, name in imported_modules(path, root):
            other = layer_of(name)
            if other is None or rank[other] > rank[own]:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {own} imports "
                                f"{name} ({other or 'top of the package'})")
    return problems


def test_every_folder_is_a_layer():
    folders = {p.name for p in PACKAGE.iterdir()
               if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders == set(LAYERS), "a new folder needs its place in LAYERS"


def test_top_holds_only_the_entry_points():
    top = {p.name for p in PACKAGE.glob("*.py")}
    assert top == {"__init__.py", "__main__.py", "testing.py"}


def test_modules_import_only_their_own_or_lower_layers():
    assert upward_imports(PACKAGE) == []


@pytest.mark.parametrize("statement", [
    "from forecast.runs.pipeline import run",
    "import forecast.planning.indicators",
    "from ..planning import indicators",
    "from forecast import testing",
    "def f():\n    from forecast.report.plots import save_png\n",
])
def test_an_upward_import_is_reported(tmp_path, statement):
    root = tmp_path / "forecast"
    for layer in LAYERS:
        (root / layer).mkdir(parents=True)
        (root / layer / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "testing.py").write_text("")
    (root / "runs" / "pipeline.py").write_text("")
    (root / "report" / "plots.py").write_text("")
    (root / "planning" / "indicators.py").write_text("")
    (root / "demography" / "ccmpp.py").write_text(
        "from forecast.core import errors\nfrom . import graduation\n" + statement + "\n")
    (root / "demography" / "graduation.py").write_text("from ..core.errors import InputError\n")
    problems = upward_imports(root)
    assert len(problems) == 1
    assert problems[0].startswith("forecast/demography/ccmpp.py:") and " demography imports " \
        in problems[0]


TESTS = Path(__file__).parent


def test_test_folders_mirror_the_layers():
    folders = {p.name for p in TESTS.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders <= set(LAYERS) | {"cli"}, folders - set(LAYERS) - {"cli"}


def test_only_tests_under_cli_start_a_command_line():
    """A test that starts ``forecast`` or ``forecast-report`` in a subprocess lives in
    tests/cli/ (marked ``cli``), so the in-process suite can run apart: ``pytest -m 'not cli'``."""
    starts = re.compile(r'"-m",\s*"forecast"|"forecast-report"|bin" / "forecast')
    found = [str(p.relative_to(TESTS)) for p in TESTS.rglob("test_*.py")
             if p.parent.name != "cli" and p != Path(__file__)
             and starts.search(p.read_text(encoding="utf-8"))]
    assert found == []
    for path in (TESTS / "cli").glob("test_*.py"):
        assert "pytest.mark.cli" in path.read_text(encoding="utf-8"), path.name
