"""The lab's Debian root image: built from Debian packages with debootstrap, cached outside
the repo under a key derived from its recipe, shared read-only by every node (each node
writes to its own copy-on-write overlay).

Two flavours from one package list: `uml` boots the host's User-Mode Linux kernel (its
modules are copied in), `vm` carries Debian's own kernel and initramfs (taken out next to
the image for direct kernel boot) and what a Vagrant box needs (lab/box.py)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from lab.errors import LabError
from lab.releases import DEFAULT_RELEASE
from lab.shell import run, run_logged, say, step

UML_MODULES = Path("/usr/lib/uml/modules")

# What the cluster needs, pre-installed so deploying is configuration only. Two traps measured
# on Debian 12: pcs and ldirectord fail to configure without perl-openssl-defaults and
# python3-cffi-backend in --include, and pacemaker-cli-utils (crm_mon ...) is only a Recommends.
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "udev",
    "openssh-server",
    "python3",
    "python3-apt",  # for ansible's apt module
    "sudo",
    "iproute2",
    "iputils-ping",
    "iputils-arping",
    "procps",
    "kmod",
    "ethtool",
    "pacemaker",
    "pacemaker-cli-utils",
    "corosync",
    "pcs",
    "resource-agents",
    "ipvsadm",
    "ldirectord",
    "keepalived",  # the keepalived stack (ansible/keepalived.yml), the one users compare
    "libxml2-utils",
    "netcat-openbsd",
    "curl",
    "tcpdump",
    # The UML kernel has no nftables ip/inet families: in-guest drop faults use the legacy
    # iptables/arptables backends, nftables stays for guests whose kernel has it.
    "nftables",
    "iptables",
    "arptables",
    "perl-openssl-defaults",
    "python3-cffi-backend",
)
# Units that only slow a lab node down or spam its console.
MASKED_UNITS = (
    "getty@tty1.service",
    "serial-getty@ttyS0.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "man-db.timer",
    "systemd-timesyncd.service",
)
# systemd generators off (linked to /dev/null in /etc/systemd/system-generators). systemd
# runs every generator at boot and on each daemon-reload: the deploy enables units (one
# reload each) and pacemaker's systemd class reloads on every start and stop; a reload took
# 4-6 s on a UML node, where each exec costs ~0.2 s. These make nothing a lab node uses (no
# encrypted, verity, integrity or GPT-discovered disks, no hibernation, no rc.local or
# offline updates, no kernel-command-line units or gettys); systemd-sysv-generator wraps
# only /etc/init.d/ipvsadm (disabled below: nothing here runs it). fstab's stays.
MASKED_GENERATORS = (
    "systemd-cryptsetup-generator",
    "systemd-debug-generator",
    "systemd-getty-generator",
    "systemd-gpt-auto-generator",
    "systemd-hibernate-resume-generator",
    "systemd-integritysetup-generator",
    "systemd-rc-local-generator",
    "systemd-run-generator",
    "systemd-system-update-generator",
    "systemd-sysv-generator",
    "systemd-veritysetup-generator",
)
# pcsd (pcs's daemon: its web UI and node-to-node pcs commands) runs no part of the cluster,
# yet its Ruby start-up was the largest job of a lab node's boot (pcsd-ruby 23 s, pcsd 12 s in
# systemd-analyze blame) and, on one vCPU, held back corosync and pacemaker: a killed node
# was back in the cluster 39-40 s after its boot began, 29-34 s with pcsd niced (measured).
NICED_UNITS = ("pcsd.service", "pcsd-ruby.service")
NICED_DROPIN = "[Service]\nNice=19\n"
# Installed, not enabled: deploying the cluster is the playbook's job.
DISABLED_UNITS = (
    "corosync.service",
    "pacemaker.service",
    "pcsd.service",
    "pcsd-ruby.service",
    "ldirectord.service",
    "ipvsadm.service",
    "keepalived.service",
)
# A vm image boots Debian's kernel: its initramfs loads virtio before the root mount.
VM_PACKAGES = ("linux-image-amd64",)
VM_BOOT_FILES = {"vmlinuz": "vmlinuz-*", "initrd.img": "initrd.img-*"}
# Vagrant logs in first with its well-known insecure key, then replaces it (insert_key).
VAGRANT_INSECURE_KEYS = (
    "/usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub",  # Debian
    "/opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant.pub",  # HashiCorp's package
)
# Vagrant configures the private network through systemd-networkd when it runs; the
# management NIC (eth0, vagrant-libvirt's network) takes DHCP, identified by its MAC: the
# default DUID gave three nodes one client id, hence one lease (measured).
MGMT_NETWORK_UNIT = "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n\n[DHCPv4]\nClientIdentifier=mac\n"
GUEST_FILES = ("lab-identity", "lab-identity.service", "sshd-lab.conf")
SAMPLES = 64  # 1 MiB blocks hashed to check a cached image quickly (a full hash takes ~14 s)


def uml_kernel_release() -> str:
    releases = sorted(p.name for p in UML_MODULES.glob("*") if p.is_dir())
    if not releases:
        raise LabError(
            f"no User-Mode Linux modules under {UML_MODULES}: "
            "install Debian's user-mode-linux package (make setup)"
        )
    return releases[-1]


def guest_file(name: str) -> bytes:
    return resources.files("lab.guest").joinpath(name).read_bytes()


@dataclass(frozen=True)
class ImageRecipe:
    kernel_release: str  # the UML modules' release; "" for a vm image (own kernel)
    flavour: str = "uml"  # "uml" or "vm"
    mgmt_network_unit: str = ""  # vm: networkd unit of the management NIC
    suite: str = "bookworm"
    mirror: str = "http://deb.debian.org/debian"
    packages: tuple[str, ...] = PACKAGES
    size_mib: int = 3072
    disabled_units: tuple[str, ...] = DISABLED_UNITS
    masked_units: tuple[str, ...] = MASKED_UNITS
    masked_generators: tuple[str, ...] = MASKED_GENERATORS
    niced_units: tuple[str, ...] = NICED_UNITS
    guest_digest: str = field(
        default_factory=lambda: hashlib.sha256(
            b"".join(guest_file(n) for n in GUEST_FILES)
        ).hexdigest()
    )

    @property
    def key(self) -> str:
        """Changes whenever anything that shapes the image changes."""
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def vm_recipe(suite: str = DEFAULT_RELEASE) -> ImageRecipe:
    return ImageRecipe(
        kernel_release="",
        suite=suite,
        flavour="vm",
        packages=PACKAGES + VM_PACKAGES,
        mgmt_network_unit=MGMT_NETWORK_UNIT,
    )


def vagrant_insecure_key() -> str:
    for pattern in VAGRANT_INSECURE_KEYS:
        for path in sorted(Path("/").glob(pattern.lstrip("/")), reverse=True):
            return path.read_text().strip()
    raise LabError("vagrant's insecure public key was not found: is vagrant installed?")


def sampled_digest(path: Path, samples: int = SAMPLES) -> str:
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as f:
        for i in range(samples):
            f.seek(size * i // samples)
            digest.update(f.read(1 << 20))
    return digest.hexdigest()


class ImageCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def image_path(self, recipe: ImageRecipe) -> Path:
        return self.root / recipe.key / "base.img"

    def problem(self, recipe: ImageRecipe) -> str | None:
        """Why the cached image for this recipe cannot be used, or None if it can."""
        image = self.image_path(recipe)
        manifest_path = image.parent / "manifest.json"
        if not manifest_path.exists():
            return "not built"
        try:
            manifest = json.loads(manifest_path.read_text())
            stat = image.stat()
        except (OSError, json.JSONDecodeError) as exc:
            return f"unreadable: {exc}"
        if manifest.get("key") != recipe.key:
            return "manifest is for another recipe"
        if stat.st_size != manifest.get("size") or stat.st_mtime_ns != manifest.get("mtime_ns"):
            return "image changed since it was built"
        if sampled_digest(image) != manifest.get("sampled_sha256"):
            return "image content does not match its manifest"
        return None

    def ensure(self, recipe: ImageRecipe) -> Path:
        problem = self.problem(recipe)
        if problem is None:
            say(f"image {recipe.key}: cached")
            return self.image_path(recipe)
        say(f"image {recipe.key}: {problem}; building it")
        return self.build(recipe)

    def build(self, recipe: ImageRecipe) -> Path:
        final = self.image_path(recipe).parent
        work = self.root / f".build-{recipe.key}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        started = time.monotonic()
        try:
            rootfs = work / "rootfs"
            with step("debootstrap (about 2 minutes)"):
                debootstrap(recipe, rootfs, log=work / "debootstrap.log", debs=self.root / "debs")
            with step("customizing the root filesystem"):
                customize(rootfs, recipe)
            if recipe.flavour == "vm":
                take_boot_files(rootfs, work)
            image = work / "base.img"
            with step("writing the ext4 image"):
                run(
                    [
                        "mkfs.ext4",
                        "-q",
                        "-F",
                        "-L",
                        "labroot",
                        "-d",
                        str(rootfs),
                        str(image),
                        f"{recipe.size_mib}M",
                    ],
                    timeout=600,
                )
            shutil.rmtree(rootfs)
            image.chmod(0o444)  # the shared lower layer: nodes write only to their overlays
            stat = image.stat()
            manifest = {
                "key": recipe.key,
                "recipe": asdict(recipe),
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "sampled_sha256": sampled_digest(image),
                "build_seconds": round(time.monotonic() - started, 1),
            }
            (work / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
            shutil.rmtree(final, ignore_errors=True)
            work.rename(final)  # atomic: a half-built image never sits under its key
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return self.image_path(recipe)


def debootstrap(recipe: ImageRecipe, rootfs: Path, *, log: Path, debs: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed (make setup)")
    debs.mkdir(parents=True, exist_ok=True)
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--cache-dir={debs}",
        f"--include={','.join(recipe.packages)}",
        recipe.suite,
        str(rootfs),
        recipe.mirror,
    ]
    log.unlink(missing_ok=True)
    run_logged(argv, log, timeout=1800)


def chroot(rootfs: Path, *argv: str) -> None:
    run(["chroot", str(rootfs), *argv], timeout=300)


def take_boot_files(rootfs: Path, dest: Path) -> None:
    """The kernel and initramfs, next to the image: libvirt boots them directly."""
    for name, pattern in VM_BOOT_FILES.items():
        found = sorted((rootfs / "boot").glob(pattern))
        if not found:
            raise LabError(f"the vm image has no /boot/{pattern}: did linux-image install?")
        shutil.copyfile(found[-1], dest / name)


def customize(rootfs: Path, recipe: ImageRecipe) -> None:
    sbin = rootfs / "usr/local/sbin/lab-identity"
    sbin.write_bytes(guest_file("lab-identity"))
    sbin.chmod(0o755)
    (rootfs / "etc/systemd/system/lab-identity.service").write_bytes(
        guest_file("lab-identity.service")
    )
    (rootfs / "etc/ssh/sshd_config.d/lab.conf").write_bytes(guest_file("sshd-lab.conf"))
    chroot(rootfs, "systemctl", "enable", "lab-identity.service")
    chroot(rootfs, "systemctl", "disable", *recipe.disabled_units)
    chroot(rootfs, "systemctl", "mask", *recipe.masked_units)
    generators = rootfs / "etc/systemd/system-generators"
    generators.mkdir(parents=True, exist_ok=True)
    for name in recipe.masked_generators:
        (generators / name).symlink_to("/dev/null")
    for unit in recipe.niced_units:
        dropins = rootfs / "etc/systemd/system" / f"{unit}.d"
        dropins.mkdir(parents=True, exist_ok=True)
        (dropins / "lab-nice.conf").write_text(NICED_DROPIN)
    chroot(rootfs, "update-alternatives", "--set", "iptables", "/usr/sbin/iptables-legacy")
    chroot(rootfs, "update-alternatives", "--set", "arptables", "/usr/sbin/arptables-legacy")
    # Identity comes at boot (lab-identity): no shared host keys or machine-id in the image.
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "etc/hostname").write_text("lab\n")
    if recipe.flavour == "vm":
        customize_vm(rootfs, recipe)
    else:
        (rootfs / "etc/fstab").write_text("/dev/ubda / ext4 defaults 0 1\n")
        modules = rootfs / "lib/modules" / recipe.kernel_release
        shutil.rmtree(modules, ignore_errors=True)
        shutil.copytree(UML_MODULES / recipe.kernel_release, modules, symlinks=True)
        chroot(rootfs, "depmod", "-a", recipe.kernel_release)
    chroot(rootfs, "apt-get", "clean")
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)


def customize_vm(rootfs: Path, recipe: ImageRecipe) -> None:
    """What a Vagrant box needs: the vagrant user with the insecure key and passwordless
    sudo, DHCP on the management NIC, networkd running for vagrant's network setup."""
    (rootfs / "etc/fstab").write_text("/dev/vda / ext4 defaults 0 1\n")
    (rootfs / "etc/systemd/network/10-mgmt.network").write_text(recipe.mgmt_network_unit)
    chroot(rootfs, "systemctl", "enable", "systemd-networkd.service")
    chroot(rootfs, "useradd", "--create-home", "--shell", "/bin/bash", "vagrant")
    ssh_dir = rootfs / "home/vagrant/.ssh"
    ssh_dir.mkdir(mode=0o700)
    (ssh_dir / "authorized_keys").write_text(vagrant_insecure_key() + "\n")
    (ssh_dir / "authorized_keys").chmod(0o600)
    chroot(rootfs, "chown", "-R", "vagrant:vagrant", "/home/vagrant/.ssh")
    sudoers = rootfs / "etc/sudoers.d/vagrant"
    sudoers.write_text("vagrant ALL=(ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
