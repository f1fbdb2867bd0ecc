"""One OpenAPI operation (Swagger 2.0 or OpenAPI 3.x) and the request it makes from parameters.

``parameters`` is the call's flat map: each declared parameter is taken by name and put where
its ``in`` says (path, query, header, cookie). The body is the parameter named by a Swagger 2
``in: body`` (or ``body`` for an OpenAPI 3 ``requestBody``); failing that, it is made of the
parameters named by the body schema's properties. Query arrays follow ``collectionFormat``
(Swagger 2, default csv) or ``style``/``explode`` (OpenAPI 3, default repeated).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from emitflow.errors import FaultError, Problem

__all__ = ["Operation", "Parameter", "PreparedRequest"]

_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|", "multi": None}
_STYLE_SEPARATORS = {"spaceDelimited": " ", "pipeDelimited": "|"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """A declared parameter: where it goes and how arrays are written there."""

    name: str
    location: str
    required: bool = False
    # None repeats the parameter for each item (?a=1&a=2); otherwise items are joined.
    separator: str | None = ","
    deep_object: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedRequest:
    """The plain request an operation call makes, ready for ``perform``."""

    method: str
    uri: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """An operation found by ``operationId``, its references already resolved."""

    operation_id: str
    method: str
    path: str
    base_url: str
    parameters: tuple[Parameter, ...] = ()
    body_name: str | None = None
    body_required: bool = False
    body_properties: tuple[str, ...] = ()
    content_type: str | None = None
    accept: str | None = None

    def request(self, values: Mapping[str, Any]) -> PreparedRequest:
        """The request for these parameter values; a missing required one is a validation fault."""
        if not isinstance(values, Mapping):
            raise _invalid(self, "parameters must be an object of names to values")
        self._check_required(values)
        placed = _Placed(path=self.path)
        for param in self.parameters:
            value = values.get(param.name)
            if value is not None:
                placed.add(self, param, value)
        headers = placed.headers
        if placed.cookies:
            headers["Cookie"] = "; ".join(placed.cookies)
        body = self._body(values)
        defaults = {
            "Accept": self.accept,
            "Content-Type": self.content_type if body is not None else None,
        }
        for name, header in defaults.items():
            if header and name not in headers:
                headers[name] = header
        uri = self.base_url.rstrip("/") + "/" + placed.path.lstrip("/")
        return PreparedRequest(
            method=self.method, uri=uri, headers=headers, query=placed.query, body=body
        )

    def _check_required(self, values: Mapping[str, Any]) -> None:
        missing = [
            f"{p.name!r} (in {p.location})"
            for p in self.parameters
            if (p.required or p.location == "path") and values.get(p.name) is None
        ]
        if self.body_required and self._body(values) is None:
            missing.append(f"{self.body_name or 'body'!r} (the request body)")
        if missing:
            raise FaultError(
                Problem.of(
                    "validation",
                    title="Missing Parameter",
                    detail=f"operation {self.operation_id!r} needs {', '.join(missing)}",
                )
            )

    def _body(self, values: Mapping[str, Any]) -> Any:
        form = [p.name for p in self.parameters if p.location == "formData"]
        if form:
            picked = {name: values[name] for name in form if values.get(name) is not None}
            return picked or None
        if self.body_name is None:
            return None
        if values.get(self.body_name) is not None:
            return values[self.body_name]
        taken = {p.name for p in self.parameters}
        picked = {
            name: values[name]
            for name in self.body_properties
            if name not in taken and values.get(name) is not None
        }
        return picked or None


@dataclass(slots=True, kw_only=True)
class _Placed:
    """Where parameter values have gone so far while a request is built."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)

    def add(self, operation: Operation, param: Parameter, value: Any) -> None:
        if param.location == "path":
            text = quote(_joined(operation, param, value), safe="")
            self.path = self.path.replace("{" + param.name + "}", text)
        elif param.location == "query":
            self.query.update(_query_entries(operation, param, value))
        elif param.location == "header":
            self.headers[param.name] = _joined(operation, param, value)
        elif param.location == "cookie":
            self.cookies.append(f"{param.name}={quote(_joined(operation, param, value), safe='')}")
        # body and formData parameters go into the body, built separately.


def _invalid(operation: Operation, detail: str) -> FaultError:
    return FaultError(
        Problem.of(
            "validation",
            title="Invalid Parameter",
            detail=f"operation {operation.operation_id!r}: {detail}",
        )
    )


def _scalar(operation: Operation, param: Parameter, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise _invalid(
        operation,
        f"parameter {param.name!r} (in {param.location}) must be a string, number or boolean"
        + (" or an array of them" if param.location != "path" else ""),
    )


def _items(operation: Operation, param: Parameter, value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    return [_scalar(operation, param, item) for item in values]


def _joined(operation: Operation, param: Parameter, value: Any) -> str:
    if isinstance(value, Mapping):
        # Simple style for objects: k1,v1,k2,v2 (OpenAPI 3 default for path and header).
        pairs = [part for k, v in value.items() for part in (str(k), _scalar(operation, param, v))]
        return ",".join(pairs)
    return (param.separator or ",").join(_items(operation, param, value))


def _query_entries(operation: Operation, param: Parameter, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        if param.deep_object:
            return {f"{param.name}[{k}]": _scalar(operation, param, v) for k, v in value.items()}
        if param.separator is None:
            return {str(k): _scalar(operation, param, v) for k, v in value.items()}
        return {param.name: _joined(operation, param, value)}
    items = _items(operation, param, value)
    if param.separator is None:
        return {param.name: items}
    return {param.name: param.separator.join(items)}


def swagger_parameter(raw: Mapping[str, Any]) -> Parameter:
    """A Swagger 2.0 parameter object (references resolved)."""
    location = str(raw.get("in", ""))
    fmt = str(raw.get("collectionFormat", "csv"))
    return Parameter(
        name=str(raw.get("name", "")),
        location=location,
        required=bool(raw.get("required", location == "path")),
        separator=_SEPARATORS.get(fmt, ","),
    )


def openapi_parameter(raw: Mapping[str, Any]) -> Parameter:
    """An OpenAPI 3.x parameter object (references resolved)."""
    location = str(raw.get("in", ""))
    style = str(raw.get("style", "form" if location in ("query", "cookie") else "simple"))
    explode = bool(raw.get("explode", style == "form"))
    separator: str | None = _STYLE_SEPARATORS.get(style, ",")
    if explode and style in ("form", "deepObject"):
        separator = None
    return Parameter(
        name=str(raw.get("name", "")),
        location=location,
        required=bool(raw.get("required", location == "path")),
        separator=separator,
        deep_object=style == "deepObject",
    )
