"""Mortality models: death rates by region, sex, age, year and draw."""
