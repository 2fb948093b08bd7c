"""forecast: population and births forecasting for regional planning.

From Python::

    import forecast
    result = forecast.project(["fertility=constant", "horizon=2030"])
    result.projection      # xarray.Dataset (region, sex, age, year, draw)
    result.forecast        # the planner table of forecast.csv (pandas)
    result.save("outputs/constant")   # the files the command line writes

The package is layered, each layer importing only from itself and the ones before it:
``core``, ``demography``, ``data``, ``models``, ``regions``, ``projection``, ``planning``,
``report``, ``runs`` (README, Layout).
"""

from forecast.core.run_files import VERSION as __version__

__all__ = ["project", "backtest", "make_report", "Result", "BacktestResult", "__version__"]

_API = {"project": "forecast.runs.api", "backtest": "forecast.runs.api",
        "make_report": "forecast.runs.api", "Result": "forecast.runs.result",
        "BacktestResult": "forecast.runs.result"}


def __getattr__(name: str):
    """The API is imported on first use, so ``import forecast`` stays light."""
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'forecast' has no attribute {name!r}")
