"""The access engine stays pure: no Home Assistant, no HTTP client."""

from __future__ import annotations

import ast
from pathlib import Path
import sys

from custom_components.spacebring_tapkey import access

ACCESS_DIR = Path(access.__file__).parent
ALLOWED_SIBLINGS = frozenset({"api.models"})


def _imports(path: Path) -> list[tuple[int, str]]:
    """(relative level, module) of every import in a module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_access_modules_import_only_stdlib_themselves_and_api_models() -> None:
    """Every module under access/ is importable without Home Assistant or aiohttp."""
    modules = sorted(ACCESS_DIR.glob("*.py"))
    assert len(modules) >= 5

    offending = []
    for path in modules:
        for level, module in _imports(path):
            top = module.split(".")[0]
            if level == 0 and top not in sys.stdlib_module_names:
                offending.append((path.name, module))
            if level >= 2 and module not in ALLOWED_SIBLINGS:
                offending.append((path.name, "." * level + module))

    assert offending == []
