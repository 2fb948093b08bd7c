"""Tests of forecast.planning."""
