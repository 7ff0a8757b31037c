from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from lab.image import PACKAGES, ImageCache, ImageRecipe, sampled_digest

RECIPE = ImageRecipe(kernel_release="6.1.176")


def test_key_is_stable_and_follows_the_recipe() -> None:
    assert RECIPE.key == ImageRecipe(kernel_release="6.1.176").key
    variants = [
        replace(RECIPE, kernel_release="6.1.177"),
        replace(RECIPE, packages=(*PACKAGES, "vim")),
        replace(RECIPE, suite="trixie"),
        replace(RECIPE, size_mib=4096),
        replace(RECIPE, disabled_units=()),
        replace(RECIPE, masked_generators=()),
        replace(RECIPE, niced_units=()),
        replace(RECIPE, guest_digest="0" * 64),
    ]
    keys = {RECIPE.key, *(v.key for v in variants)}
    assert len(keys) == len(variants) + 1


def test_recipe_carries_the_measured_debootstrap_traps() -> None:
    for package in ("perl-openssl-defaults", "python3-cffi-backend", "pacemaker-cli-utils"):
        assert package in RECIPE.packages


def fake_cached_image(root: Path, recipe: ImageRecipe) -> Path:
    """Lay out what ImageCache.build leaves behind, with a small file as the image."""
    image = ImageCache(root).image_path(recipe)
    image.parent.mkdir(parents=True)
    image.write_bytes(os.urandom(3 << 20))
    stat = image.stat()
    manifest = {
        "key": recipe.key,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sampled_sha256": sampled_digest(image),
    }
    (image.parent / "manifest.json").write_text(json.dumps(manifest))
    return image


def test_a_complete_cache_entry_is_used(tmp_path: Path) -> None:
    fake_cached_image(tmp_path, RECIPE)
    assert ImageCache(tmp_path).problem(RECIPE) is None


def test_nothing_built(tmp_path: Path) -> None:
    assert ImageCache(tmp_path).problem(RECIPE) == "not built"


def test_partial_build_without_manifest_is_not_used(tmp_path: Path) -> None:
    image = fake_cached_image(tmp_path, RECIPE)
    (image.parent / "manifest.json").unlink()
    assert ImageCache(tmp_path).problem(RECIPE) == "not built"


def test_truncated_image_is_detected(tmp_path: Path) -> None:
    image = fake_cached_image(tmp_path, RECIPE)
    with image.open("r+b") as f:
        f.truncate(1 << 20)
    assert ImageCache(tmp_path).problem(RECIPE) == "image changed since it was built"


def test_corrupted_content_with_same_size_and_mtime_is_detected(tmp_path: Path) -> None:
    image = fake_cached_image(tmp_path, RECIPE)
    stat = image.stat()
    with image.open("r+b") as f:
        f.write(b"\xff" * 4096)
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert ImageCache(tmp_path).problem(RECIPE) == "image content does not match its manifest"


def test_missing_image_next_to_manifest(tmp_path: Path) -> None:
    image = fake_cached_image(tmp_path, RECIPE)
    image.unlink()
    assert (ImageCache(tmp_path).problem(RECIPE) or "").startswith("unreadable")


@pytest.mark.parametrize("bad", ["{", json.dumps({"key": "other"})])
def test_bad_manifest(tmp_path: Path, bad: str) -> None:
    image = fake_cached_image(tmp_path, RECIPE)
    (image.parent / "manifest.json").write_text(bad)
    assert ImageCache(tmp_path).problem(RECIPE) is not None
