"""Build ``wpp2024_tfr_annual_countries.csv``: WPP 2024's annual TFR estimates of every
country or area, 1950-2023 - the evidence on how often and how far low fertility falls.

Source: the R data package ``wpp2024`` (repository PPgp/wpp2024 on GitHub, maintainer
H. Ševčíková), branch ``main``, commit ``2da7768ae64fc74105d3f9e98f9a74d37b62f99a``, files
``data-raw/tfr.txt`` (annual TFR estimates, one row per location, tab-separated; the input
of the package's ``tfr1dt``) and ``data/UNlocations.txt`` (``location_type`` 4: a country or
area; the other rows are regions and income groups).

Run from the project root::

    python data/make_tfr_countries.py PATH

PATH is a directory holding the two files, or a git clone or mirror of PPgp/wpp2024 (the files
are then read at the commit above with ``git show``). Values are unchanged; the table is
reshaped wide to long. The output is committed, so runs never need the sources.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

COMMIT = "2da7768ae64fc74105d3f9e98f9a74d37b62f99a"
FILES = {"tfr": "data-raw/tfr.txt", "locations": "data/UNlocations.txt"}
COUNTRY = 4  # UNlocations location_type of a country or area
OUT = Path(__file__).with_name("wpp2024_tfr_annual_countries.csv")


def read(source: Path, name: str) -> pd.DataFrame:
    """The tab-separated file ``FILES[name]`` from ``source`` (a folder or a git repository)."""
    path = source / Path(FILES[name]).name
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    else:
        text = subprocess.run(["git", "-C", str(source), "show", f"{COMMIT}:{FILES[name]}"],
                              check=True, capture_output=True, text=True).stdout
    return pd.read_csv(io.StringIO(text), sep="\t")


def main() -> None:
    source = Path(sys.argv[1])
    locations = read(source, "locations")
    countries = set(locations.loc[locations["location_type"] == COUNTRY, "country_code"])
    tfr = read(source, "tfr")
    tfr = tfr[tfr["country_code"].isin(countries)]
    years = [c for c in tfr.columns if c.isdigit()]
    out = tfr.melt(id_vars=["country_code", "country"], value_vars=years, var_name="year",
                   value_name="tfr").rename(columns={"country": "country_name"})
    out["year"] = out["year"].astype(int)
    out = out.dropna(subset=["tfr"]).sort_values(["country_code", "year"])
    out.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(out)} rows, {out['country_code'].nunique()} countries or areas)")


if __name__ == "__main__":
    main()
