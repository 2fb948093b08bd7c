"""Tests of forecast.runs, in this process."""
