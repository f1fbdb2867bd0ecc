"""``run`` tasks: exactly one of a container, a script, a shell command or a workflow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.endpoints import external_resource
from emitflow.dsl.model import ScriptProcess, ShellProcess, SubflowProcess
from emitflow.dsl.values import duration

__all__ = ["run_fields"]

_PROCESSES = ("container", "script", "shell", "workflow")
_RETURNS = ("stdout", "stderr", "code", "all", "none")
_LANGUAGES = frozenset({"python", "js", "javascript"})


def run_fields(ctx: Context, value: Any, pointer: str) -> dict[str, Any] | None:
    """The ``RunTask`` fields of ``run: {...}``."""
    obj = ctx.mapping(value, pointer, "'run'")
    if obj is None:
        return None
    ctx.keys(obj, pointer, "'run'", {"await", "return", *_PROCESSES})
    fields: dict[str, Any] = {
        "await_": ctx.boolean(obj, pointer, "await", True),
        "return_": ctx.choice(obj, pointer, "return", _RETURNS, "stdout"),
    }
    kind = ctx.exactly_one(obj, pointer, "'run'", _PROCESSES)
    if kind is None:
        return None
    here = child(pointer, kind)
    body = ctx.mapping(obj[kind], here, f"'run.{kind}'")
    if body is None:
        return None
    process = _BUILDERS[kind](ctx, body, here)
    if process is None:
        return None
    fields[kind] = process
    return fields


def _arguments(ctx: Context, body: dict[str, Any], pointer: str) -> None:
    value = body.get("arguments")
    if ctx.arguments_map and isinstance(value, dict):
        return  # DSL 1.0.0-1.0.2: a map of flag -> value
    if "arguments" in body and not isinstance(value, list):
        ctx.error(
            child(pointer, "arguments"),
            "since DSL 1.0.3 'arguments' is a list of strings passed as argv, e.g. "
            f"['--verbose', '${{ .file }}']; found {describe(value)}",
        )
        return
    ctx.strings(body, pointer, "arguments")


def _container(ctx: Context, body: dict[str, Any], pointer: str) -> dict[str, Any] | None:
    allowed = {"image", "name", "command", "ports", "volumes", "environment", "stdin"}
    allowed |= {"arguments", "lifetime", "pullPolicy"}
    required = {"image": "the image to run, e.g. alpine:3.20"}
    ctx.keys(body, pointer, "a container", allowed, required)
    for key in ("image", "name", "command", "stdin"):
        ctx.string(body, pointer, key)
    for key in ("ports", "volumes", "environment"):
        ctx.mapping_field(body, pointer, key)
    _arguments(ctx, body, pointer)
    if "pullPolicy" in body:
        ctx.choice(body, pointer, "pullPolicy", ("ifNotPresent", "always", "never"), "ifNotPresent")
    lifetime = ctx.mapping_field(body, pointer, "lifetime")
    if lifetime is not None:
        _lifetime(ctx, lifetime, child(pointer, "lifetime"))
    return body if isinstance(body.get("image"), str) else None


def _lifetime(ctx: Context, obj: dict[str, Any], pointer: str) -> None:
    ctx.keys(obj, pointer, "a container lifetime", {"cleanup", "after"}, ("cleanup",))
    if "cleanup" not in obj:
        return
    cleanup = ctx.choice(obj, pointer, "cleanup", ("always", "never", "eventually"), "never")
    if cleanup == "eventually" and "after" not in obj:
        ctx.error(pointer, "'after' is required when cleanup is 'eventually': how long to keep it")
    elif cleanup != "eventually" and "after" in obj:
        ctx.error(child(pointer, "after"), "'after' only goes with cleanup: eventually")
    if "after" in obj:
        duration(ctx, obj["after"], child(pointer, "after"))


def _script(ctx: Context, body: dict[str, Any], pointer: str) -> ScriptProcess | None:
    allowed = {"language", "code", "source", "stdin", "arguments", "environment"}
    required = {"language": "the script's language: python or js"}
    ctx.keys(body, pointer, "a script", allowed, required)
    language = ctx.string(body, pointer, "language")
    if language is not None and language not in _LANGUAGES:
        ctx.warn(
            child(pointer, "language"), f"emitflow runs python and js scripts, not {language!r}"
        )
    ctx.string(body, pointer, "stdin")
    _arguments(ctx, body, pointer)
    environment = ctx.mapping_field(body, pointer, "environment") or {}
    kind = ctx.exactly_one(body, pointer, "a script", ("code", "source"))
    code = ctx.string(body, pointer, "code") if kind == "code" else None
    source = None
    if kind == "source":
        source = external_resource(ctx, body["source"], child(pointer, "source"))
    if language is None or (code is None and source is None):
        return None
    return ScriptProcess(
        language=language,
        code=code,
        source=source,
        arguments=body.get("arguments"),
        environment=environment,
        stdin=body.get("stdin"),
    )


def _shell(ctx: Context, body: dict[str, Any], pointer: str) -> ShellProcess | None:
    allowed = {"command", "stdin", "arguments", "environment"}
    ctx.keys(body, pointer, "a shell command", allowed, {"command": "the command line to run"})
    command = ctx.string(body, pointer, "command")
    ctx.string(body, pointer, "stdin")
    _arguments(ctx, body, pointer)
    environment = ctx.mapping_field(body, pointer, "environment") or {}
    if command is None:
        return None
    return ShellProcess(
        command=command,
        arguments=body.get("arguments"),
        environment=environment,
        stdin=body.get("stdin"),
    )


def _workflow(ctx: Context, body: dict[str, Any], pointer: str) -> SubflowProcess | None:
    required = {
        "namespace": "the namespace of the workflow to run",
        "name": "the name of the workflow to run",
        "version": "the version to run, e.g. '1.0.0' (or 'latest')",
    }
    ctx.keys(body, pointer, "a subflow", {*required, "input"}, required)
    names = {key: ctx.string(body, pointer, key) for key in required}
    subflow_input = ctx.mapping_field(body, pointer, "input")
    namespace, name, version = names["namespace"], names["name"], names["version"]
    if namespace is None or name is None or version is None:
        return None
    return SubflowProcess(namespace=namespace, name=name, version=version, input=subflow_input)


_BUILDERS: dict[str, Callable[[Context, dict[str, Any], str], object]] = {
    "container": _container,
    "script": _script,
    "shell": _shell,
    "workflow": _workflow,
}
