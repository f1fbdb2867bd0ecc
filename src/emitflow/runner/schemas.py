"""JSON Schema validation of inputs, outputs and exports (``validation`` problem, 400, on failure).

A schema is given inline (``document``) or by ``resource``: a file path (relative to the
workflow's folder) or an http(s) URL fetched through the run's client. Validators are built once
per schema and kept while the run's model lives.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from emitflow.dsl.model import SchemaSpec
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame

__all__ = ["validate"]

_VALIDATORS: dict[int, tuple[SchemaSpec, Any]] = {}
_MAX_VALIDATORS = 512


async def validate(spec: SchemaSpec, value: Any, what: str, frame: Frame) -> None:
    """Check ``value`` (the task's ``what``: input, output, export) against ``spec``."""
    import jsonschema  # here: most runs check no schema, and it costs 0.1 s to import

    validator = await _validator(spec, frame)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return
    place = "/" + "/".join(str(p) for p in error.absolute_path)
    raise FaultError(
        Problem.of(
            "validation",
            title="Validation Failed",
            detail=f"the {what} does not match its schema at {place}: {error.message}",
            instance=frame.where,
        )
    )


async def _validator(spec: SchemaSpec, frame: Frame) -> Any:
    cached = _VALIDATORS.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    resource = spec.resource
    document = spec.document if resource is None else await _fetch(resource.endpoint.uri, frame)
    import jsonschema
    from jsonschema.exceptions import SchemaError

    try:
        cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft202012Validator)
        cls.check_schema(document)
    except SchemaError as exc:
        raise FaultError(
            Problem.of(
                "configuration",
                title="Invalid Schema",
                detail=f"the schema is not a valid JSON Schema: {exc.message}",
                instance=frame.where,
            )
        ) from exc
    validator = cls(document)
    if len(_VALIDATORS) >= _MAX_VALIDATORS:
        _VALIDATORS.clear()
    _VALIDATORS[id(spec)] = (spec, validator)
    return validator


async def _fetch(uri: str, frame: Frame) -> Any:
    try:
        if uri.startswith(("http://", "https://")):
            response = await frame.run.client().get(uri)
            response.raise_for_status()
            return _parse(response.text, uri)
        path = Path(uri.removeprefix("file://"))
        if not path.is_absolute():
            path = frame.run.base_dir() / path
        return _parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ValueError, YAMLError) as exc:
        raise FaultError(
            Problem.of(
                "configuration",
                title="Schema Not Available",
                detail=f"the schema {uri} could not be read: {exc}",
                instance=frame.where,
            )
        ) from exc
    except Exception as exc:  # httpx errors: any failure to fetch is the same problem here
        raise FaultError(
            Problem.of(
                "communication",
                title="Schema Not Available",
                detail=f"the schema {uri} could not be fetched: {exc}",
                instance=frame.where,
            )
        ) from exc


def _parse(text: str, where: str) -> Any:
    if where.endswith(".json"):
        return json.loads(text)
    return YAML(typ="safe").load(text)
