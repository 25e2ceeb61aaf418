"""One way to Redis scripts and keys: the registry, typed wrappers, keys from keys.py."""

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.scripts import SCRIPTS

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
SOURCES = [ENGINE, ROOT / "web", ROOT / "bench", ROOT / "tests"]
REGISTRY = ENGINE / "scripts.py"
# Ways to register, load or run a script other than the registry's.
SCRIPT_METHODS = {"register_script", "script_load", "eval", "evalsha", "eval_ro", "evalsha_ro"}
SCRIPT_COMMANDS = {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "SCRIPT"}
KEY_MODULES = sorted(ENGINE.glob("*/keys.py"))
USER_KEY = re.compile(r"\{u:42\}(:[a-z0-9-]+)+")
OTHER_KEY = re.compile(r"[a-z][a-z-]*(:[a-z][a-z-]*:[a-z0-9.-]+)?")


def python_files() -> Iterator[Path]:
    for folder in SOURCES:
        for path in folder.rglob("*.py"):
            if path not in (REGISTRY, Path(__file__).resolve()):
                yield path


def test_only_the_registry_registers_loads_or_runs_scripts() -> None:
    found = []
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in SCRIPT_METHODS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.upper() in SCRIPT_COMMANDS
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert found == []


def test_the_registry_knows_every_lua_file_and_each_has_a_wrapper() -> None:
    files = {
        str(path.relative_to(ENGINE).with_suffix("")).replace("lua/", "")
        for path in ENGINE.rglob("lua/*.lua")
    }
    assert set(SCRIPTS) == files
    code = "".join(
        path.read_text(encoding="utf-8") for path in ENGINE.rglob("*.py") if path != REGISTRY
    )
    assert [name for name in SCRIPTS if f'SCRIPTS["{name}"]' not in code] == []


def test_user_keys_are_built_only_by_keys_modules() -> None:
    """A `{u:` hash tag written anywhere else is a key name built by hand."""
    allowed = {ENGINE / "keys.py", *KEY_MODULES}
    found = []
    for path in python_files():
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and "{u:" in str(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def key_builders() -> Iterator[object]:
    for path in KEY_MODULES:
        module = importlib.import_module(f"engine.{path.parent.name}.keys")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                yield pytest.param(function, id=f"{path.parent.name}.{name}")


@pytest.mark.parametrize("builder", list(key_builders()))
def test_each_key_follows_the_convention_and_documents_type_and_ttl(builder: object) -> None:
    assert inspect.isfunction(builder)
    doc = inspect.getdoc(builder) or ""
    assert "TTL" in doc
    assert re.search(r"\b(STRING|HASH|SET|ZSET|LIST|STREAM)\b", doc)
    sample = {int: 42, str: "x"}
    built = builder(**{name: sample[p.annotation] for name, p in _parameters(builder)})
    keys = (
        [built]
        if isinstance(built, str)
        else list(built.values() if isinstance(built, dict) else built)
    )
    for key in keys:
        assert USER_KEY.fullmatch(key) or OTHER_KEY.fullmatch(key), key


def _parameters(function: object) -> list[tuple[str, inspect.Parameter]]:
    assert callable(function)
    return list(inspect.signature(function, eval_str=True).parameters.items())
