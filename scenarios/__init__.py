"""Failover scenarios as the suites and benches run them: the runner (a fault held under
the probes, the history recorded), the expectations (bounds with their reasons), and how
the stack announces a new director."""
