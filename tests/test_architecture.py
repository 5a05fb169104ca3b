"""House rules, checked: pure floors import no I/O, arrows point down, lazy faces.

These read the source (``ast``) or import in a fresh interpreter, so they hold for
the package as shipped, not only for what this test run happened to import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import bybit_leverage

SRC = Path(bybit_leverage.__file__).parent
PURE = [
    "_decimals.py",
    "_hosts.py",
    "_json_steps.py",
    "_outcomes.py",
    "_signing.py",
    "_wire.py",
    "_plan.py",
    "_render.py",
    "errors/__init__.py",
    "errors/_api.py",
    "errors/_base.py",
    "leverage.py",
    "models.py",
    "report.py",
]
CLIENT_SIDE = {
    "client",
    "_aiohttp",
    "_api",
    "_clock",
    "_config",
    "_http",
    "_planner",
    "_ratelimit",
    "_retry",
    "_setter",
    "cache",
    "cli",
    "transport",
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, as written (``a.b`` for ``from a.b import c``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_import_no_io(module: str) -> None:
    roots = {name.split(".")[0] for name in imported_modules(SRC / module)}
    assert not roots & {"aiohttp", "asyncio", "time", "socket", "yarl"}


@pytest.mark.parametrize("module", sorted((SRC / "simulator").glob("*.py")), ids=str)
def test_the_simulator_never_imports_client_code(module: Path) -> None:
    for name in imported_modules(module):
        parts = name.split(".")
        assert not (parts[0] == "bybit_leverage" and CLIENT_SIDE & set(parts[1:2]))


def client_modules() -> list[Path]:
    return [
        path
        for path in SRC.rglob("*.py")
        if "simulator" not in path.relative_to(SRC).parts
    ]


@pytest.mark.parametrize("module", client_modules(), ids=str)
def test_only_the_transport_module_imports_aiohttp(module: Path) -> None:
    roots = {name.split(".")[0] for name in imported_modules(module)}
    if module.name == "_aiohttp.py":
        assert "aiohttp" in roots
    elif module.name == "client.py":  # the session type, under TYPE_CHECKING only
        assert "import aiohttp\n" in module.read_text().split("if TYPE_CHECKING:")[1]
    else:
        assert not roots & {"aiohttp", "yarl"}


@pytest.mark.parametrize("module", client_modules(), ids=str)
def test_no_module_calls_a_private_method_of_another_modules_class(
    module: Path,
) -> None:
    text = module.read_text()
    assert "._request(" not in text
    assert "._core._" not in text
    assert "._session" not in text or module.name == "_aiohttp.py"


def fresh_modules(statement: str) -> set[str]:
    code = f"{statement}; import sys; print('\\n'.join(sys.modules))"
    # Our own interpreter and a fixed statement: nothing untrusted runs.
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_the_pytest_plugin_imports_no_client_and_no_aiohttp() -> None:
    loaded = fresh_modules("import bybit_leverage.simulator.pytest_plugin")
    assert "bybit_leverage.client" not in loaded
    assert "aiohttp.client" not in loaded
    assert not {m for m in loaded if m.startswith(("aiohttp", "cryptography"))}


def test_the_package_face_is_lazy() -> None:
    loaded = fresh_modules("import bybit_leverage")
    package = {m for m in loaded if m.startswith("bybit_leverage.")}
    assert package == {"bybit_leverage._lazy"}  # the face's own helper, no imports
    loaded = fresh_modules("import bybit_leverage.simulator")
    assert "bybit_leverage.client" not in loaded
    assert "aiohttp.client" not in loaded
    loaded = fresh_modules("from bybit_leverage import snap")
    assert "bybit_leverage.client" not in loaded
    assert "aiohttp" not in loaded
