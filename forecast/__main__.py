"""``python -m forecast``: the command line ``forecast``."""

from forecast.runs.cli import main

main()
