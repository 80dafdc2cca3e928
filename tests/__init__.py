"""famd's tests, run with trial."""
