"""Faults (the nemesis). Each is a tiny protocol in Jepsen's manner: apply() does the damage
and returns what it did as data; heal() undoes it, is idempotent, and is safe to call on a
node that was never faulted. Callers register heal() the moment they apply.

NIC-down comes three ways, the way corosync's maintainers and pacemaker CTS cut a node:
- host:   the cable is pulled at the switch (backend capability LINK);
- ifdown: `ip link set eth0 down` inside the guest;
- drop:   the guest's firewall drops everything on eth0, ARP included (nftables where the
          guest kernel has it; legacy iptables + arptables otherwise, as on UML).
"""

from __future__ import annotations

import shlex
import time
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from lab.backends.base import LINK, POWER
from lab.control import Lab
from lab.errors import LabError

Record = dict[str, Any]


class Fault(ABC):
    name: ClassVar[str]
    needs: ClassVar[str | None] = None  # backend capability, if any

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        if self.needs and self.needs not in lab.backend.CAPABILITIES:
            raise LabError(
                f"the {lab.backend.NAME} backend cannot do {self.name} "
                f"(it lacks the {self.needs} capability)"
            )

    def _record(self, action: str, node: str, **details: Any) -> Record:
        return {"time": time.time(), "fault": self.name, "action": action, "node": node, **details}

    @abstractmethod
    def apply(self, node: str) -> Record: ...

    @abstractmethod
    def heal(self, node: str) -> Record: ...


class NodeKill(Fault):
    name = "kill"
    needs = POWER

    def apply(self, node: str) -> Record:
        self.lab.backend.kill(node)
        return self._record("apply", node)

    def heal(self, node: str) -> Record:
        was_dead = not self.lab.backend.alive(node)
        if was_dead:
            self.lab.backend.start(node)
            self.lab.wait_reachable([node])
        return self._record("heal", node, booted=was_dead)


class LinkCut(Fault):
    name = "nic-host"
    needs = LINK

    def apply(self, node: str) -> Record:
        self.lab.backend.cut_link(node)
        return self._record("apply", node)

    def heal(self, node: str) -> Record:
        was_cut = self.lab.backend.link_cut(node)
        if was_cut:
            self.lab.backend.restore_link(node)
        return self._record("heal", node, changed=was_cut)


class InGuestNicFault(Fault):
    """A NIC fault made inside the node over ssh. Where the backend asks for it (real hosts),
    apply() first schedules the heal on the node itself (a transient systemd timer), so a
    harness that dies or loses its link mid-fault cannot leave the node cut for good; heal()
    cancels the timer. It refuses a node whose ssh goes through the NIC it would cut."""

    def heal_script(self) -> str:
        raise NotImplementedError

    def timer_unit(self) -> str:
        return f"lvslab-heal-{self.name}"

    def guard(self, node: str) -> None:
        if not self.lab.backend.ssh_apart(node):
            raise LabError(
                f"{self.name} on {node}: ssh reaches it over its service NIC; cutting that NIC "
                "would cut the harness off (give ansible_host a management address)"
            )
        after = self.lab.backend.SELF_HEAL_S
        if after is not None:
            self.lab.ssh(node, self_heal_command(self.timer_unit(), after, self.heal_script()))

    def cancel_self_heal(self, node: str) -> None:
        if self.lab.backend.SELF_HEAL_S is not None:
            self.lab.ssh(node, f"systemctl stop {self.timer_unit()}.timer 2>/dev/null; true")


def self_heal_command(unit: str, after_s: float, script: str) -> str:
    """A transient timer on the node that runs script once after after_s seconds.

    >>> self_heal_command("lvslab-heal-x", 300, "ip link set eth0 up").split(" /bin/sh")[0]
    'systemd-run --quiet --collect --unit=lvslab-heal-x --on-active=300'
    """
    return (
        f"systemd-run --quiet --collect --unit={unit} --on-active={after_s:g} "
        f"/bin/sh -c {shlex.quote(script)}"
    )


class IfDown(InGuestNicFault):
    name = "nic-ifdown"

    def heal_script(self) -> str:
        return f"ip link set {shlex.quote(self.lab.state.service_ifname)} up"

    def apply(self, node: str) -> Record:
        self.guard(node)
        self.lab.ssh(node, ["ip", "link", "set", self.lab.state.service_ifname, "down"])
        return self._record("apply", node)

    def heal(self, node: str) -> Record:
        ifname = self.lab.state.service_ifname
        was_down = not link_flag_up(self.lab.ssh(node, ["ip", "-o", "link", "show", ifname]).stdout)
        self.lab.ssh(node, ["ip", "link", "set", ifname, "up"])
        self.cancel_self_heal(node)
        return self._record("heal", node, changed=was_down)


def link_flag_up(ip_link_line: str) -> bool:
    """Whether the administrative UP flag is set in `ip -o link show` output (the operstate
    column is no use: UML's NICs report UNKNOWN whatever their state).

    >>> link_flag_up("2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UNKNOWN")
    True
    >>> link_flag_up("2: eth0: <BROADCAST,MULTICAST> mtu 1500 state DOWN")
    False
    """
    flags = ip_link_line.partition("<")[2].partition(">")[0]
    return "UP" in flags.split(",")


