"""The one error tree of emitflow.

EmitflowError
├── ConfigurationError      bad settings, unknown URL scheme, missing driver extra
├── DocumentError           a workflow document is invalid (carries every Problem found)
├── ExpressionError         a runtime expression does not compile
├── FaultError              a run faulted; carries the RFC 7807 ``Problem``
├── EventError              an invalid CloudEvent
│   └── FilterError         an invalid subscription filter
├── CesqlError
│   └── CesqlParseError     a CloudEvents SQL expression does not parse
├── StoreError              the store failed or refused an operation
│   ├── NotFoundError       a stored thing does not exist
│   └── StoreUnavailableError  the store cannot serve now (disk full, read-only, I/O, locked)
│       └── LeaseLostError     another process holds the run now: this one's commits are refused
├── BrokerError             a broker failed or refused a publish
├── SandboxError            the code-step sandbox could not run a step
└── RequestError            an API request is refused (carries its HTTP status and code)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ERROR_KINDS",
    "ERROR_TYPE_NAMESPACES",
    "BrokerError",
    "CesqlError",
    "CesqlParseError",
    "ConfigurationError",
    "DocumentError",
    "EmitflowError",
    "EventError",
    "ExpressionError",
    "FaultError",
    "FilterError",
    "LeaseLostError",
    "Location",
    "NotFoundError",
    "Problem",
    "RequestError",
    "SandboxError",
    "StoreError",
    "StoreUnavailableError",
    "error_kind",
    "error_types",
    "standard_type",
]

#: The standard error kinds of the DSL and their default HTTP statuses.
ERROR_KINDS: Mapping[str, int] = {
    "configuration": 400,
    "validation": 400,
    "expression": 400,
    "authentication": 401,
    "authorization": 403,
    "timeout": 408,
    "communication": 500,
    "runtime": 500,
}

_STANDARD_PREFIX = "https://serverlessworkflow.io/spec/1.0.0/errors/"
# Every spelling of a standard kind's URI seen in the spec, its CTK and other runtimes.
_ALIAS_PREFIXES = (
    _STANDARD_PREFIX,
    "https://serverlessworkflow.io/dsl/errors/types/",
    "https://open-workflow-specification.org/spec/1.0.0/errors/",
    "https://open-workflow-specification.org/dsl/errors/types/",
    "https://open-workflow-specification.org/errors/types/",
)


#: The namespaces emitflow can raise standard errors in (``error_types``, the setting).
ERROR_TYPE_NAMESPACES: Mapping[str, str] = {
    "serverlessworkflow.io": _STANDARD_PREFIX,
    "open-workflow-specification.org": "https://open-workflow-specification.org/spec/1.0.0/errors/",
}
_DEFAULT_NAMESPACE = "serverlessworkflow.io"
#: The namespace of the run in progress (``RunOptions.error_types``), else the environment's.
_NAMESPACE: ContextVar[str | None] = ContextVar("emitflow_error_types", default=None)


def _namespace_prefix(name: str) -> str:
    prefix = ERROR_TYPE_NAMESPACES.get(name)
    if prefix is None:
        known = ", ".join(ERROR_TYPE_NAMESPACES)
        raise ConfigurationError(f"error types {name!r} are not known; use one of {known}")
    return prefix


def standard_type(kind: str) -> str:
    """The type URI of a standard error kind (``communication`` → its URI), as raised.

    The namespace is the setting ``error_types``: ``RunOptions.error_types`` for the run in
    progress, else ``EMITFLOW_ERROR_TYPES``, else ``serverlessworkflow.io``. Filters in
    ``catch`` match a kind in every namespace (``error_kind``).
    """
    name = _NAMESPACE.get() or os.environ.get("EMITFLOW_ERROR_TYPES") or _DEFAULT_NAMESPACE
    return ERROR_TYPE_NAMESPACES.get(name, _STANDARD_PREFIX) + kind


@contextlib.contextmanager
def error_types(name: str | None) -> Iterator[None]:
    """Raise standard errors in the namespace ``name`` within this block (``None``: unchanged).

    ``ConfigurationError`` for a name not in ``ERROR_TYPE_NAMESPACES``.
    """
    if name is not None:
        _namespace_prefix(name)
    token = _NAMESPACE.set(name) if name is not None else None
    try:
        yield
    finally:
        if token is not None:
            _NAMESPACE.reset(token)


def error_kind(type_uri: str) -> str | None:
    """The standard kind a type URI names, across its known aliases; ``None`` if not standard."""
    for prefix in _ALIAS_PREFIXES:
        if type_uri.startswith(prefix):
            kind = type_uri[len(prefix) :]
            return kind if kind in ERROR_KINDS else None
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """An RFC 7807 error object, as the DSL defines it."""

    type: str
    status: int
    instance: str | None = None
    title: str | None = None
    detail: str | None = None

    @classmethod
    def of(
        cls,
        kind: str,
        *,
        title: str | None = None,
        detail: str | None = None,
        status: int | None = None,
        instance: str | None = None,
    ) -> Problem:
        """A problem of a standard kind, with that kind's default status unless given."""
        return cls(
            type=standard_type(kind),
            status=status if status is not None else ERROR_KINDS[kind],
            title=title,
            detail=detail,
            instance=instance,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON object form; absent fields are left out."""
        out: dict[str, Any] = {"type": self.type, "status": self.status}
        for name in ("instance", "title", "detail"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def message(self) -> str:
        """A readable one-line description."""
        head = self.title or (error_kind(self.type) or self.type)
        text = f"{head} ({self.status})"
        if self.detail:
            text += f": {self.detail}"
        return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a document a problem is: file, line/column (1-based) and JSON pointer."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str = ""

    def __str__(self) -> str:
        place = self.file or "<document>"
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return f"{place} at {self.pointer or '/'}"


class EmitflowError(Exception):
    """The root of every error emitflow raises."""


class ConfigurationError(EmitflowError):
    """Settings are wrong: an unknown URL scheme, a missing driver extra, a bad option."""


class DocumentError(EmitflowError):
    """A workflow document is invalid; ``problems`` lists every (location, message) found."""

    def __init__(self, problems: Iterable[tuple[Location, str]]) -> None:
        self.problems: tuple[tuple[Location, str], ...] = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """One line per problem: ``file:line:col at /pointer: message``."""
        return "\n".join(f"{loc}: {msg}" for loc, msg in self.problems)


class ExpressionError(EmitflowError):
    """A runtime expression does not compile."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"invalid expression {expression!r}: {reason}")


class FaultError(EmitflowError):
    """A run (or a task in it) faulted with an RFC 7807 problem."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.message())


class EventError(EmitflowError):
    """A CloudEvent is invalid; the message names the attribute."""


class FilterError(EventError):
    """A subscription filter is malformed; the message names the filter's place."""


class CesqlError(EmitflowError):
    """A CloudEvents SQL expression could not be used."""


class CesqlParseError(CesqlError):
    """A CloudEvents SQL expression does not parse."""


class StoreError(EmitflowError):
    """The store failed or refused an operation."""


class NotFoundError(StoreError):
    """A stored thing does not exist."""


class StoreUnavailableError(StoreError):
    """The store cannot serve now, for a cause outside emitflow that may pass (a full disk, a
    read-only file or filesystem, an I/O error, a lock held elsewhere): ``path`` and ``cause``
    name it, and the operation may be tried again once the operator has fixed it."""

    def __init__(self, message: str, *, path: str, cause: str) -> None:
        super().__init__(message)
        self.path = path
        self.cause = cause


class LeaseLostError(StoreUnavailableError):
    """A run's commit was refused because its lease is no longer this process's: it stalled
    past the lease and another process claimed the run (and resumes it from what was committed).
    For this process the run's store is gone, as with ``StoreUnavailableError``: it stops the
    run without recording an end."""


class BrokerError(EmitflowError):
    """A broker failed or refused an operation."""


class SandboxError(EmitflowError):
    """The code-step sandbox could not run a step."""


class RequestError(EmitflowError):
    """An API request is refused: its HTTP status, a stable ``code`` and optional details."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
