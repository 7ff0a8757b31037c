"""The locally built Vagrant box: its Vagrantfile, metadata, and knowing whether the
installed box comes from the current image recipe."""

from __future__ import annotations

from pathlib import Path

from lab import box
from lab.image import PACKAGES, ImageRecipe, vm_recipe


def test_box_boots_the_images_own_kernel_directly() -> None:
    text = box.box_vagrantfile(Path("/var/lib/libvirt/boot/lvslab-abc"))
    assert 'libvirt.kernel = "/var/lib/libvirt/boot/lvslab-abc/vmlinuz"' in text
    assert 'libvirt.initrd = "/var/lib/libvirt/boot/lvslab-abc/initrd.img"' in text
    # eth0 = vagrant's management NIC, eth1 = service NIC, as the lab expects.
    assert "root=/dev/vda" in text and "net.ifnames=0" in text


def test_metadata_rounds_the_disk_up_to_whole_gib() -> None:
    assert box.box_metadata(3 << 30) == {
        "provider": "libvirt",
        "format": "qcow2",
        "virtual_size": 3,
    }
    assert box.box_metadata((3 << 30) + 1)["virtual_size"] == 4


def test_boot_files_live_where_libvirts_qemu_user_can_read_them() -> None:
    recipe = vm_recipe()
    assert box.boot_dir(recipe) == Path("/var/lib/libvirt/boot") / f"lvslab-{recipe.key}"


def test_installed_key_reads_the_box_vagrant_unpacked(tmp_path: Path) -> None:
    assert box.installed_key("lvslab/debian12", tmp_path) is None
    unpacked = tmp_path / "boxes" / "lvslab-VAGRANTSLASH-debian12" / "0" / "libvirt"
    unpacked.mkdir(parents=True)
    (unpacked / box.KEY_FILE).write_text("0123abcd\n")
    assert box.installed_key("lvslab/debian12", tmp_path) == "0123abcd"
    assert box.installed_key("other/box", tmp_path) is None


def test_vm_recipe_adds_a_kernel_and_has_its_own_key() -> None:
    vm = vm_recipe()
    assert vm.flavour == "vm" and "linux-image-amd64" in vm.packages
    assert set(PACKAGES) <= set(vm.packages)
    assert vm.key != ImageRecipe(kernel_release="6.1.176").key
    # Three nodes, three leases: DHCP must identify each management NIC by its MAC.
    assert "ClientIdentifier=mac" in vm.mgmt_network_unit