# The firewall variant, as one remote script per direction so apply and heal are atomic per
# call. Named table/chain `lab_fault` / LAB-FAULT so heal only ever removes its own rules.
DROP_APPLY = r"""
set -e
if nft add table inet lab_fault 2>/dev/null; then
    nft -f - <<NFT
table inet lab_fault {
  chain drop_in  { type filter hook input   priority -300; iifname "$nic" drop; }
  chain drop_fwd { type filter hook forward priority -300; iifname "$nic" drop;
                   oifname "$nic" drop; }
  chain drop_out { type filter hook output  priority -300; oifname "$nic" drop; }
}
table arp lab_fault {
  chain drop_in  { type filter hook input  priority 0; iifname "$nic" drop; }
  chain drop_out { type filter hook output priority 0; oifname "$nic" drop; }
}
NFT
    echo nftables
else
    # ensure RULE...: insert a rule unless it is there already (idempotent apply)
    ensure() { tool=$1; shift; "$tool" -C "$@" 2>/dev/null || "$tool" -I "$@"; }
    iptables -N LAB-FAULT 2>/dev/null || iptables -F LAB-FAULT
    iptables -A LAB-FAULT -j DROP
    ensure iptables INPUT -i "$nic" -j LAB-FAULT
    ensure iptables FORWARD -i "$nic" -j LAB-FAULT
    ensure iptables FORWARD -o "$nic" -j LAB-FAULT
    ensure iptables OUTPUT -o "$nic" -j LAB-FAULT
    # legacy arptables has no -C: drop any earlier copy, then insert one
    while arptables -D INPUT -i "$nic" -j DROP 2>/dev/null; do :; done
    while arptables -D OUTPUT -o "$nic" -j DROP 2>/dev/null; do :; done
    arptables -I INPUT -i "$nic" -j DROP
    arptables -I OUTPUT -o "$nic" -j DROP
    echo iptables
fi
"""
DROP_HEAL = r"""
changed=no
if command -v nft >/dev/null; then
    nft delete table inet lab_fault 2>/dev/null && changed=yes
    nft delete table arp lab_fault 2>/dev/null && changed=yes
fi
if iptables -n -L LAB-FAULT >/dev/null 2>&1; then
    for rule in "INPUT -i" "FORWARD -i" "FORWARD -o" "OUTPUT -o"; do
        while iptables -D $rule "$nic" -j LAB-FAULT 2>/dev/null; do :; done
    done
    iptables -F LAB-FAULT; iptables -X LAB-FAULT
    changed=yes
fi
while arptables -D INPUT -i "$nic" -j DROP 2>/dev/null; do changed=yes; done
while arptables -D OUTPUT -o "$nic" -j DROP 2>/dev/null; do changed=yes; done
echo $changed
"""


class FirewallDrop(InGuestNicFault):
    name = "nic-drop"

    def _script(self, body: str) -> str:
        return f"nic={shlex.quote(self.lab.state.service_ifname)}\n{body}"

    def heal_script(self) -> str:
        return self._script(DROP_HEAL)

    def apply(self, node: str) -> Record:
        self.guard(node)
        out = self.lab.ssh(node, self._script(DROP_APPLY)).stdout.split()
        return self._record("apply", node, firewall=out[-1] if out else "?")

    def heal(self, node: str) -> Record:
        out = self.lab.ssh(node, self._script(DROP_HEAL)).stdout
        self.cancel_self_heal(node)
        return self._record("heal", node, changed=out.split()[-1:] == ["yes"])


NIC_MODES: dict[str, type[Fault]] = {"host": LinkCut, "ifdown": IfDown, "drop": FirewallDrop}


def nic_fault(lab: Lab, mode: str) -> Fault:
    try:
        return NIC_MODES[mode](lab)
    except KeyError:
        raise LabError(f"unknown nic-down mode {mode!r} (modes: {', '.join(NIC_MODES)})") from None


def heal_all(lab: Lab, nodes: list[str] | None = None) -> list[Record]:
    """Undo every fault on every node: boot dead nodes, restore cables, lift in-guest cuts.
    The nodes are healed side by side: each heal is a few ssh round trips, which add up on
    slow nodes, and every settle begins with one."""
    targets = nodes or [n.name for n in lab.nodes]
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        per_node = list(pool.map(lambda node: heal_node(lab, node), targets))
    return [record for records in per_node for record in records]


def heal_node(lab: Lab, node: str) -> list[Record]:
    caps = lab.backend.CAPABILITIES
    records = []
    if POWER in caps:
        records.append(NodeKill(lab).heal(node))
    if LINK in caps:
        records.append(LinkCut(lab).heal(node))
    records.append(IfDown(lab).heal(node))
    records.append(FirewallDrop(lab).heal(node))
    return records
