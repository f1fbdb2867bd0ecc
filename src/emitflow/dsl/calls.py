"""``call`` tasks: typed arguments for http and openapi, checked arguments for the other built-ins.

A call that is not a built-in is a custom function: a ``use.functions`` name, a URL to a
``function.yaml``, or ``name:version@catalog``; its ``with`` is free-form.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, cast

from emitflow.dsl.catalogs import catalog_function
from emitflow.dsl.context import Context, child, describe
from emitflow.dsl.endpoints import authentication_ref, endpoint, external_resource
from emitflow.dsl.model import HttpArguments, OpenApiArguments
from emitflow.dsl.values import duration
from emitflow.expressions import is_expression

__all__ = ["BUILTIN_CALLS", "call_fields"]

BUILTIN_CALLS = ("http", "openapi", "grpc", "asyncapi", "a2a", "mcp")
_OUTPUTS = ("content", "response", "raw")
_HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
_A2A_METHODS = (
    "message/send",
    "message/stream",
    "tasks/get",
    "tasks/list",
    "tasks/cancel",
    "tasks/resubscribe",
    "tasks/pushNotificationConfig/set",
    "tasks/pushNotificationConfig/get",
    "tasks/pushNotificationConfig/list",
    "tasks/pushNotificationConfig/delete",
    "agent/getAuthenticatedExtendedCard",
)
_MCP_METHODS = (
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
)
_PROTOCOLS = (
    "amqp",
    "amqp1",
    "anypointmq",
    "googlepubsub",
    "http",
    "ibmmq",
    "jms",
    "kafka",
    "mercure",
    "mqtt",
    "mqtt5",
    "nats",
    "pulsar",
    "redis",
    "sns",
    "solace",
    "sqs",
    "stomp",
    "ws",
)

_HOST = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-.]{0,61}[a-zA-Z0-9])?$")

#: Builds a ``listen``-style subscription iterator (lives with the task builders).
ForeachBuilder = Callable[[Context, Any, str], object]
Output = Literal["content", "response", "raw"]


def call_fields(
    ctx: Context, obj: dict[str, Any], pointer: str, iterator: ForeachBuilder
) -> dict[str, Any] | None:
    """The ``CallTask`` fields (``call``, ``with_``, ``http``, ``openapi``) of a task object."""
    name = obj.get("call")
    if not isinstance(name, str) or not name:
        found = describe(name)
        message = "'call' names what to call: http, openapi, grpc, asyncapi, a2a, mcp or a function"
        ctx.error(child(pointer, "call"), f"{message}; found {found}")
        return None
    here = child(pointer, "with")
    if name not in BUILTIN_CALLS:
        _function(ctx, name, child(pointer, "call"))
        args = ctx.mapping_field(obj, pointer, "with")
        return {"call": name, "with_": args or {}}
    if "with" not in obj:
        ctx.error(pointer, f"'with' is required in a '{name}' call: it holds the call's arguments")
        return None
    args = ctx.mapping(obj["with"], here, f"the '{name}' arguments")
    if args is None:
        return None
    fields: dict[str, Any] = {"call": name, "with_": args}
    if name == "http":
        fields["http"] = _http(ctx, args, here)
    elif name == "openapi":
        fields["openapi"] = _openapi(ctx, args, here)
    elif name == "asyncapi":
        _asyncapi(ctx, args, here, iterator)
    else:
        _OTHERS[name](ctx, args, here)
    return fields


def _function(ctx: Context, name: str, pointer: str) -> None:
    if "://" in name:
        return  # a function.yaml fetched from a URL
    cataloged = catalog_function(name)
    if cataloged is not None:
        if cataloged[2] != "default":
            ctx.refer("catalogs", cataloged[2], pointer)
        return
    if "@" in name:
        ctx.error(pointer, f"a catalog function is written 'name:version@catalog', found {name!r}")
        return
    ctx.refer("functions", name, pointer)


def _output(ctx: Context, args: dict[str, Any], pointer: str) -> Output:
    return cast(Output, ctx.choice(args, pointer, "output", _OUTPUTS, "content"))


def _http(ctx: Context, args: dict[str, Any], pointer: str) -> HttpArguments | None:
    allowed = {"method", "endpoint", "headers", "body", "query", "output", "redirect"}
    required = {
        "method": "the HTTP method, e.g. get or post",
        "endpoint": "the URI to call, e.g. https://example.com/api/orders",
    }
    ctx.keys(args, pointer, "'call: http' arguments", allowed, required)
    method = ctx.string(args, pointer, "method")
    if method is not None and not is_expression(method) and method.lower() not in _HTTP_METHODS:
        ctx.warn(child(pointer, "method"), f"'{method}' is not a standard HTTP method")
    for key in ("headers", "query"):
        if key in args and not is_expression(args[key]):
            ctx.string_map(args, pointer, key)
    output = _output(ctx, args, pointer)
    redirect = ctx.boolean(args, pointer, "redirect", False)
    where = (
        endpoint(ctx, args["endpoint"], child(pointer, "endpoint")) if "endpoint" in args else None
    )
    if method is None or where is None:
        return None
    return HttpArguments(
        method=method,
        endpoint=where,
        headers=args.get("headers"),
        query=args.get("query"),
        body=args.get("body"),
        output=output,
        redirect=redirect,
    )


def _openapi(ctx: Context, args: dict[str, Any], pointer: str) -> OpenApiArguments | None:
    allowed = {"document", "operationId", "parameters", "authentication", "output", "redirect"}
    required = {
        "document": "the OpenAPI document, e.g. document: {endpoint: https://host/openapi.json}",
        "operationId": "the id of the operation to call",
    }
    ctx.keys(args, pointer, "'call: openapi' arguments", allowed, required)
    operation = ctx.string(args, pointer, "operationId")
    parameters = ctx.mapping_field(args, pointer, "parameters") or {}
    auth = None
    if "authentication" in args:
        auth = authentication_ref(ctx, args["authentication"], child(pointer, "authentication"))
    output = _output(ctx, args, pointer)
    redirect = ctx.boolean(args, pointer, "redirect", False)
    document = None
    if "document" in args:
        document = external_resource(ctx, args["document"], child(pointer, "document"))
    if document is None or operation is None:
        return None
    return OpenApiArguments(
        document=document,
        operation_id=operation,
        parameters=parameters,
        authentication=auth,
        output=output,
        redirect=redirect,
    )


def _grpc(ctx: Context, args: dict[str, Any], pointer: str) -> None:
    required = {"proto": "the .proto resource", "service": "{name, host}", "method": ""}
    ctx.keys(args, pointer, "'call: grpc' arguments", {*required, "arguments"}, required)
    if "proto" in args:
        external_resource(ctx, args["proto"], child(pointer, "proto"))
    ctx.string(args, pointer, "method")
    ctx.mapping_field(args, pointer, "arguments")
    service = ctx.mapping_field(args, pointer, "service")
    if service is None:
        return
    here = child(pointer, "service")
    allowed = {"name", "host", "port", "authentication"}
    ctx.keys(service, here, "a gRPC service", allowed, ("name", "host"))
    ctx.string(service, here, "name")
    host = ctx.string(service, here, "host")
    if host is not None and not _HOST.match(host):
        ctx.error(
            child(here, "host"),
            f"'host' must be a host name such as 'grpc.example.com', found {host!r}",
        )
    ctx.integer(service, here, "port", minimum=0, maximum=65535)
    if "authentication" in service:
        authentication_ref(ctx, service["authentication"], child(here, "authentication"))


def _asyncapi(ctx: Context, args: dict[str, Any], pointer: str, iterator: ForeachBuilder) -> None:
    allowed = {"document", "channel", "operation", "server", "protocol", "message"}
    allowed |= {"subscription", "authentication"}
    ctx.keys(args, pointer, "'call: asyncapi' arguments", allowed, {"document": ""})
    if "document" in args:
        external_resource(ctx, args["document"], child(pointer, "document"))
    ctx.exactly_one(args, pointer, "'call: asyncapi'", ("operation", "channel"))
    ctx.exactly_one(args, pointer, "'call: asyncapi'", ("message", "subscription"))
    ctx.string(args, pointer, "operation")
    ctx.string(args, pointer, "channel")
    if "protocol" in args:
        ctx.choice(args, pointer, "protocol", _PROTOCOLS, "http")
    if "authentication" in args:
        authentication_ref(ctx, args["authentication"], child(pointer, "authentication"))
    server = ctx.mapping_field(args, pointer, "server")
    if server is not None:
        here = child(pointer, "server")
        ctx.keys(server, here, "an AsyncAPI server", {"name", "variables"}, ("name",))
        ctx.string(server, here, "name")
        ctx.mapping_field(server, here, "variables")
    message = ctx.mapping_field(args, pointer, "message")
    if message is not None:
        here = child(pointer, "message")
        ctx.keys(message, here, "an AsyncAPI message", {"payload", "headers"})
        ctx.mapping_field(message, here, "payload")
        ctx.mapping_field(message, here, "headers")
    subscription = ctx.mapping_field(args, pointer, "subscription")
    if subscription is not None:
        _subscription(ctx, subscription, child(pointer, "subscription"), iterator)


def _subscription(
    ctx: Context, obj: dict[str, Any], pointer: str, iterator: ForeachBuilder
) -> None:
    what = "an AsyncAPI subscription"
    ctx.keys(obj, pointer, what, {"filter", "consume", "foreach"}, {"consume": ""})
    text = ctx.string(obj, pointer, "filter")
    if text is not None:
        ctx.expression(child(pointer, "filter"), text)
    if "foreach" in obj:
        iterator(ctx, obj["foreach"], child(pointer, "foreach"))
    consume = ctx.mapping_field(obj, pointer, "consume")
    if consume is None:
        return
    here = child(pointer, "consume")
    ctx.keys(consume, here, "a consumption policy", {"amount", "while", "until", "for"})
    kind = ctx.exactly_one(consume, here, "a consumption policy", ("amount", "while", "until"))
    if kind == "amount":
        ctx.integer(consume, here, "amount")
    elif kind is not None:
        text = ctx.string(consume, here, kind)
        if text is not None:
            ctx.expression(child(here, kind), text)
    if "for" in consume:
        duration(ctx, consume["for"], child(here, "for"))


def _a2a(ctx: Context, args: dict[str, Any], pointer: str) -> None:
    allowed = {"agentCard", "server", "method", "parameters"}
    ctx.keys(args, pointer, "'call: a2a' arguments", allowed, {"method": "an A2A method"})
    if "method" in args:
        ctx.choice(args, pointer, "method", _A2A_METHODS, "message/send")
    if "agentCard" in args:
        external_resource(ctx, args["agentCard"], child(pointer, "agentCard"))
    if "server" in args:
        endpoint(ctx, args["server"], child(pointer, "server"))
    _parameters(ctx, args, pointer, non_empty=True)


def _parameters(ctx: Context, args: dict[str, Any], pointer: str, *, non_empty: bool) -> None:
    value = args.get("parameters")
    here = child(pointer, "parameters")
    if "parameters" not in args or isinstance(value, str):
        return
    if not isinstance(value, dict):
        ctx.error(here, f"'parameters' is an object or a string, found {describe(value)}")
    elif non_empty and not value:
        ctx.error(here, "'parameters' needs at least one entry (or leave it out)")


def _mcp(ctx: Context, args: dict[str, Any], pointer: str) -> None:
    allowed = {"protocolVersion", "method", "parameters", "timeout", "transport", "client"}
    required = {"method": "an MCP method such as tools/call", "transport": "{http} or {stdio}"}
    ctx.keys(args, pointer, "'call: mcp' arguments", allowed, required)
    ctx.string(args, pointer, "protocolVersion")
    if "method" in args:
        ctx.choice(args, pointer, "method", _MCP_METHODS, "tools/list")
    _parameters(ctx, args, pointer, non_empty=False)
    if "timeout" in args:
        duration(ctx, args["timeout"], child(pointer, "timeout"))
    client = ctx.mapping_field(args, pointer, "client")
    if client is not None:
        here = child(pointer, "client")
        ctx.keys(client, here, "an MCP client", {"name", "version"}, ("name", "version"))
        ctx.string(client, here, "name")
        ctx.string(client, here, "version")
    transport = ctx.mapping_field(args, pointer, "transport")
    if transport is not None:
        _transport(ctx, transport, child(pointer, "transport"))


def _transport(ctx: Context, obj: dict[str, Any], pointer: str) -> None:
    ctx.keys(obj, pointer, "an MCP transport", {"http", "stdio", "options"})
    ctx.string_map(obj, pointer, "options")
    kind = ctx.exactly_one(obj, pointer, "an MCP transport", ("http", "stdio"))
    body = ctx.mapping_field(obj, pointer, kind) if kind else None
    if body is None:
        return
    here = child(pointer, cast(str, kind))
    if kind == "http":
        ctx.keys(body, here, "an MCP HTTP transport", {"endpoint", "headers"}, ("endpoint",))
        if "endpoint" in body:
            endpoint(ctx, body["endpoint"], child(here, "endpoint"))
        ctx.string_map(body, here, "headers")
        return
    allowed = {"command", "arguments", "environment"}
    ctx.keys(body, here, "an MCP stdio transport", allowed, ("command",))
    ctx.string(body, here, "command")
    ctx.strings(body, here, "arguments")
    ctx.string_map(body, here, "environment")


_OTHERS: dict[str, Callable[[Context, dict[str, Any], str], None]] = {
    "grpc": _grpc,
    "a2a": _a2a,
    "mcp": _mcp,
}
