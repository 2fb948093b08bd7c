"""Figures and the early-warning report's content and page."""
