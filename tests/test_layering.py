"""Dependencies point one way (DESIGN.md); the packages imported are this repository's own."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "collector", "storage", "reports", "linkfresh")

# package -> top-level modules it must never import
FORBIDDEN = {
    "config": {"collector", "storage", "reports", "linkfresh", "apscheduler"},
    "collector": {"storage", "reports", "linkfresh", "apscheduler", "sqlmodel", "sqlalchemy"},
    "storage": {"reports", "linkfresh", "apscheduler", "httpx"},
    "reports": {"storage", "linkfresh", "sqlmodel", "sqlalchemy", "httpx", "apscheduler"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_layering(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_imported_packages_are_ours(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert missing == []
