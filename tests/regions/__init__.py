"""Tests of forecast.regions."""
