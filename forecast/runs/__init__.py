"""The edge: the Python API, the command lines, the run pipeline and its result, sweeps, the report's run, the run folder, the run's options and their check."""
