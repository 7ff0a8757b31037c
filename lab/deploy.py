"""Deploying the cluster onto a running lab: the article's inventory plus what only the lab
knows (how to reach each node, a per-lab hacluster password), then ansible-playbook."""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.control import Lab
from lab.errors import LabError
from lab.playbook_log import PlaybookLog
from lab.remote import DEPLOY_MASTER, control_path
from lab.shell import say
from lab.state import home
from lab.topology import Topology, read_inventory

ANSIBLE_DIR = Path(__file__).resolve().parents[1] / "ansible"
PLAYBOOK = ANSIBLE_DIR / "lvs.yml"
# Each stack's playbook: the article's (pacemaker + corosync + ldirectord) and keepalived's,
# which deploys the same service from the same inventory.
PLAYBOOKS = {"pacemaker": PLAYBOOK, "keepalived": ANSIBLE_DIR / "keepalived.yml"}
TASK_TIMINGS = "deploy-tasks.json"  # in the lab's run dir
# What the playbook's last step writes on every node once the deploy has completed: the
# profile and corosync layout it deployed. "Deployed" is read from here, never guessed.
DEPLOYED_RECORD = "/etc/lvs-ha-lab/deployed.json"

STACKS = tuple(PLAYBOOKS)
PROFILES = ("seed", "hardened")
COROSYNC_LINKS = ("service", "dual")
# keepalived's IPVS rules: fwmark (only packets not forwarded by another director are
# balanced: the fix) or naive (VIP:port on every node: the ping-pong trap, to show it).
KEEPALIVED_RULES = ("fwmark", "naive")
STRATEGIES = ("mitogen", "stock")


@dataclass(frozen=True)
class DeploySettings:
    """What a deploy is asked for: the stack (pacemaker: the article's; keepalived: what its
    readers would pick instead), for pacemaker the profile (seed = the article, flaws
    included; hardened = the fixes) and corosync layout (service = one knet link on the
    service NIC as in the article; dual = a second link on the management network), for
    keepalived its IPVS rules, and how Ansible runs (mitogen: one Python per node for the
    whole play; stock: a Python per task)."""

    profile: str = "seed"
    corosync_links: str = "service"
    strategy: str = "mitogen"
    stack: str = "pacemaker"
    keepalived_rules: str = "fwmark"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("stack", STACKS),
            ("profile", PROFILES),
            ("corosync_links", COROSYNC_LINKS),
            ("strategy", STRATEGIES),
            ("keepalived_rules", KEEPALIVED_RULES),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise LabError(f"unknown {name} {value!r} (one of: {', '.join(allowed)})")

    @classmethod
    def asked(
        cls,
        stack: str,
        profile: str | None,
        corosync_links: str | None,
        keepalived_rules: str | None,
        strategy: str = "mitogen",
    ) -> DeploySettings:
        """The settings from command-line choices (None: not given), refusing one that
        belongs to the other stack rather than ignoring it."""
        foreign = (
            {"--keepalived-rules": keepalived_rules}
            if stack == "pacemaker"
            else {"--profile": profile, "--corosync-links": corosync_links}
        )
        given = [option for option, value in foreign.items() if value is not None]
        if given:
            raise LabError(f"{', '.join(given)}: not a setting of the {stack} stack")
        return cls(
            profile=profile or "seed",
            corosync_links=corosync_links or "service",
            strategy=strategy,
            stack=stack,
            keepalived_rules=keepalived_rules or "fwmark",
        )

    @property
    def playbook(self) -> Path:
        return PLAYBOOKS[self.stack]

    @property
    def needs_secrets(self) -> bool:
        """keepalived's VRRP runs without authentication (VRRPv3 has none): no secrets."""
        return self.stack == "pacemaker"

    def extra_vars(self) -> dict[str, str]:
        if self.stack == "keepalived":
            return {"keepalived_rules": self.keepalived_rules}
        return {"lvs_profile": self.profile, "corosync_links": self.corosync_links}


