"""``emitflow serve``: the REST API, the dispatcher, the schedules and the code-step pool in
one process. The server's modules (FastAPI, uvicorn, the runtime) load when it runs."""

from pathlib import Path
from typing import Annotated

import typer

from emitflow.cli.options import (
    BrokerOption,
    RouteOption,
    SecretOption,
    SecretsFileOption,
    StoreOption,
    fail,
)
from emitflow.cli.worker import LeaseOption, RescanOption

__all__ = ["serve"]


def serve(
    host: Annotated[
        str, typer.Option("--host", envvar="EMITFLOW_HOST", help="The address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", envvar="EMITFLOW_PORT", help="0: any free port.")
    ] = 8080,
    store: StoreOption = None,
    workflows: Annotated[
        Path | None,
        typer.Option("--workflows", envvar="EMITFLOW_WORKFLOWS", help="Deploy a folder."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="EMITFLOW_TOKEN",
            help="Also accept this secret as an admin token.",
            show_default=False,
        ),
    ] = None,
    secret: SecretOption = None,
    secrets_file: SecretsFileOption = None,
    route: RouteOption = None,
    broker: BrokerOption = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            envvar="EMITFLOW_SOURCE",
            help="NAME=URL: consume a broker as the source dc_NAME.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="EMITFLOW_CONFIG",
            help="A TOML file of [[destinations]] and [[sources]] (default ./emitflow.toml "
            "when present).",
        ),
    ] = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            envvar="EMITFLOW_WORKER",
            help="--no-worker: API only, on a shared store (postgresql://…); runs are "
            "executed by emitflow worker processes.",
        ),
    ] = True,
    lease_seconds: LeaseOption = 10.0,
    rescan_seconds: RescanOption = 1.0,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            envvar="EMITFLOW_LOG_LEVEL",
            help="info: a line per request and per run end; warning: problems only.",
        ),
    ] = "info",
) -> None:
    """Serve the REST API, run the dispatcher, schedules and code steps, until SIGTERM."""
    import asyncio

    from emitflow.api.server import ServeOptions
    from emitflow.api.server import serve as run_server
    from emitflow.api.settings import ApiSettings
    from emitflow.brokers.config import broker_specs
    from emitflow.errors import EmitflowError
    from emitflow.runtime.broker_setup import from_options, load_config
    from emitflow.secrets import load_secrets

    _logging(log_level)
    try:
        setup = from_options(broker_specs(broker or ()), source or ())
        if config is None and Path("emitflow.toml").is_file():
            config = Path("emitflow.toml")
        if config is not None:
            setup = load_config(config).merged(setup)
        options = ServeOptions(
            host=host,
            port=port,
            store=store,
            workflows=workflows,
            api=ApiSettings(admin_token=token or None),
            secrets=load_secrets(secret or (), secrets_file),
            routes=tuple(route or ()),
            brokers=setup,
            worker=worker,
            lease_seconds=lease_seconds,
            rescan_seconds=rescan_seconds,
        )
        asyncio.run(run_server(options))
    except EmitflowError as exc:
        raise fail(str(exc)) from None


def _logging(level: str) -> None:
    import logging

    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise fail(f"--log-level {level!r}: use debug, info, warning or error")
    logging.basicConfig(level=number, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The libraries' own chatter stays at warning; emitflow's lines carry what matters.
    for name in ("httpx", "httpcore", "uvicorn.error", "asyncio"):
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
