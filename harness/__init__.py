"""The harness that runs the suites: the pytest plugin (options, fixtures, ordering, the
run's report) and what it needs to gate a test on its prerequisites."""
