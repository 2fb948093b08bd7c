"""Tests of forecast.data: every input table read and checked."""
