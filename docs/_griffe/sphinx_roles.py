"""Griffe extension for the docs site: Sphinx roles in docstrings become links.

The package's docstrings name other objects the Sphinx way (:class:`Retries`,
:meth:`aclose`, :data:`RET_CODES`); mkdocstrings renders Markdown, where those
would show as literal text. This rewrites each role, resolved in the scope of the
docstring's object, into an optional cross-reference: a link where the target is
rendered on the site, plain code where it is not (a private helper), and never a
warning, so the strict build stays strict about everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|meth|func|data|attr|exc|mod|obj):`(~?)([\w.]+)`")


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if isinstance(member, griffe.Object):  # an alias's docstring is its target's
            yield from _objects(member)


def _lookup(scope: griffe.Object, head: str) -> str | None:
    """``head`` as a member of ``scope`` or of a scope around it (inherited too)."""
    current: griffe.Object | None = scope
    while current is not None:
        members = current.all_members if current.is_class else current.members
        member = members.get(head)
        if member is not None:
            return member.path if current.is_class else _target(member)
        current = current.parent
    return None


def _target(member: griffe.Object | griffe.Alias) -> str:
    return member.target_path if isinstance(member, griffe.Alias) else member.path


def _resolve(obj: griffe.Object, name: str) -> str | None:
    if name.startswith("bybit_leverage."):
        return name
    head, _, rest = name.partition(".")
    path = _lookup(obj, head)
    if path is None:
        return None
    return f"{path}.{rest}" if rest else path


class SphinxRoles(griffe.Extension):
    """Rewrite ``:role:`name``` in every docstring of the package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            if obj.docstring is None:
                continue
            scope = obj if obj.is_class or obj.is_module else obj.parent or obj

            def link(match: re.Match[str], scope: griffe.Object = scope) -> str:
                short, name = match[1], match[2]
                shown = name.rsplit(".", 1)[-1] if short else name
                target = _resolve(scope, name)
                if target is None:
                    return f"`{shown}`"
                code = f"<code>{shown}</code>"
                return f'<autoref identifier="{target}" optional>{code}</autoref>'

            obj.docstring.value = _ROLE.sub(link, obj.docstring.value)
