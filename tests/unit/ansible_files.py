"""The Python scripts the deploy installs on the nodes (ansible/files/*.py), imported as
modules so their logic is unit-tested on the host."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FILES = Path(__file__).parents[2] / "ansible" / "files"


def load(filename: str) -> ModuleType:
    """ansible/files/<filename> as a module (its dashes become underscores)."""
    name = filename.removesuffix(".py").replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, FILES / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
