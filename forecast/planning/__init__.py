"""What planners read: indicators and their summaries, demand for places, scenario comparison, warning rules."""
