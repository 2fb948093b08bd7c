"""forecast: population and births forecasting for regional planning."""

__version__ = "0.1.0"
