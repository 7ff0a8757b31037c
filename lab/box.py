"""A vagrant-libvirt box built on this machine from the lab's `vm` image, for hosts that
cannot download one (this project's machines have no route to Vagrant Cloud).

A vagrant-libvirt box is a tar of `box.img` (qcow2), `metadata.json` and a Vagrantfile.
The image is a bare ext4 file system with no boot loader, so the box's Vagrantfile boots
Debian's kernel and initramfs directly; they are kept where libvirt's qemu user can read
them (a root home is not traversable for it)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from lab.errors import LabError
from lab.image import VM_BOOT_FILES, ImageCache, ImageRecipe, vm_recipe
from lab.releases import Release, find_release
from lab.shell import run, say, step
from lab.state import home

BOX_NAME = "lvslab/debian12"
BOOT_ROOT = Path("/var/lib/libvirt/boot")
KEY_FILE = "lvslab-image-key"  # in the installed box: which image recipe it was built from
# net.ifnames=0: eth0 is vagrant's management NIC, eth1 the service NIC, as the lab expects.
KERNEL_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0"


def boot_dir(recipe: ImageRecipe, root: Path = BOOT_ROOT) -> Path:
    return root / f"lvslab-{recipe.key}"


def box_vagrantfile(boot: Path) -> str:
    return (
        "# Built by lvs-ha-lab (lab/box.py): direct kernel boot of the image's own kernel.\n"
        'Vagrant.configure("2") do |config|\n'
        "  config.vm.provider :libvirt do |libvirt|\n"
        f'    libvirt.kernel = "{boot / "vmlinuz"}"\n'
        f'    libvirt.initrd = "{boot / "initrd.img"}"\n'
        f'    libvirt.cmd_line = "{KERNEL_CMDLINE}"\n'
        '    libvirt.disk_bus = "virtio"\n'
        "  end\n"
        "end\n"
    )


def box_metadata(image_bytes: int) -> dict[str, object]:
    gib = -(-image_bytes // (1 << 30))  # vagrant-libvirt wants whole GiB, rounded up
    return {"provider": "libvirt", "format": "qcow2", "virtual_size": gib}


def vagrant_home() -> Path:
    return Path(os.environ.get("VAGRANT_HOME", Path.home() / ".vagrant.d"))


def installed_key(name: str, vagrant_dir: Path | None = None) -> str | None:
    """The image key of the installed box of that name, if lvs-ha-lab built it."""
    boxes = (vagrant_dir or vagrant_home()) / "boxes" / name.replace("/", "-VAGRANTSLASH-")
    for key_file in sorted(boxes.rglob(KEY_FILE)) if boxes.is_dir() else ():
        return key_file.read_text().strip()
    return None


def ensure_box(name: str = BOX_NAME, release: Release | None = None) -> str:
    """The box of the release's nodes, built and added unless the installed one comes from
    the current recipe."""
    recipe = vm_recipe((release or find_release(None)).name)
    image = ImageCache(home() / "images").ensure(recipe)
    boot = boot_dir(recipe)
    if installed_key(name) == recipe.key and all((boot / f).exists() for f in VM_BOOT_FILES):
        say(f"vagrant box {name}: up to date (image {recipe.key})")
        return name
    if shutil.which("vagrant") is None or shutil.which("qemu-img") is None:
        raise LabError("building the box needs vagrant and qemu-img (make libvirt-setup)")
    boot.mkdir(parents=True, exist_ok=True)
    for boot_file in VM_BOOT_FILES:
        shutil.copyfile(image.parent / boot_file, boot / boot_file)
        (boot / boot_file).chmod(0o644)
    with tempfile.TemporaryDirectory(prefix="lvslab-box-") as tmp:
        work = Path(tmp)
        with step(f"vagrant box {name}: converting image {recipe.key} to qcow2"):
            qcow2 = str(work / "box.img")
            run(["qemu-img", "convert", "-O", "qcow2", str(image), qcow2], timeout=900)
        (work / "metadata.json").write_text(json.dumps(box_metadata(image.stat().st_size)) + "\n")
        (work / "Vagrantfile").write_text(box_vagrantfile(boot))
        (work / KEY_FILE).write_text(recipe.key + "\n")
        box = work / "box.tar"
        members = ["box.img", "metadata.json", "Vagrantfile", KEY_FILE]
        run(["tar", "-C", str(work), "-cf", str(box), *members], timeout=600)
        with step(f"vagrant box add {name}"):
            run(["vagrant", "box", "add", "--force", "--name", name, str(box)], timeout=900)
    return name
