"""Forecasting models of the components: fertility, mortality, migration."""
