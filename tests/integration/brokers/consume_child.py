"""A process that consumes one broker source into a store until it is killed (for the kill -9
test): ``python -m tests.integration.brokers.consume_child STORE NAME URL``."""

from __future__ import annotations

import asyncio
import sys

from emitflow.runtime.engine import Engine
from emitflow.runtime.settings import EngineSettings


async def main(store: str, name: str, url: str) -> None:
    async with Engine.open(store, settings=EngineSettings(timers=False)) as engine:
        await engine.start_source(name, url)
        print("consuming", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
