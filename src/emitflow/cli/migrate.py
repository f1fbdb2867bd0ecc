"""``emitflow migrate``: bring a store's schema up to date, explicitly (before starting the
processes of a new version). The store's modules load when the command runs."""

import typer

from emitflow.cli.options import EXIT_FAILED, StoreOption, fail

__all__ = ["migrate"]


def migrate(store: StoreOption = None) -> None:
    """Apply the store's pending migrations; print each one applied, or "up to date"."""
    import asyncio

    from emitflow.errors import ConfigurationError, EmitflowError
    from emitflow.runtime.settings import default_store_url
    from emitflow.store.factory import open_store

    async def applied() -> list[str]:
        opened = open_store(store or default_store_url())
        try:
            return await opened.migrate()
        finally:
            await opened.close()

    try:
        names = asyncio.run(applied())
    except ConfigurationError as exc:
        raise fail(str(exc)) from None
    except EmitflowError as exc:
        raise fail(str(exc), EXIT_FAILED) from None
    for name in names:
        typer.echo(f"applied {name}")
    if not names:
        typer.echo("up to date")
