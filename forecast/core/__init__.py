"""Bottom layer: errors, the inputs, variables and indicators every stage shares, declared options, the run-file contract and its writers."""
