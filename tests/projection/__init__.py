"""Tests of forecast.projection."""
