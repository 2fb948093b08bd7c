"""Fertility models: each turns the inputs into ASFR and sex ratio at birth per projection step.

A model is a small class with ``rates(inputs, steps) -> xr.Dataset`` holding ``asfr``
(region, age, year[, draw]) and ``srb`` (region, year[, draw]) for the steps starting 1 July of
each year in ``steps``. Models never read files and never know about Hydra.
"""
