"""Lab backends, looked up by name and imported only when chosen (libvirt-python, for one,
is not needed by someone who runs the embedded lab)."""

from __future__ import annotations

import importlib

from lab.backends.base import Backend
from lab.errors import LabError

BACKENDS = {
    "uml": "lab.backends.uml.UmlBackend",
    "libvirt": "lab.backends.libvirt.LibvirtBackend",
    "hosts": "lab.backends.hosts.HostsBackend",
}


def backend_class(name: str) -> type[Backend]:
    try:
        dotted = BACKENDS[name]
    except KeyError:
        raise LabError(f"unknown lab backend {name!r} (known: {', '.join(BACKENDS)})") from None
    module, _, cls = dotted.rpartition(".")
    return getattr(importlib.import_module(module), cls)
