"""Where a cataloged function's document is: ``name:version@catalog`` and catalog roots.

Catalogs are laid out as the spec's are: ``<root>/functions/<name>/<version>/function.yaml``.
A catalog on GitHub (``https://github.com/<owner>/<repo>[/tree/<branch>]``) is read from its raw
content (``https://raw.githubusercontent.com/<owner>/<repo>/refs/heads/<branch>/…``, branch
``main`` by default), as the spec asks of runtimes.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_CATALOG", "catalog_function", "function_url"]

#: The catalog of ``name:version`` and ``name:version@default``.
DEFAULT_CATALOG = "https://github.com/serverlessworkflow/catalog"

_CATALOGED = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+):(?P<version>[0-9][A-Za-z0-9.+-]*)(?:@(?P<catalog>[A-Za-z0-9_.-]+))?$"
)
_GITHUB = re.compile(
    r"^https://github\.com/(?P<repo>[^/]+/[^/]+?)(?:\.git)?(?:/tree/(?P<ref>.+?))?/?$"
)


def catalog_function(call: str) -> tuple[str, str, str] | None:
    """``(name, version, catalog)`` of ``name:version[@catalog]``; ``None`` for other names."""
    match = _CATALOGED.match(call)
    if match is None:
        return None
    return match["name"], match["version"], match["catalog"] or "default"


def function_url(root: str, name: str, version: str) -> str:
    """The URL of a cataloged function's document under a catalog's root."""
    github = _GITHUB.match(root.rstrip("/"))
    if github is not None:
        ref = github["ref"] or "main"
        branch = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
        root = f"https://raw.githubusercontent.com/{github['repo']}/{branch}"
    return f"{root.rstrip('/')}/functions/{name}/{version}/function.yaml"
