"""The ``emitflow`` command: thin commands that map one-to-one onto library calls.

Exit codes: 0 success; 1 the run faulted (the RFC 7807 error on stderr as JSON); 2 the document
or the arguments are invalid (a message naming the file, the place and the fix).
Every option also reads ``EMITFLOW_<OPTION>``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from emitflow.cli_client import register as register_client
from emitflow.cli_events import events_app, subscriptions_app
from emitflow.cli_server import register as register_server
from emitflow.errors import ConfigurationError, DocumentError, EmitflowError

__all__ = ["app", "main"]

app = typer.Typer(
    name="emitflow",
    help="Event-driven workflows: Serverless Workflow DSL 1.0 and Python code steps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(events_app)
app.add_typer(subscriptions_app)
register_server(app)
register_client(app, events_app)

EXIT_FAULTED = 1
EXIT_INVALID = 2


def _fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    typer.echo(f"emitflow: {message}", err=True)
    return typer.Exit(code)


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="A DSL document (.yaml/.yml/.json).")],
    input: Annotated[
        str | None,
        typer.Option("--input", envvar="EMITFLOW_INPUT", help="JSON, or @path to a JSON file."),
    ] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context", envvar="EMITFLOW_CONTEXT", help="Initial $context: JSON or @path."
        ),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", help="NAME=VALUE (repeatable); read as $secrets.NAME."),
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            "--secrets-file", envvar="EMITFLOW_SECRETS_FILE", help="A JSON or YAML map of secrets."
        ),
    ] = None,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            envvar="EMITFLOW_EVENTS",
            help="Append emitted events (JSON lines); - = stderr.",
        ),
    ] = None,
    trace: Annotated[
        str | None,
        typer.Option(
            "--trace",
            envvar="EMITFLOW_TRACE",
            help="Append lifecycle events (JSON lines); - = stderr.",
        ),
    ] = None,
    route: Annotated[
        list[str] | None,
        typer.Option(
            "--route",
            help="ORIGIN=TARGET (repeatable; also EMITFLOW_ROUTES, comma-separated).",
        ),
    ] = None,
) -> None:
    """Run one workflow to its end in this process and print its output as JSON."""
    from emitflow.run_file import RunRequest, run_file

    request = RunRequest(
        file=file,
        input=_json_arg("--input", input),
        context=_json_arg("--context", context),
        secret_pairs=tuple(secret or ()),
        secrets_file=secrets_file,
        events=events,
        trace=trace,
        routes=tuple(route or ()),
    )
    try:
        outcome = asyncio.run(run_file(request))
    except (DocumentError, ConfigurationError) as exc:
        raise _fail(str(exc)) from None
    except EmitflowError as exc:
        raise _fail(str(exc), EXIT_FAULTED) from None
    if outcome.error is not None:
        typer.echo(json.dumps(outcome.error, ensure_ascii=False), err=True)
        raise typer.Exit(EXIT_FAULTED)
    typer.echo(json.dumps(outcome.output, ensure_ascii=False))


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="DSL documents to check.")],
) -> None:
    """Check documents: exit 0 if all are valid (warnings on stderr), 2 otherwise."""
    from emitflow.dsl import load_workflow

    invalid = 0
    for path in files:
        try:
            workflow = load_workflow(path)
        except DocumentError as exc:
            invalid += 1
            typer.echo(exc.render(), err=True)
            continue
        for warning in workflow.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"{path}: valid ({workflow.qualified_name})", err=True)
    if invalid:
        raise typer.Exit(EXIT_INVALID)


def _json_arg(option: str, value: str | None) -> Any:
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{option} {value}: cannot read {path} ({exc.strerror})") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        where = value if value.startswith("@") else "the value"
        raise _fail(
            f'{option}: {where} is not valid JSON ({exc}); e.g. {option} \'{{"customerId": "c1"}}\''
        ) from None


def main() -> None:
    """Entry point of the ``emitflow`` command."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
