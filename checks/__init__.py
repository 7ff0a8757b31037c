"""Checks: read-only views of cluster state and verdicts over what probes recorded."""
