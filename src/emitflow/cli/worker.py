"""``emitflow worker``: executes runs and delivers events on a shared store, with no API.

Any number of workers and ``emitflow serve`` processes may share one PostgreSQL database; the
runtime's modules load when the command runs."""

from pathlib import Path
from typing import Annotated

import typer

from emitflow.cli.options import (
    EXIT_FAILED,
    BrokerOption,
    RouteOption,
    SecretOption,
    SecretsFileOption,
    StoreOption,
    fail,
)

__all__ = ["LeaseOption", "RescanOption", "worker"]

LeaseOption = Annotated[
    float,
    typer.Option(
        "--lease-seconds",
        envvar="EMITFLOW_LEASE_SECONDS",
        help="How long a process holds a run or an outbox row it claimed; a crashed "
        "process's runs resume elsewhere about this long after it died.",
    ),
]
RescanOption = Annotated[
    float,
    typer.Option(
        "--rescan-seconds",
        envvar="EMITFLOW_RESCAN_SECONDS",
        help="How often to look again for work that no change report announced.",
    ),
]


def worker(
    store: StoreOption = None,
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
    lease_seconds: LeaseOption = 10.0,
    rescan_seconds: RescanOption = 1.0,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            envvar="EMITFLOW_LOG_LEVEL",
            help="info: a line per run end; warning: problems only.",
        ),
    ] = "info",
) -> None:
    """Execute runs and deliver events on a shared store (postgresql://…), until SIGTERM."""
    import asyncio

    from emitflow.brokers.config import broker_specs
    from emitflow.cli.serve import _logging
    from emitflow.errors import ConfigurationError, EmitflowError
    from emitflow.runtime.broker_setup import from_options, load_config
    from emitflow.runtime.worker import WorkerOptions, run_worker
    from emitflow.secrets import load_secrets

    _logging(log_level)
    try:
        setup = from_options(broker_specs(broker or ()), source or ())
        if config is None and Path("emitflow.toml").is_file():
            config = Path("emitflow.toml")
        if config is not None:
            setup = load_config(config).merged(setup)
        options = WorkerOptions(
            store=store,
            secrets=load_secrets(secret or (), secrets_file),
            routes=tuple(route or ()),
            brokers=setup,
            lease_seconds=lease_seconds,
            rescan_seconds=rescan_seconds,
        )
        asyncio.run(run_worker(options))
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    except EmitflowError as exc:
        raise fail(str(exc), EXIT_FAILED) from None
