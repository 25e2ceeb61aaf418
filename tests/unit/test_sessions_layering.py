"""The websocket layer is handed its services; it never reads them off the application."""

import ast
from pathlib import Path

SESSIONS = Path(__file__).parents[2] / "engine" / "sessions"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, by its dotted name."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
    return modules


def test_sessions_do_not_import_the_app_keys() -> None:
    offenders = [
        path.name
        for path in sorted(SESSIONS.glob("*.py"))
        if {"engine.appkeys", "engine.app"} & imported_modules(path)
    ]
    assert offenders == []
