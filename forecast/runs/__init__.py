"""The edge: command lines, the run pipeline, sweeps, the run folder and the config check."""
