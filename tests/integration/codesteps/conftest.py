"""Real worker pools, one per test, under each isolation mode this machine offers.

``bwrap`` skips when bubblewrap is missing or does not work here, and fails instead under
``EMITFLOW_REQUIRE_SERVICES=1``. Pools are small (one worker) so that a test's follow-up step
goes through the worker that replaced a killed one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from emitflow.codesteps import CodeStepPool, PoolSettings, StepRequest, StepResult
from emitflow.errors import SandboxError
from tests.conftest import services_required

ISOLATIONS = ["bwrap", "rlimits"]


async def start_pool(isolation: str, **settings: Any) -> CodeStepPool:
    """A started one-worker pool, or a skip (a failure under CI) if bwrap does not work."""
    pool = CodeStepPool(PoolSettings(size=settings.pop("size", 1), isolation=isolation, **settings))
    try:
        await pool.start()
    except SandboxError as exc:
        if isolation != "bwrap":
            raise
        reason = f"bubblewrap is not usable here: {exc}"
        if services_required():
            pytest.fail(reason + "; EMITFLOW_REQUIRE_SERVICES=1 makes bwrap required")
        pytest.skip(reason)
    return pool


@pytest.fixture(params=ISOLATIONS)
def isolation(request: pytest.FixtureRequest) -> str:
    """Each isolation mode in turn."""
    return str(request.param)


@pytest_asyncio.fixture
async def pool(isolation: str) -> AsyncIterator[CodeStepPool]:
    """A one-worker pool in the test's isolation mode."""
    started = await start_pool(isolation)
    try:
        yield started
    finally:
        await started.close()


async def run(pool: CodeStepPool, code: str, **fields: Any) -> StepResult:
    """Run ``code`` as step 'greet'."""
    return await pool.run(StepRequest(step=fields.pop("step", "greet"), code=code, **fields))


async def assert_still_serving(pool: CodeStepPool) -> None:
    """The pool answers a trivial step after whatever the test did to it."""
    result = await run(pool, "def handler(pd):\n    return 'still here'\n", step="after")
    assert result.output == "still here"
