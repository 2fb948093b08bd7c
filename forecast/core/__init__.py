"""Bottom layer: errors, the variables and indicators every stage shares, the run-file contract and writers."""
