"""Tests of forecast.report."""
