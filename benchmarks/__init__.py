"""pytest-benchmark suites and the strategy comparison script (run without xdist)."""
