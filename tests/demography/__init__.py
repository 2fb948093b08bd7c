"""Tests of forecast.demography."""
