"""The projection of one configuration: models, calibration, scenario, cohort-component; the backtest."""
