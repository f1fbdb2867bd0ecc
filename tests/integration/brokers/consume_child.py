"""A process that consumes one broker source into a store until it is killed (for the kill -9
test): ``python -m tests.integration.brokers.consume_child STORE NAME URL``."""

from __future__ import annotations

import asyncio
import sys

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings


async def main(store: str, name: str, url: str) -> None:
    # A short lease and rescan: the rows the killed process had claimed are taken over by
    # the next one after 2 s instead of the default 10 s (no assertion depends on the wait).
    settings = EngineSettings(timers=False, lease_seconds=2.0, rescan_seconds=0.2)
    async with Engine.open(store, settings=settings) as engine:
        await engine.start_source(name, url)
        print("consuming", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
