"""The Debian releases a lab's nodes can run, each with the cluster stack it ships: the
image is built from that suite (debootstrap); on UML the kernel stays the host's."""

from __future__ import annotations

from dataclasses import dataclass

from lab.errors import LabError


@dataclass(frozen=True)
class Release:
    name: str  # the Debian suite
    version: int
    stack: str  # what it ships, for the reader: pacemaker, corosync, pcs
    uml_memory_mib: int  # a UML node's memory: the stack's daemons grow release by release

    @property
    def vagrant_box(self) -> str:
        """Debian's own box on Vagrant Cloud for this release."""
        return f"debian/{self.name}64"

    @property
    def local_box(self) -> str:
        """The box `lvslab box` builds here from Debian packages."""
        return f"lvslab/debian{self.version}"


RELEASES = {
    r.name: r
    for r in (
        Release(
            "bullseye", 11, "pacemaker 2.0.5, corosync 3.1.2, pcs 0.10.8, resource-agents 4.7", 768
        ),
        Release(
            "bookworm", 12, "pacemaker 2.1.5, corosync 3.1.7, pcs 0.11.5, resource-agents 4.12", 768
        ),
        # pacemaker 3.0 beside corosync 3.1.9 and pcsd: corosync was OOM-killed at 768M.
        Release(
            "trixie",
            13,
            "pacemaker 3.0.0, corosync 3.1.9, pcs 0.12.0.2, resource-agents 4.16",
            1024,
        ),
    )
}
DEFAULT_RELEASE = "bookworm"


def find_release(name: str | None) -> Release:
    """The release named, or the default one when none is (a lab state from before releases)."""
    name = name or DEFAULT_RELEASE
    try:
        return RELEASES[name]
    except KeyError:
        known = ", ".join(RELEASES)
        raise LabError(f"unknown Debian release {name!r}: the lab builds {known}") from None
