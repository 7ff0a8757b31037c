"""Lab benchmark: image build (cold and cached), time to every node reachable, memory;
with --deploy, the deploy's figures on that lab beside issue 17's targets: first deploy,
unchanged re-deploy, a switch of profile and layout and back, a clean deployed cluster
again after the director is killed, and what a process costs on a node.

Figures, not asserts. Cold build runs in a throw-away LVSLAB_HOME so the user's cache stays.
Usage: python bench/lab_bench.py [--cold] [--deploy] [--release R] [--name lvslab-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lab import control, deploy, faults
from lab.cluster import actions, open_cluster
from lab.control import Lab
from lab.image import ImageCache, ImageRecipe, uml_kernel_release
from lab.releases import DEFAULT_RELEASE, RELEASES
from lab.state import home

INVENTORY = deploy.ANSIBLE_DIR / "hosts"


def used_memory_mib() -> float:
    """Host memory in use, counting /dev/shm (UML backs guest RAM with files there)."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, value = line.split(":", 1)
        info[key] = int(value.split()[0])
    return (info["MemTotal"] - info["MemAvailable"]) / 1024


def timed(fn) -> float:
    started = time.monotonic()
    fn()
    return round(time.monotonic() - started, 1)


# Issue 17's targets, seconds: beside each figure in the table, never asserted.
TARGETS = {
    "lab_up_to_reachable_s": 30,
    "first_deploy_s": 120,
    "redeploy_unchanged_s": 30,
    "switch_to_hardened_dual_s": 60,
    "switch_back_to_seed_service_s": 60,
    "clean_again_after_director_kill_s": 60,
}
# What a process costs on a node (seconds, the median of 3): Ansible's per-task price.
ON_NODE = {
    "node_ssh_true_s": "true",
    "node_python_start_s": "python3 -c pass",
    "node_pcs_version_s": "pcs --version",
}


# What the OCF agent's demote and monitor spend their time on, timed inside a node (no ssh
# in the figure): milliseconds per run, the mean of IN_NODE_RUNS runs on an idle lab.
# `--release` runs the same list on another release's nodes: trixie's demote took 3.4 s
# where bookworm's took 0.87 s in one failover matrix, yet idle they cost the same
# (docs/nic-down.md).
IN_NODE = {
    "fork_exec_true": "/bin/true",
    "sh_true": "sh -c true",
    "bash_true": "bash -c true",
    "ip_link_show": "ip -o link show eth0",
    "ip_addr_show": "ip -o -4 addr show dev lo",
    "sysctl_read": "sysctl -n net.ipv4.conf.all.arp_ignore",
    "ipvsadm_list": "ipvsadm -Ln",
    "logger": "logger -t lvs-bench x",
    "source_ocf_shellfuncs": "bash -c '. /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs'",
    "python_start": "python3 -c pass",
}
IN_NODE_RUNS = 10


# ipvsadm's first call would load the module inside the figure.
IN_NODE_PRELUDE = ("modprobe ip_vs",)


def in_node_script(commands: dict[str, str], runs: int, prelude: tuple[str, ...] = ()) -> str:
    """One shell script timing each command `runs` times in a row; a line per command:
    its name and the mean nanoseconds per run (date's %N: no tool the image lacks)."""
    lines = list(prelude)
    for name, command in commands.items():
        lines.append(
            f"s=$(date +%s%N); for i in $(seq {runs}); do {command} >/dev/null 2>&1; done; "
            f'e=$(date +%s%N); echo "{name} $(( (e - s) / {runs} ))"'
        )
    return "\n".join(lines)


def parse_in_node(output: str, commands: dict[str, str]) -> dict[str, float]:
    """Milliseconds per run for every command the script timed, as `cmd_<name>_ms`."""
    timed: dict[str, float] = {}
    for line in output.splitlines():
        name, _, nanoseconds = line.partition(" ")
        if name in commands and nanoseconds.strip().isdigit():
            timed[name] = round(int(nanoseconds) / 1e6, 1)
    missing = sorted(set(commands) - set(timed))
    if missing:
        raise ValueError(f"no timing for {', '.join(missing)} in: {output!r}")
    return {f"cmd_{name}_ms": ms for name, ms in timed.items()}


def in_node_figures(lab: Lab) -> dict[str, float]:
    script = in_node_script(IN_NODE, IN_NODE_RUNS, IN_NODE_PRELUDE)
    return parse_in_node(lab.ssh(lab.nodes[0].name, script).stdout, IN_NODE)


def deploy_figures(lab: Lab) -> dict[str, float]:
    figures: dict[str, float] = {}
    node = lab.nodes[0].name
    for key, command in ON_NODE.items():
        times = sorted(timed(lambda c=command: lab.ssh(node, c)) for _ in range(3))
        figures[key] = times[1]
    figures["first_deploy_s"], _ = deploy.deploy(lab)
    figures["redeploy_unchanged_s"], recap = deploy.deploy(lab)
    figures["redeploy_changed_tasks"] = sum(
        c["changed"] for c in deploy.parse_recap(recap).values()
    )
    hardened = deploy.DeploySettings(profile="hardened", corosync_links="dual")
    figures["switch_to_hardened_dual_s"], _ = deploy.deploy(lab, settings=hardened)
    figures["switch_back_to_seed_service_s"], _ = deploy.deploy(lab)
    cluster = open_cluster(lab)
    director, _ = actions.settle(cluster)
    kill = faults.NodeKill(lab)
    kill.apply(director)
    started = time.monotonic()
    kill.heal(director)
    actions.settle(cluster)
    figures["clean_again_after_director_kill_s"] = round(time.monotonic() - started, 1)
    return {k: round(v, 1) for k, v in figures.items()}


def table(figures: dict[str, float]) -> str:
    rows = [f"{'figure':36} {'measured':>9} {'target':>7}"]
    for key, value in figures.items():
        target = TARGETS.get(key)
        rows.append(f"{key:36} {value:>9} {'<= ' + str(target) if target else '':>7}")
    return "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cold", action="store_true", help="also time a cold image build")
    p.add_argument("--deploy", action="store_true", help="also the deploy's figures")
    p.add_argument("--name", default="lvslab-bench")
    p.add_argument("--release", default=DEFAULT_RELEASE, choices=sorted(RELEASES))
    args = p.parse_args()
    recipe = ImageRecipe(uml_kernel_release(), suite=args.release)
    figures: dict[str, float] = {}
    if args.cold:
        with tempfile.TemporaryDirectory(dir=home().parent) as scratch:
            figures["image_build_cold_s"] = timed(lambda: ImageCache(Path(scratch)).build(recipe))
    cache = ImageCache(home() / "images")
    cache.ensure(recipe)
    figures["image_check_cached_s"] = timed(lambda: cache.ensure(recipe))
    control.down(args.name)
    before = used_memory_mib()
    started = time.monotonic()
    lab = control.up(INVENTORY, name=args.name, release=args.release)
    figures["lab_up_to_reachable_s"] = round(time.monotonic() - started, 1)
    time.sleep(10)  # let boot-time services settle before reading memory
    figures["lab_memory_mib"] = round(used_memory_mib() - before)
    figures["nodes"] = len(lab.nodes)
    try:
        figures.update(in_node_figures(lab))
        if args.deploy:
            figures.update(deploy_figures(lab))
    finally:
        figures["lab_down_s"] = timed(lambda: control.down(args.name))
    print(table(figures))
    out = Path(os.environ.get("REPORTS", "reports"))
    out.mkdir(exist_ok=True)
    (out / f"lab-bench-{args.release}.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
