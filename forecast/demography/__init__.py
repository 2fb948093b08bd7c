"""Demographic methods on labelled arrays: cohort-component step, life tables, graduation, timing, calibration."""
