"""``emitflow run``: one workflow to its end in this process, its output printed as JSON.

Exit codes: 0 the run completed; 1 it faulted (the RFC 7807 error on stderr as JSON); 2 the
document or the arguments are invalid (a message naming the file, the place and the fix).
"""

from pathlib import Path
from typing import Annotated

import typer

from emitflow.cli.options import (
    EXIT_FAILED,
    BrokerOption,
    RouteOption,
    SecretOption,
    SecretsFileOption,
    fail,
    json_arg,
)

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
    secret: SecretOption = None,
    secrets_file: SecretsFileOption = None,
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
    route: RouteOption = None,
    broker: BrokerOption = None,
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
