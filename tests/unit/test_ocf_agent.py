"""The lvs agent's actions that need no cluster: meta-data (valid against resource-agents'
ra-api-1.dtd) and validate-all, run under the real ocf-shellfuncs from Debian's
resource-agents package (unpacked by `make setup`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

AGENT = Path(__file__).parents[2] / "ocf" / "lvs"
RA_ROOT = Path(os.environ.get("LVSLAB_OCF_LIB", Path.home() / ".cache/lvs-ha-lab/resource-agents"))
OCF_ROOT = RA_ROOT / "root/usr/lib/ocf"
DTD = RA_ROOT / "root/usr/share/resource-agents/ra-api-1.dtd"

OCF_SUCCESS, OCF_ERR_CONFIGURED, OCF_ERR_UNIMPLEMENTED = 0, 6, 3


@pytest.fixture(autouse=True)
def _shellfuncs(needs: Callable[[object, str], None]) -> None:
    needs(
        (OCF_ROOT / "lib/heartbeat/ocf-shellfuncs").exists(),
        "resource-agents not unpacked (make setup)",
    )


def agent(action: str, **params: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "OCF_ROOT": str(OCF_ROOT),
        **{f"OCF_RESKEY_{k}": v for k, v in params.items()},
    }
    return subprocess.run(["sh", str(AGENT), action], env=env, capture_output=True, text=True)


def test_meta_data_is_valid_against_the_ra_api_dtd(
    tmp_path: Path, needs: Callable[[object, str], None]
) -> None:
    needs(shutil.which("xmllint"), "xmllint not installed (libxml2-utils; make setup)")
    proc = agent("meta-data")
    assert proc.returncode == OCF_SUCCESS
    (tmp_path / "md.xml").write_text(proc.stdout)
    lint = subprocess.run(
        ["xmllint", "--noout", "--dtdvalid", str(DTD), str(tmp_path / "md.xml")],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stderr


def test_meta_data_speaks_ocf_1_1_roles_and_defaults() -> None:
    md = agent("meta-data").stdout
    assert "<version>1.1</version>" in md
    assert 'role="Promoted"' in md and 'role="Unpromoted"' in md
    assert 'name="vip" unique="1" required="1"' in md
    assert '<content type="string" default="eth0"/>' in md
    assert '<content type="integer" default="32"/>' in md


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "vip is required"),
        ({"vip": "192.168.122"}, "not an IPv4 address"),
        ({"vip": "192.168.122.300"}, "not an IPv4 address"),
        ({"vip": "vip.example"}, "not an IPv4 address"),
        ({"vip": "192.168.122.100", "vip_prefix": "33"}, "not a number from 1 to 32"),
        ({"vip": "192.168.122.100", "vip_prefix": "0"}, "not a number from 1 to 32"),
        ({"vip": "192.168.122.100", "vip_prefix": "x"}, "not a number from 1 to 32"),
        ({"vip": "192.168.122.100", "arp_count": "five"}, "not a whole number"),
        ({"vip": "192.168.122.100", "monitor_mode": "psychic"}, "not supported"),
        ({"vip": "192.168.122.100", "sync_id": "256"}, "not a number from 0 to 255"),
        ({"vip": "192.168.122.100", "sync_id": "-1"}, "not a number from 0 to 255"),
    ],
)
def test_validate_all_rejects_bad_configuration(params: dict[str, str], reason: str) -> None:
    proc = agent("validate-all", **params)
    assert proc.returncode == OCF_ERR_CONFIGURED
    assert reason in proc.stderr


def test_unknown_action_is_unimplemented() -> None:
    assert agent("frobnicate", vip="192.168.122.100").returncode == OCF_ERR_UNIMPLEMENTED
