"""Dependencies point one way (docs/ARCHITECTURE.md); the modules imported are this repository's.

Rules compare full module names, so a rule can name one sub-package ("stages never import
linkfresh.commands"), and `importlib.import_module("...")` strings count as imports.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Repository folder -> the import name it is installed under.
FOLDERS = {
    "linkfresh": "linkfresh",
    "collector": "linkfresh.collector",
    "storage": "linkfresh.storage",
    "reports": "linkfresh.reports",
    "config": "linkfresh.config",
}

# Module prefix -> module prefixes it must never import. A rule covers a module when the
# module's name is the prefix or starts with it and a dot.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "linkfresh.config": (
        "linkfresh.collector", "linkfresh.storage", "linkfresh.reports", "linkfresh.stages",
        "linkfresh.commands", "linkfresh.cli", "linkfresh.context", "apscheduler", "httpx",
        "sqlalchemy", "sqlmodel",
    ),
    "linkfresh.collector": (
        "linkfresh.storage", "linkfresh.reports", "linkfresh.stages", "linkfresh.commands",
        "linkfresh.cli", "linkfresh.context", "linkfresh.clients", "apscheduler", "sqlmodel",
        "sqlalchemy", "typer",
    ),
    # Checking and news meet only at the shared web guard, the guide's unwrapping and types.
    "linkfresh.collector.check": ("linkfresh.collector.news",),
    "linkfresh.collector.news": ("linkfresh.collector.check",),
    "linkfresh.collector.guide": (
        "linkfresh.collector.check", "linkfresh.collector.news", "linkfresh.collector.web",
        "httpx",
    ),
    "linkfresh.collector.web": (
        "linkfresh.collector.check", "linkfresh.collector.news", "linkfresh.collector.guide",
    ),
    "linkfresh.storage": (
        "linkfresh.reports", "linkfresh.stages", "linkfresh.commands", "linkfresh.cli",
        "linkfresh.context", "linkfresh.collector.web", "apscheduler", "httpx", "typer",
    ),
    "linkfresh.reports": (
        "linkfresh.storage", "linkfresh.stages", "linkfresh.commands", "linkfresh.cli",
        "linkfresh.context", "sqlmodel", "sqlalchemy", "httpx", "apscheduler", "typer",
    ),
    # Stages are called by commands, the cycle and the daemon; never the other way round.
    "linkfresh.stages": ("linkfresh.commands", "linkfresh.cli", "typer", "apscheduler"),
}

# Only the scheduler module and the daemon may import apscheduler.
APSCHEDULER_HOMES = ("linkfresh.schedule", "linkfresh.daemon")


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = [FOLDERS[relative.parts[0]], *relative.parts[1:]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _our_modules() -> Iterator[tuple[str, Path]]:
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield _module_name(path), path


def imported_names(source: str) -> set[str]:
    """Every module a source imports, by full name, including `import_module("...")` strings."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
        ):
            found |= _literal_names(node.args[0])
    return found


def _literal_names(node: ast.expr) -> set[str]:
    """The module name an `import_module` argument spells: a string, or an f-string's prefix."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return {first.value.rstrip(".")}
    return set()


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, imports: set[str]) -> list[str]:
    """The imports of `module` that a rule forbids."""
    bad = set()
    for scope, forbidden in FORBIDDEN.items():
        if _under(module, scope):
            bad |= {name for name in imports for rule in forbidden if _under(name, rule)}
    if not any(_under(module, home) for home in APSCHEDULER_HOMES):
        bad |= {name for name in imports if _under(name, "apscheduler")}
    return sorted(bad)


def test_layering_holds() -> None:
    offenders = {
        module: bad
        for module, path in _our_modules()
        if (bad := violations(module, imported_names(path.read_text(encoding="utf-8"))))
    }
    assert offenders == {}


def test_rules_see_full_names_and_import_module_strings() -> None:
    source = (
        "import importlib\n"
        "from linkfresh.commands.check import check\n"
        "importlib.import_module('linkfresh.cli')\n"
        "importlib.import_module(f'linkfresh.commands.{name}')\n"
    )
    assert violations("linkfresh.stages.cycle", imported_names(source)) == [
        "linkfresh.cli", "linkfresh.commands", "linkfresh.commands.check",
        "linkfresh.commands.check.check",
    ]
    # The same imports are fine for the CLI itself.
    assert violations("linkfresh.cli", imported_names(source)) == []


@pytest.mark.parametrize("name", sorted(set(FOLDERS.values())))
def test_imported_packages_are_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(ROOT)


def test_every_module_opens_with_a_docstring() -> None:
    missing = [
        module
        for module, path in _our_modules()
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert missing == []
