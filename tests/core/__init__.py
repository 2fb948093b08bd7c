"""Tests of forecast.core."""
