"""Tests of forecast.models."""
