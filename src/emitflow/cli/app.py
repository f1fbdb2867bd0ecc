"""The ``emitflow`` command: thin commands that map one-to-one onto library calls.

Every command lives in its own module and imports what it needs when it runs, so that
``emitflow --help`` loads typer and nothing of the runtime, the store, the API or httpx.
Exit codes: 0 success; 1 the run faulted, the server refused, or what was asked for does not
exist; 2 the document or the arguments are invalid. Every option also reads its
``EMITFLOW_<OPTION>`` variable (shown in ``--help``).
"""

import sys
from typing import Annotated

import typer

from emitflow.cli import (
    deploy,
    destinations,
    events,
    migrate,
    replay,
    run,
    runs,
    serve,
    subscriptions,
    tokens,
    validate,
    webhooks,
    worker,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="emitflow",
    help="Event-driven workflows: Serverless Workflow DSL 1.0 and Python code steps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from emitflow import __version__

        typer.echo(f"emitflow {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Event-driven workflows: Serverless Workflow DSL 1.0 and Python code steps."""


app.command("run")(run.run)
app.command("validate")(validate.validate)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("migrate")(migrate.migrate)
app.command("deploy")(deploy.deploy)
app.add_typer(events.app)
app.add_typer(subscriptions.app)
runs.app.command("replay")(replay.replay)
app.add_typer(runs.app)
app.add_typer(tokens.app)
app.add_typer(webhooks.app)
app.add_typer(destinations.app)


def main() -> None:
    """Entry point of the ``emitflow`` command."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