def mitogen_strategy_dir() -> Path | None:
    """Mitogen's strategy plugins, where the mitogen package is installed."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "plugins" / "strategy"


def strategy_env(strategy: str) -> dict[str, str]:
    """Environment that selects the play's strategy. The play names none itself (a play's
    `strategy:` overrides ANSIBLE_STRATEGY, which would silently run stock Ansible)."""
    if strategy == "stock":
        return {"ANSIBLE_STRATEGY": "linear"}
    plugins = mitogen_strategy_dir()
    if plugins is None or not plugins.is_dir():
        raise LabError("--strategy mitogen needs the mitogen package (pip install mitogen)")
    return {"ANSIBLE_STRATEGY": "mitogen_linear", "ANSIBLE_STRATEGY_PLUGINS": str(plugins)}


# ansible's own ssh multiplexing (ControlPersist=60s, sockets under ~/.ansible/cp named by
# address) let a master expire while a slow UML node was between tasks; ssh's reconnect made
# ansible run the copy module a second time, whose source file the first run had already
# moved: the node failed the task (CI, 2 cores). The deploy's masters therefore live in the
# lab's own socket directory and persist for longer than a deploy takes.
DEPLOY_CONTROL_PERSIST = "30m"


def deploy_ssh_args(ssh_config: Path) -> str | None:
    """ansible_ssh_args for the lab's nodes, or None where the lab's ssh_config has no
    ControlPath (ansible's defaults then apply)."""
    path = control_path(ssh_config)
    if path is None:
        return None
    return (
        f"-C -o ControlMaster=auto -o ControlPersist={DEPLOY_CONTROL_PERSIST} "
        f"-o ControlPath={path.parent}/{DEPLOY_MASTER}"
    )


def lab_group_vars(lab: Lab) -> dict[str, str]:
    """What the playbook needs to know of a lab beyond the article's inventory."""
    # A lab's nodes have one vCPU each on a shared host: pacemaker's load throttle would
    # serialise every action (ansible/lvs.yml, load-threshold).
    found = {"ping_hosts": lab.client_ip, "pacemaker_load_threshold": "400%"}
    if lab.state.mgmt_ifname:
        found["ipvs_sync_nic"] = lab.state.mgmt_ifname
    return found


def render_lab_inventory(lab: Lab) -> str:
    """Connection facts per node; layered after ansible/hosts, so these win."""
    ssh_args = deploy_ssh_args(lab.state.ssh_config)
    lines = ["[nodes:vars]", *(f"{k}={v}" for k, v in lab_group_vars(lab).items()), "[nodes]"]
    for node in lab.nodes:
        lines.append(
            f"{node.name} ansible_host={node.name} ansible_user={lab.state.ssh_user} "
            f"ansible_ssh_common_args='-F {lab.state.ssh_config}' "
            + (f"ansible_ssh_args='{ssh_args}' " if ssh_args else "")
            + f"service_nic={lab.state.service_ifname} mgmt_ip={node.mgmt_ip}"
        )
    return "\n".join(lines) + "\n"


def lab_secret(lab: Lab, name: str, nbytes: int) -> str:
    """Generated once per lab, kept 0600 in the lab's run dir, never printed."""
    path = lab.state.run_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def hacluster_password(lab: Lab) -> str:
    return lab_secret(lab, "hacluster", 18)


def corosync_authkey(lab: Lab) -> str:
    # Printable, 256 characters of token_urlsafe(192): corosync takes any bytes, >= 128.
    return lab_secret(lab, "corosync-authkey", 192)


def playbook_argv(
    inventories: Sequence[Path], settings: DeploySettings = DeploySettings()
) -> list[str]:
    """ansible-playbook with each inventory in order (a later one wins) and the settings."""
    argv = ["ansible-playbook"]
    for inventory in inventories:
        argv += ["-i", str(inventory)]
    for key, value in settings.extra_vars().items():
        argv += ["-e", f"{key}={value}"]
    return [*argv, str(settings.playbook)]


# The playbook reads the cluster's secrets from these (never from the inventory or the repo),
# with their minimum lengths (corosync's key: 128 bytes at least).
SECRET_VARS = (("LVSLAB_HACLUSTER_PASSWORD", 12), ("LVSLAB_COROSYNC_AUTHKEY", 128))


def secrets_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The secrets a deploy onto the user's own hosts needs, from the environment; one line
    naming every one missing or too short, before anything runs."""
    wrong = [
        f"{var} (at least {minimum} characters)"
        for var, minimum in SECRET_VARS
        if len(environ.get(var, "")) < minimum
    ]
    if wrong:
        raise LabError(
            "deploying onto hosts needs the cluster's secrets in the environment: "
            + ", ".join(wrong)
            + " is missing or too short (keep them out of the inventory)"
        )
    return {var: environ[var] for var, _ in SECRET_VARS}


def deploy(
    lab: Lab,
    inventory: Path = ANSIBLE_DIR / "hosts",
    settings: DeploySettings = DeploySettings(),
) -> tuple[float, str]:
    """Deploy onto a lab: the inventory, then what only the lab knows (how to reach each
    node, its per-lab secrets). Return seconds taken and the recap."""
    lab_inventory = lab.state.run_dir / "inventory.ini"
    lab_inventory.write_text(render_lab_inventory(lab))
    secrets_env = {
        "LVSLAB_HACLUSTER_PASSWORD": hacluster_password(lab),
        "LVSLAB_COROSYNC_AUTHKEY": corosync_authkey(lab),
    }
    timings = lab.state.run_dir / TASK_TIMINGS
    return run_playbook([inventory, lab_inventory], settings, secrets_env, timings)


def deploy_hosts(
    inventory: Path,
    settings: DeploySettings = DeploySettings(),
    environ: Mapping[str, str] = os.environ,
) -> tuple[float, str]:
    """Deploy onto the inventory's own hosts (no lab): ssh as the inventory says, the secrets
    from the environment. The inventory and the secrets are checked before anything runs."""
    hosts, group_vars = read_inventory(inventory)
    topology = Topology.build(hosts, group_vars)
    secrets_env = secrets_from_env(environ) if settings.needs_secrets else {}
    hardened = settings.stack == "pacemaker" and settings.profile == "hardened"
    if hardened and not group_vars.get("ping_hosts"):
        raise LabError(
            f"{inventory}: the hardened profile needs ping_hosts in [nodes:vars] (addresses on "
            "the service network that are always up, e.g. its gateway)"
        )
    say(f"deploying onto the hosts of {inventory}: {', '.join(n.name for n in topology.nodes)}")
    timings = home() / "hosts-deploy" / TASK_TIMINGS
    timings.parent.mkdir(parents=True, exist_ok=True)
    return run_playbook([inventory], settings, secrets_env, timings)


def run_playbook(
    inventories: Sequence[Path],
    settings: DeploySettings,
    secrets_env: Mapping[str, str],
    timings: Path,
) -> tuple[float, str]:
    """Run the playbook with its output streamed; return seconds taken and the recap.

    Each task's duration goes to timings; a failure raises LabError naming the failed task
    and why."""
    ansible = Path(sys.executable).with_name("ansible-playbook")
    argv = playbook_argv(inventories, settings)
    if ansible.exists():
        argv[0] = str(ansible)
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        **secrets_env,
        "ANSIBLE_FORCE_COLOR": "0",
        **strategy_env(settings.strategy),
    }
    say(f"deploying ({settings.strategy} ansible): {' '.join(argv)}")
    started = time.monotonic()
    log = PlaybookLog()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ANSIBLE_DIR
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stderr.write(line)
            log.feed(line, time.monotonic() - started)
    took = time.monotonic() - started
    report = {"seconds": round(took, 1), "tasks": log.durations(took)}
    timings.write_text(json.dumps(report, indent=1))
    if proc.returncode != 0:
        where = log.failure_summary() or "(no task reported a failure; see the output above)"
        raise LabError(f"the playbook failed (exit {proc.returncode}) after {took:.0f}s {where}")
    slowest = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in log.slowest(took))
    say(f"deployed in {took:.0f}s; slowest tasks: {slowest} (all: {timings})")
    return took, "".join(log.recap)


def parse_recap(recap: str) -> dict[str, dict[str, int]]:
    """Per-host counters from ansible's PLAY RECAP.

    >>> parse_recap("node1  : ok=8 changed=0 unreachable=0 failed=0")["node1"]["changed"]
    0
    """
    hosts: dict[str, dict[str, int]] = {}
    for line in recap.splitlines():
        host, sep, counters = line.partition(":")
        if not sep or "=" not in counters:
            continue
        hosts[host.strip()] = {
            key: int(value) for key, value in (pair.split("=", 1) for pair in counters.split())
        }
    return hosts
