from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import bybit_leverage

SRC = Path(bybit_leverage.__file__).parent


def test_all_matches_the_public_names() -> None:
    public = {name for name in vars(bybit_leverage) if not name.startswith("_")}
    public -= {"annotations"}  # from __future__
    modules = {
        name for name in public if inspect.ismodule(getattr(bybit_leverage, name))
    }
    assert set(bybit_leverage.__all__) == (public - modules) | {"__version__"}
    assert len(bybit_leverage.__all__) == len(set(bybit_leverage.__all__))


def test_every_public_name_is_documented() -> None:
    for name in bybit_leverage.__all__:
        obj = getattr(bybit_leverage, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_version_comes_from_the_package_metadata() -> None:
    assert bybit_leverage.__version__[0].isdigit()


@pytest.mark.parametrize(
    "module", ["leverage.py", "_signing.py", "_wire.py", "models.py", "errors.py"]
)
def test_pure_modules_import_no_io(module: str) -> None:
    tree = ast.parse((SRC / module).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"aiohttp", "asyncio", "time", "socket"}


CLIENT_SIDE = {
    "client",
    "_http",
    "_clock",
    "_ratelimit",
    "_retry",
    "cache",
    "batch",
    "cli",
}


@pytest.mark.parametrize("module", sorted((SRC / "simulator").glob("*.py")), ids=str)
def test_the_simulator_never_imports_client_code(module: Path) -> None:
    tree = ast.parse(module.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            assert not (parts[0] == "bybit_leverage" and CLIENT_SIDE & set(parts[1:2]))
            if node.module == "bybit_leverage":
                assert not CLIENT_SIDE & {alias.name for alias in node.names}
