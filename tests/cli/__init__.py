"""Tests that start the command lines in a subprocess (marked cli)."""
