"""Entry points: a file, a text, or an already parsed mapping becomes a validated ``Workflow``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn

from emitflow.dsl.context import Context, describe, in_order
from emitflow.dsl.document import build_workflow
from emitflow.dsl.model import Workflow
from emitflow.dsl.yaml import MAX_DOCUMENT_BYTES, plain, read_text
from emitflow.errors import DocumentError, Location

__all__ = ["from_mapping", "load_workflow", "parse_workflow"]


def load_workflow(path: str | Path) -> Workflow:
    """Read and validate a workflow file (``.yaml``, ``.yml`` or ``.json``).

    Raises ``DocumentError`` listing every problem, each with file, line, column and pointer.
    """
    file = Path(path)
    source = str(path)
    try:
        if file.is_dir():
            _refuse(Location(source), "this is a folder; give the path of a workflow file")
        size = file.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            limit = MAX_DOCUMENT_BYTES // (1024 * 1024)
            message = f"the file is {size / 1048576:.1f} MiB; emitflow refuses workflow "
            _refuse(Location(source), message + f"documents over {limit} MiB")
        raw = file.read_bytes()
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise DocumentError([(Location(source), message)]) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"the file is not UTF-8 text (byte {exc.start} is not); save it as UTF-8"
        raise DocumentError([(Location(source), message)]) from exc
    format: Literal["json"] | None = "json" if file.suffix.lower() == ".json" else None
    return parse_workflow(text, source=source, format=format)


def parse_workflow(
    text: str, *, source: str | None = None, format: Literal["yaml", "json"] | None = None
) -> Workflow:
    """Validate a document given as YAML 1.2 or JSON text (``format`` None: by ``source``'s suffix).

    Raises ``DocumentError`` listing every problem found.
    """
    if format not in (None, "yaml", "json"):
        raise ValueError(f"format must be 'yaml', 'json' or None, not {format!r}")
    if format is None and source is not None and source.lower().endswith(".json"):
        format = "json"
    loaded = read_text(text.removeprefix("\ufeff"), source=source, format=format)
    return _build(loaded.data, loaded.positions, source, from_text=True)


def from_mapping(obj: Mapping[str, Any], *, source: str | None = None) -> Workflow:
    """Validate a document already parsed into a mapping (e.g. a JSON request body)."""
    return _build(plain(obj, source=source), {}, source, from_text=False)


def _build(
    data: Any, positions: Mapping[str, tuple[int, int]], source: str | None, *, from_text: bool
) -> Workflow:
    # Text has a first line to point at; a mapping handed over in memory has none.
    top = Location(source, 1, 1) if from_text else Location(source)
    if data is None:
        _refuse(top, "the document is empty: a workflow needs 'document' and 'do'")
    if not isinstance(data, dict):
        found = describe(data)
        _refuse(top, f"a workflow document is a mapping with 'document' and 'do', found {found}")
    ctx = Context(source, positions)
    workflow = build_workflow(ctx, data)
    if ctx.problems or workflow is None:
        raise DocumentError(in_order(ctx.problems))
    return workflow


def _refuse(location: Location, message: str) -> NoReturn:
    raise DocumentError([(location, message)])
