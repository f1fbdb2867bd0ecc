"""``emitflow run``: one workflow to its end in this process, its output printed as JSON.

Exit codes: 0 the run completed; 1 it faulted (the RFC 7807 error on stderr as JSON); 2 the
document or the arguments are invalid (a message naming the file, the place and the fix).
"""

from pathlib import Path
from typing import Annotated

import typer

from emitflow.cli.options import EXIT_FAILED, fail, json_arg

__all__ = ["run"]


def run(
    file: Annotated[Path, typer.Argument(help="A DSL document (.yaml/.yml/.json) or a .py file.")],
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
        typer.Option(
            "--secret",
            envvar="EMITFLOW_SECRET",
            help="NAME=VALUE (repeatable); read as $secrets.NAME.",
        ),
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
            envvar="EMITFLOW_ROUTE",
            help="ORIGIN=TARGET (repeatable; also EMITFLOW_ROUTES, comma-separated).",
        ),
    ] = None,
    broker: Annotated[
        list[str] | None,
        typer.Option(
            "--broker",
            envvar="EMITFLOW_BROKER",
            help="Publish every emitted event to this broker URL (repeatable; also "
            "EMITFLOW_BROKERS). ?types=GLOB,...&channel=NAME narrows it.",
        ),
    ] = None,
) -> None:
    """Run one workflow to its end in this process and print its output as JSON."""
    import asyncio
    import json

    from emitflow.errors import BrokerError, ConfigurationError, DocumentError, EmitflowError
    from emitflow.run_file import RunRequest, run_file

    request = RunRequest(
        file=file,
        input=json_arg("--input", input),
        context=json_arg("--context", context),
        secret_pairs=tuple(secret or ()),
        secrets_file=secrets_file,
        events=events,
        trace=trace,
        routes=tuple(route or ()),
        brokers=tuple(broker or ()),
    )
    try:
        outcome = asyncio.run(run_file(request))
    except (DocumentError, ConfigurationError, BrokerError) as exc:
        # A broker that cannot be reached at start is a setup problem, like a bad argument.
        raise fail(str(exc)) from None
    except EmitflowError as exc:
        raise fail(str(exc), EXIT_FAILED) from None
    for warning in outcome.warnings:
        typer.echo(f"emitflow: {warning}", err=True)
    if outcome.error is not None:
        typer.echo(json.dumps(outcome.error, ensure_ascii=False), err=True)
        raise typer.Exit(EXIT_FAILED)
    typer.echo(json.dumps(outcome.output, ensure_ascii=False))
