"""Where the project's configuration and embedded data live (the repository's top level)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = str(ROOT / "configs")
DATA_DIR = ROOT / "data"
