"""Lazy package faces (PEP 562): a name is imported from its home on first use.

The package is imported by every pytest run of every project that installs it
(its pytest plugin is registered through ``pytest11``), so its faces load no
module until one of their names is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str,
    homes: Mapping[str, str],
    namespace: dict[str, Any],
    public: Iterable[str],
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for names living in submodules.

    Args:
        package: The package's ``__name__``.
        homes: Each public name's submodule, relative to the package.
        namespace: The package's ``globals()``: a name found is kept there, so
            later lookups skip ``__getattr__``.
        public: The package's ``__all__``.
    """
    listed = sorted(set(public))

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module hook's own name
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807 - the module hook's own name
        return list(listed)

    return __getattr__, __dir__
