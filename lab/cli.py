"""lvslab: bring the lab up and down, look at it, reach its nodes, and break it on purpose."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from lab import box, control, deploy, faults, libvirt_sandbox
from lab.backends import BACKENDS
from lab.control import Lab
from lab.errors import LabError
from lab.releases import DEFAULT_RELEASE, RELEASES
from lab.state import DEFAULT_LAB_NAME

DEFAULT_INVENTORY = Path("ansible/hosts")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lvslab", description=__doc__)
    p.add_argument(
        "--name",
        default=os.environ.get("LVSLAB_NAME", DEFAULT_LAB_NAME),
        help="lab instance name, also its network namespace (default: %(default)s)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="build the image if needed, boot the nodes, wait for ssh")
    up.add_argument("--lab", choices=sorted(BACKENDS), default="uml", help="backend")
    up.add_argument(
        "--inventory",
        type=Path,
        default=DEFAULT_INVENTORY,
        help="Ansible inventory naming nodes, service IPs, vip and port",
    )
    up.add_argument("--mgmt-net", help="management network (default 192.168.121.0/24)")
    up.add_argument(
        "--release",
        choices=sorted(RELEASES),
        default=os.environ.get("LVSLAB_RELEASE", DEFAULT_RELEASE),
        help="the nodes' Debian release and its cluster stack: "
        + "; ".join(f"{r.name} ({r.stack})" for r in RELEASES.values())
        + " (default: %(default)s)",
    )

    sub.add_parser("down", help="remove every process, tap, bridge, namespace and overlay")
    deploy_cmd = sub.add_parser(
        "deploy", help="deploy onto the lab (ansible/lvs.yml; --stack keepalived: keepalived.yml)"
    )
    deploy_cmd.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    deploy_cmd.add_argument(
        "--lab",
        choices=["hosts"],
        help="hosts: deploy onto the inventory's own hosts, not a lab (ssh as the inventory "
        "says; the secrets from LVSLAB_HACLUSTER_PASSWORD and LVSLAB_COROSYNC_AUTHKEY)",
    )
    deploy_cmd.add_argument(
        "--stack",
        choices=deploy.STACKS,
        default="pacemaker",
        help="pacemaker: pacemaker + corosync + ldirectord (the article); keepalived: VRRP and "
        "keepalived's checkers, the same service (default: %(default)s)",
    )
    deploy_cmd.add_argument(
        "--profile",
        choices=deploy.PROFILES,
        help="pacemaker stack: seed: the article, flaws included; hardened: the fixes "
        "(default: seed)",
    )
    deploy_cmd.add_argument(
        "--corosync-links",
        choices=deploy.COROSYNC_LINKS,
        help="pacemaker stack: service: corosync on the service NIC only (the article); dual: "
        "plus a link on the management network (default: service)",
    )
    deploy_cmd.add_argument(
        "--keepalived-rules",
        choices=deploy.KEEPALIVED_RULES,
        help="keepalived stack: fwmark: balance only packets no other director forwarded (the "
        "fix); naive: VIP:port rules on every node, the ping-pong trap (default: fwmark)",
    )
    deploy_cmd.add_argument(
        "--strategy",
        choices=deploy.STRATEGIES,
        default="mitogen",
        help="mitogen: one Python per node for the play (fast); stock: Ansible's own",
    )
    status = sub.add_parser("status", help="table of nodes: pid, addresses, reachable")
    status.add_argument("--json", action="store_true", help="print the lab state file instead")

    ssh = sub.add_parser("ssh", help="run a command on a node (a shell without one)")
    ssh.add_argument("node")
    ssh.add_argument("cmd", nargs=argparse.REMAINDER)
    client = sub.add_parser("client", help="run a command on the client side of the network")
    client.add_argument("cmd", nargs=argparse.REMAINDER)

    fault = sub.add_parser("fault", help="apply or heal a fault on one node")
    fault.add_argument("action", choices=["kill", "start", "nic-down", "nic-up", "heal"])
    fault.add_argument("node", nargs="?", help="the node (heal without one heals all nodes)")
    fault.add_argument(
        "--mode",
        choices=sorted(faults.NIC_MODES),
        default="host",
        help="how nic-down cuts the service NIC (default: %(default)s)",
    )

    box_cmd = sub.add_parser("box", help="build the libvirt lab's Vagrant box from Debian packages")
    box_cmd.add_argument(
        "--release",
        choices=sorted(RELEASES),
        default=os.environ.get("LVSLAB_RELEASE", DEFAULT_RELEASE),
        help="the box's Debian release (default: %(default)s)",
    )
    box_cmd.add_argument("--box-name", help="default: lvslab/debianN for the release's N")
    sandbox = sub.add_parser(
        "libvirt-sandbox",
        help="run a private libvirtd inside a network namespace (hosts without system libvirt)",
    )
    sandbox.add_argument("action", choices=["start", "stop"])
    sandbox.add_argument("--netns", default=libvirt_sandbox.DEFAULT_NETNS)
    return p


def cmd_status(lab: Lab, as_json: bool) -> int:
    if as_json:
        print(lab.state.path.read_text(), end="")
        return 0
    rows = [("NODE", "PID", "SERVICE", "MGMT", "RUNNING", "REACHABLE")]
    for node in lab.nodes:
        alive = lab.backend.alive(node.name)
        rows.append(
            (
                node.name,
                str(lab.state.node_data[node.name].get("pid", "-")),
                str(node.service_ip),
                str(node.mgmt_ip),
                "yes" if alive else "no",
                "yes" if alive and lab.reachable(node.name, timeout=8) else "no",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(
        f"lab {lab.state.name} ({lab.state.backend}), vip {lab.topology.vip}:"
        f"{lab.topology.port}, client side {lab.topology.client_ip}"
    )
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_fault(lab: Lab, action: str, node: str | None, mode: str) -> int:
    if action == "heal":
        records = faults.heal_all(lab, [node] if node else None)
    else:
        if node is None:
            raise LabError(f"fault {action} needs a node")
        lab.node(node)
        if action == "kill":
            records = [faults.NodeKill(lab).apply(node)]
        elif action == "start":
            records = [faults.NodeKill(lab).heal(node)]
        elif action == "nic-down":
            records = [faults.nic_fault(lab, mode).apply(node)]
        else:
            records = [faults.nic_fault(lab, mode).heal(node)]
    for record in records:
        print(json.dumps(record))
    return 0


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (timeout, CI cancel) unwinds like Ctrl-C, so lab-up's cleanup runs.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "up":
            control.up(
                args.inventory,
                name=args.name,
                backend=args.lab,
                mgmt_network=args.mgmt_net,
                release=args.release,
            )
            return cmd_status(Lab.find(args.name), as_json=False)
        if args.command in ("box", "libvirt-sandbox") and os.geteuid() != 0:
            what = "builds images (debootstrap)" if args.command == "box" else "makes a namespace"
            raise LabError(f"lvslab {args.command} needs root (it {what})")
        if args.command == "box":
            debian = RELEASES[args.release]
            print(box.ensure_box(args.box_name or debian.local_box, debian))
            return 0
        if args.command == "libvirt-sandbox":
            if args.action == "start":
                libvirt_sandbox.start(args.netns)
                print(f"export LVSLAB_LIBVIRT_NETNS={args.netns}")
            else:
                stopped = libvirt_sandbox.stop(args.netns)
                print("stopped: " + "; ".join(stopped) if stopped else "nothing to stop")
            return 0
        if args.command == "down":
            removed = control.down(args.name)
            print("removed: " + "; ".join(removed) if removed else "nothing to remove")
            return 0
        if args.command == "deploy":
            settings = deploy.DeploySettings.asked(
                args.stack, args.profile, args.corosync_links, args.keepalived_rules, args.strategy
            )
            inventory = args.inventory.resolve()
            if args.lab == "hosts":
                _, recap = deploy.deploy_hosts(inventory, settings)
            else:
                _, recap = deploy.deploy(Lab.find(args.name), inventory, settings)
            print(recap, end="")
            return 0
        lab = Lab.find(args.name)
        if args.command == "status":
            return cmd_status(lab, args.json)
        if args.command == "ssh":
            # Interactive or streamed: hand the terminal over to ssh itself.
            argv_ssh = [
                "ssh",
                "-F",
                str(lab.state.ssh_config),
                "-t" if not args.cmd else "-T",
                lab.node(args.node).name,
                *args.cmd,
            ]
            os.execvp("ssh", argv_ssh)
        if args.command == "client":
            if not args.cmd:
                raise LabError("client needs a command")
            proc = lab.client(args.cmd, check=False, timeout=600)
            sys.stdout.write(proc.stdout)
            sys.stderr.write(proc.stderr)
            return proc.returncode
        if args.command == "fault":
            return cmd_fault(lab, args.action, args.node, args.mode)
    except LabError as exc:
        print(f"lvslab: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # An expected failure of the host (permissions, a full disk, a missing file) is one
        # line, like every other error; tracebacks are for bugs.
        where = f": {exc.filename}" if exc.filename else ""
        print(f"lvslab: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lvslab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
