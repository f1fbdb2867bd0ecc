"""``call``: http, openapi, and custom functions from ``use.functions``.

``http``: the endpoint is a URI, an RFC 6570 template filled from the transformed input's
top-level keys, or a ``${ }`` expression; headers, query, body and the authentication policy are
evaluated on the input (``$secrets`` available); the resolved credentials are ``$authorization``
for the output expressions. ``openapi``: the document (Swagger 2.0 or OpenAPI 3) is loaded once
per process, then the operation is called with the evaluated ``parameters``. A custom function
is a task (``use.functions``, or fetched from a URL or a catalog: ``engine.functions``): the
call's ``with`` (evaluated) becomes its input, and it runs with its own data flow under the
calling task's pointer. grpc, asyncapi, a2a and mcp are not supported yet and say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emitflow.dsl.model import (
    AuthenticationRef,
    AuthPolicy,
    CallTask,
    HttpArguments,
    OpenApiArguments,
    TaskItem,
)
from emitflow.errors import FaultError, Problem
from emitflow.runner.context import Frame
from emitflow.runner.dataflow import process
from emitflow.runner.evaluation import evaluate, render, truthy
from emitflow.runner.functions import resolve_function

if TYPE_CHECKING:
    # The HTTP layer (httpx) is imported by the calls that need it, not by every run.
    from emitflow.http.auth import Authorization

__all__ = ["authorization", "endpoint_uri", "run_call"]

_UNSUPPORTED = ("grpc", "asyncapi", "a2a", "mcp")


async def run_call(task: CallTask, data: Any, frame: Frame) -> Any:
    """Dispatch on what is called."""
    if task.http is not None:
        return await _http(task.http, data, frame)
    if task.openapi is not None:
        return await _openapi(task.openapi, data, frame)
    if task.call in _UNSUPPORTED:
        raise _configuration(frame, f"call: {task.call} is not supported yet", "Not Supported")
    return await _function(task, data, frame)


async def _http(args: HttpArguments, data: Any, frame: Frame) -> Any:
    from emitflow.http.call import perform

    run = frame.run
    uri = endpoint_uri(args.endpoint.uri, data, frame)
    auth = await authorization(args.endpoint.authentication, data, frame)
    method = render(args.method, data, frame)
    if not isinstance(method, str) or not method:
        raise _configuration(frame, f"the HTTP method must be a string, not {method!r:.60}")
    return await perform(
        run.client(),
        method=method,
        uri=uri,
        headers=_mapping(args.headers, "headers", data, frame),
        query=_mapping(args.query, "query", data, frame),
        body=render(args.body, data, frame) if args.body is not None else None,
        output=args.output,
        redirect=args.redirect,
        auth=auth,
    )


async def _openapi(args: OpenApiArguments, data: Any, frame: Frame) -> Any:
    from emitflow.http.openapi import call_operation, load_document

    run = frame.run
    source = endpoint_uri(args.document.endpoint.uri, data, frame, template=False)
    document_auth = await authorization(args.document.endpoint.authentication, data, frame)
    document = await load_document(
        run.client(), source, auth=document_auth, base_dir=run.base_dir()
    )
    parameters = render(args.parameters, data, frame)
    if not isinstance(parameters, dict):
        raise _configuration(frame, "the OpenAPI 'parameters' must give an object")
    auth = await authorization(args.authentication, data, frame)
    return await call_operation(
        run.client(),
        document,
        args.operation_id,
        parameters=parameters,
        output=args.output,
        redirect=args.redirect,
        auth=auth,
    )


async def _function(task: CallTask, data: Any, frame: Frame) -> Any:
    run = frame.run
    function = await resolve_function(task.call, data, frame)
    arguments = render(task.with_, data, frame)
    item = TaskItem(name=frame.item.name, reference=frame.where, task=function)
    inner = Frame(run, item, arguments, frame.scope)
    inner.entry = frame.entry
    if function.if_ is not None and not truthy(evaluate(function.if_, arguments, inner)):
        return arguments
    if function.catch is not None:
        output = await run.kinds.guard(function, inner)
    else:
        output = await process(function, inner)
    if inner.emits:
        frame.emits = [*(frame.emits or ()), *inner.emits]
    frame.authorization = inner.authorization
    return output


def endpoint_uri(uri: str, data: Any, frame: Frame, *, template: bool = True) -> str:
    """The endpoint's URI: an expression evaluated, or a template filled from the input's keys."""
    from emitflow.http.uritemplate import expand

    # A value position: ``${ }`` in strict mode, or any jq text in loose mode, is evaluated;
    # literal text comes back as the very same object.
    value: object = render(uri, data, frame)
    if value is not uri:
        if not isinstance(value, str) or not value:
            raise FaultError(
                Problem.of(
                    "expression",
                    title="Invalid Endpoint",
                    detail=f"{uri} must give a URI string, not {value!r:.80}",
                    instance=frame.where,
                )
            )
        return value
    if template and "{" in uri:
        return expand(uri, data)
    return uri


async def authorization(
    ref: AuthenticationRef | None, data: Any, frame: Frame
) -> Authorization | None:
    """Resolve an endpoint's authentication (inline, or a ``use.authentications`` name)."""
    if ref is None:
        return None
    run = frame.run
    policy: AuthPolicy | None = ref.policy
    if ref.use is not None:
        policy = run.workflow.use.authentications.get(ref.use)
        if policy is None:
            raise _configuration(
                frame, f"the authentication {ref.use!r} is not defined in use.authentications"
            )
    if policy is None:
        return None
    if policy.secret is not None:
        run.check_secrets((policy.secret,), frame.where)
        body: Any = {"use": policy.secret}
    else:
        body = render(policy.properties, data, frame)
    resolved = await run.authenticator().resolve(
        {policy.scheme: body}, secrets=run.policy_secrets()
    )
    frame.authorization = resolved.to_dict()
    return resolved


def _mapping(value: Any, what: str, data: Any, frame: Frame) -> dict[str, Any] | None:
    if value is None:
        return None
    rendered = render(value, data, frame)
    if rendered is None:
        return None
    if not isinstance(rendered, dict):
        raise _configuration(frame, f"the HTTP {what} must give an object, not {rendered!r:.60}")
    return rendered


def _configuration(frame: Frame, detail: str, title: str = "Invalid Call") -> FaultError:
    return FaultError(Problem.of("configuration", title=title, detail=detail, instance=frame.where))
