"""Migration models: net migrants by region, sex, age, step and draw."""
