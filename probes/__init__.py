"""Probes: run on the client side of the service network; they record, never assert."""
