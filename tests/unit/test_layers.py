"""The layering rules, read from the source: SQL only in stores, a domain's store only its
own, and the websocket layer handed its services rather than reading the application's."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "web")
# The database layer itself (pool, migrations, ping; the embedded server's setup), and
# what every domain's administration shares: the audit log's row, a list's page and count.
SQL_ALLOWED = {
    Path("engine/db.py"),
    Path("engine/embedded.py"),
    Path("engine/admin/audit.py"),
    Path("engine/admin/paging.py"),
}
SQL = re.compile(r"\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|COPY|LOCK|TRUNCATE)\s")


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"))


def is_store(path: Path) -> bool:
    return path.name == "store.py" or path.name.endswith("_store.py")


def sql_texts(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """String constants, and f-strings by their leading text, that begin like a statement."""
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                text = first.value
        if text is not None and SQL.match(text.strip()):
            yield node.lineno, text.strip().splitlines()[0]


def domain_of(path: Path) -> str | None:
    """`accounts` for engine/accounts/…; None for engine's top-level modules and web/."""
    parts = path.parts
    return parts[1] if parts[0] == "engine" and len(parts) > 2 else None


def imported_stores(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """The domains whose store a module imports, by any spelling."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        domains = {
            parts[1]
            for parts in (name.split(".") for name in names)
            if len(parts) >= 3 and parts[0] == "engine" and is_store(Path(parts[2] + ".py"))
        }
        for domain in sorted(domains):
            yield node.lineno, domain


def sql_outside_stores() -> list[str]:
    return [
        f"{path}:{line}: {text}"
        for path, tree in sources()
        if not is_store(path) and path not in SQL_ALLOWED
        for line, text in sql_texts(tree)
    ]


def foreign_store_imports() -> list[str]:
    found = []
    for path, tree in sources():
        own = domain_of(path)
        if path.parts[0] == "engine" and own is None:
            continue  # engine's own assembly (app, seeders) may reach every store
        found += [
            f"{path}:{line}: imports the store of {domain}"
            for line, domain in imported_stores(tree)
            if domain != own
        ]
    return found


def imported_modules(tree: ast.AST) -> set[str]:
    """Every module a file imports, by its dotted name."""
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module)
    return modules


def test_sql_lives_only_in_stores() -> None:
    assert sql_outside_stores() == []


def test_a_domain_imports_no_other_domain_store() -> None:
    assert foreign_store_imports() == []


def test_the_websocket_layer_does_not_reach_into_the_application() -> None:
    offenders = [
        str(path)
        for path, tree in sources()
        if path.parts[:2] == ("engine", "sessions")
        and {"engine.appkeys", "engine.app"} & imported_modules(tree)
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("text", "is_sql"),
    [
        ("SELECT 1", True),
        ("\n    (SELECT CASE WHEN x THEN 1 END)", True),
        ("WITH RECURSIVE tree AS (", True),
        ("LOCK TABLE orders", True),
        ("SELECTED", False),
        ("order paid", False),
        ("select the plan first", False),
        ("Update available", False),
        ("删除订单", False),
        ("请先选择 SELECT 1", False),
    ],
)
def test_what_counts_as_sql(text: str, is_sql: bool) -> None:
    found = list(sql_texts(ast.parse(f"x = {text!r}")))
    assert bool(found) is is_sql


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from engine.progress.store import refresh_enrolments", ["progress"]),
        ("from engine.progress import keys, store", ["progress"]),
        ("import engine.catalog.store", ["catalog"]),
        ("from engine.commerce import ledger_store", ["commerce"]),
        ("from engine.progress import enrolments", []),
        ("from engine.commerce.types import Order", []),
    ],
)
def test_store_imports_are_seen(source: str, found: list[str]) -> None:
    assert [domain for _, domain in imported_stores(ast.parse(source))] == found
