"""The lab's Debian root image: built from Debian packages with debootstrap, cached outside
the repo under a key derived from its recipe, shared read-only by every node (each node
writes to its own copy-on-write overlay)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from lab.errors import LabError
from lab.shell import run, say, step

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
# Installed, not enabled: deploying the cluster is the playbook's job.
DISABLED_UNITS = (
    "corosync.service",
    "pacemaker.service",
    "pcsd.service",
    "pcsd-ruby.service",
    "ldirectord.service",
    "ipvsadm.service",
)
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
    kernel_release: str
    suite: str = "bookworm"
    mirror: str = "http://deb.debian.org/debian"
    packages: tuple[str, ...] = PACKAGES
    size_mib: int = 3072
    disabled_units: tuple[str, ...] = DISABLED_UNITS
    masked_units: tuple[str, ...] = MASKED_UNITS
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
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                lines = log.read_text(errors="replace").strip().splitlines()
                say(f"  debootstrap: {lines[-1] if lines else 'starting'}")
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise LabError(f"debootstrap failed (exit {proc.returncode}): {' | '.join(tail)}")


def chroot(rootfs: Path, *argv: str) -> None:
    run(["chroot", str(rootfs), *argv], timeout=300)


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
    chroot(rootfs, "update-alternatives", "--set", "iptables", "/usr/sbin/iptables-legacy")
    chroot(rootfs, "update-alternatives", "--set", "arptables", "/usr/sbin/arptables-legacy")
    # Identity comes at boot (lab-identity): no shared host keys or machine-id in the image.
    for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "etc/hostname").write_text("lab\n")
    (rootfs / "etc/fstab").write_text("/dev/ubda / ext4 defaults 0 1\n")
    modules = rootfs / "lib/modules" / recipe.kernel_release
    shutil.rmtree(modules, ignore_errors=True)
    shutil.copytree(UML_MODULES / recipe.kernel_release, modules, symlinks=True)
    chroot(rootfs, "depmod", "-a", recipe.kernel_release)
    chroot(rootfs, "apt-get", "clean")
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
