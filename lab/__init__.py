"""lvs-ha-lab: the lab layer (nodes on an isolated L2 network, and the faults)."""
