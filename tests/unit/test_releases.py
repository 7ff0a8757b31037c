from __future__ import annotations

import pytest

from lab.backends.libvirt import LibvirtBackend
from lab.errors import LabError
from lab.releases import DEFAULT_RELEASE, RELEASES, find_release


def test_the_three_releases_users_run_with_their_boxes() -> None:
    assert list(RELEASES) == ["bullseye", "bookworm", "trixie"]
    assert [r.version for r in RELEASES.values()] == [11, 12, 13]
    assert find_release("trixie").vagrant_box == "debian/trixie64"
    assert find_release("bullseye").local_box == "lvslab/debian11"


def test_no_name_is_the_default_and_an_unknown_one_says_which_exist() -> None:
    assert find_release(None).name == DEFAULT_RELEASE == "bookworm"
    with pytest.raises(LabError, match=r"unknown Debian release 'buster'.*bullseye, bookworm"):
        find_release("buster")


def test_trixies_nodes_get_more_memory() -> None:
    # corosync 3.1.9 was OOM-killed beside pacemaker 3.0 and pcsd at 768M.
    assert find_release("trixie").uml_memory_mib > find_release("bookworm").uml_memory_mib


def test_the_libvirt_lab_boots_the_releases_box_unless_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LVSLAB_BOX", raising=False)
    assert LibvirtBackend.settings("x", find_release("bullseye"))["box"] == "debian/bullseye64"
    assert LibvirtBackend.settings("x")["box"] == "debian/bookworm64"
    monkeypatch.setenv("LVSLAB_BOX", "lvslab/debian12")
    assert LibvirtBackend.settings("x", find_release("trixie"))["box"] == "lvslab/debian12"
