"""What every ``emitflow`` command shares: its options (each with its ``EMITFLOW_*`` variable),
exit codes and the one-line error.

Only ``typer`` is imported here: the modules that serve a command load when it runs.
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "EXIT_FAILED",
    "EXIT_INVALID",
    "BrokerOption",
    "JsonOption",
    "RouteOption",
    "SecretOption",
    "SecretsFileOption",
    "ServerOption",
    "StoreOption",
    "TokenOption",
    "WideOption",
    "fail",
    "json_arg",
    "print_json",
]

#: The run faulted, the server answered an error, or what was asked for does not exist.
EXIT_FAILED = 1
#: The document or the arguments are invalid.
EXIT_INVALID = 2

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="EMITFLOW_SERVER",
        help="A server URL; without it, commands work on the local store.",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="EMITFLOW_TOKEN",
        help="The API token for --server.",
        show_default=False,
        show_envvar=True,
    ),
]
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="EMITFLOW_STORE",
        help="Store URL (default sqlite:///$EMITFLOW_HOME/emitflow.db).",
        show_default=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", envvar="EMITFLOW_JSON", help="Print JSON for scripts.")
]
SecretOption = Annotated[
    list[str] | None,
    typer.Option(
        "--secret",
        envvar="EMITFLOW_SECRET",
        help="NAME=VALUE (repeatable); read as $secrets.NAME.",
    ),
]
SecretsFileOption = Annotated[
    Path | None,
    typer.Option(
        "--secrets-file", envvar="EMITFLOW_SECRETS_FILE", help="A JSON or YAML map of secrets."
    ),
]
RouteOption = Annotated[
    list[str] | None,
    typer.Option(
        "--route",
        envvar="EMITFLOW_ROUTE",
        help="ORIGIN=TARGET (repeatable; also EMITFLOW_ROUTES, comma-separated).",
    ),
]
BrokerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--broker",
        envvar="EMITFLOW_BROKER",
        help="Publish every emitted event to this broker URL (repeatable; also "
        "EMITFLOW_BROKERS). ?types=GLOB,...&channel=NAME narrows it.",
    ),
]
WideOption = Annotated[
    bool,
    typer.Option("--wide", envvar="EMITFLOW_WIDE", help="Full ids and values; wider than 80."),
]


def fail(message: str, code: int = EXIT_INVALID) -> typer.Exit:
    """Print ``emitflow: message`` on stderr; the exit to raise."""
    typer.echo(f"emitflow: {message}", err=True)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    """Indented JSON on stdout."""
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def json_arg(option: str, value: str | None) -> Any:
    """The JSON of an option given inline or as ``@path``; exit 2 naming the problem."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise fail(f"{option} {value}: cannot read {path} ({exc.strerror})") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        where = value if value.startswith("@") else "the value"
        raise fail(
            f'{option}: {where} is not valid JSON ({exc}); e.g. {option} \'{{"customerId": "c1"}}\''
        ) from None
